#include "passes/quantize/calib_file.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "ir/strings.h"
#include "passes/core/utils.h"
#include "passes/quantize/calib_file_json.h"
#include "passes/quantize/json.h"

namespace onnx_opt {

using namespace calib_json;  // NOLINT(google-build-using-namespace): the JSON vocabulary

struct CalibFile::Index {
  struct Array {
    int64_t offset = 0, bytes = 0;
    bool packed = false;  // symmetric [K, K] stored as its lower triangle, row by row
    bool f32 = false;     // float32 values, else float64
    std::vector<int64_t> shape;
  };
  Struct root;
  int64_t data_start = 0;
  std::vector<Array> arrays;
  std::map<WeightKey, const Struct*> weights;  // -> the weight's entry
};

namespace {

constexpr size_t kMagicSize = 8;

// Reads `count` values stored as float32 (`f32`) or float64 at `offset` into `values`.
template <typename T>
bool ReadArray(std::ifstream& in, int64_t offset, int64_t count, bool f32, std::vector<T>& values) {
  values.resize(count);
  in.seekg(offset);
  if (f32 == std::is_same_v<T, float>) {
    in.read(reinterpret_cast<char*>(values.data()), count * static_cast<int64_t>(sizeof(T)));
    return static_cast<bool>(in);
  }
  // The other width: converted in chunks (no second copy of a large array).
  constexpr int64_t kChunk = 1 << 16;
  std::vector<char> buffer(kChunk * (f32 ? 4 : 8));
  for (int64_t at = 0; at < count; at += kChunk) {
    const int64_t n = std::min(kChunk, count - at);
    in.read(buffer.data(), n * (f32 ? 4 : 8));
    if (!in) return false;
    for (int64_t i = 0; i < n; ++i) {
      if (f32) {
        float v;
        std::memcpy(&v, buffer.data() + 4 * i, 4);
        values[at + i] = static_cast<T>(v);
      } else {
        double v;
        std::memcpy(&v, buffer.data() + 8 * i, 8);
        values[at + i] = static_cast<T>(v);
      }
    }
  }
  return true;
}

}  // namespace

bool IsCalibFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[kMagicSize] = {};
  in.read(magic, kMagicSize);
  return in.gcount() == static_cast<std::streamsize>(kMagicSize) &&
         std::memcmp(magic, kCalibMagic, kMagicSize) == 0;
}

std::string TensorSha256(const Tensor& tensor) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const auto& bytes = tensor.bytes();
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

std::vector<std::string> DescribeUses(const std::vector<WeightUse>& uses) {
  std::vector<std::string> out;
  for (const WeightUse& use : uses) {
    const Value* output = use.node->outputs().empty() ? nullptr : use.node->output(0);
    out.push_back(absl::StrCat(output ? output->name() : use.node->name, "#", use.input_index));
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status VerifyCalibFileModel(const std::string& path, Model& model) {
  if (path.empty() || !IsCalibFile(path)) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(path);
  if (!file.ok()) return file.status();
  return (*file)->VerifyModel(model);
}

absl::StatusOr<SensitivityTable> LoadSensitivityTable(const std::string& path) {
  if (!IsCalibFile(path)) return SensitivityTable::Load(path);
  absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> json = (*file)->SensitivityJson();
  if (!json.ok()) return json.status();
  return SensitivityTable::Parse(*json, path);
}

CalibFile::~CalibFile() = default;

absl::StatusOr<std::unique_ptr<CalibFile>> CalibFile::Open(const std::string& path) {
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("calibration file ", path, ": ", parts...));
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("calibration file ", path, ": cannot open"));
  char head[kMagicSize + 8];
  in.read(head, sizeof(head));
  if (in.gcount() != sizeof(head) || std::memcmp(head, kCalibMagic, kMagicSize) != 0) {
    return error("not a .calib file (no OOCALIB1 magic)");
  }
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(head[8 + i]);
  const uint64_t size = std::filesystem::file_size(path);
  if (length > size - sizeof(head)) return error("index length ", length, " exceeds the file");
  std::string text(length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(length));
  auto file = std::unique_ptr<CalibFile>(new CalibFile());
  file->path_ = path;
  file->index_ = std::make_unique<Index>();
  Index& index = *file->index_;
  index.data_start = static_cast<int64_t>(sizeof(head) + length);
  absl::StatusOr<JsonValue> root = ParseJsonValue(text, "index");
  if (!root.ok()) return error(root.status().message());
  if (!root->has_struct_value()) return error("index is not a JSON object");
  index.root = std::move(*root->mutable_struct_value());
  if (StringField(index.root, "format") != kCalibFormat) {
    return error("\"format\" must be \"", kCalibFormat, "\"");
  }
  const int64_t data_bytes = static_cast<int64_t>(size) - index.data_start;
  if (const JsonValue* arrays = Field(index.root, "arrays"); arrays && arrays->has_list_value()) {
    for (const JsonValue& a : arrays->list_value().values()) {
      Index::Array array;
      array.offset = IntField(a.struct_value(), "offset");
      array.bytes = IntField(a.struct_value(), "bytes");
      array.packed = StringField(a.struct_value(), "layout") == "symmetric-packed-lower";
      array.shape = ListField<int64_t>(a.struct_value(), "shape");
      const std::string dtype = StringField(a.struct_value(), "dtype");
      array.f32 = dtype == "F32";
      if ((dtype != "F64" && !array.f32) || array.offset < 0 || array.bytes < 0 ||
          array.offset + array.bytes > data_bytes) {
        return error("array ", index.arrays.size(), " is not F32 or F64 or lies outside the file");
      }
      index.arrays.push_back(std::move(array));
    }
  }
  if (const JsonValue* weights = Field(index.root, "weights");
      weights && weights->has_list_value()) {
    for (const JsonValue& w : weights->list_value().values()) {
      index.weights[WeightKey{StringField(w.struct_value(), "graph"),
                              StringField(w.struct_value(), "name")}] = &w.struct_value();
    }
  }
  return file;
}

namespace {
// Why the file's weight `entry` is not `tensor` (null: absent), or empty when it is.
std::string WeightMismatch(const Struct& entry, const Tensor* tensor) {
  const std::string name = StringField(entry, "name");
  const std::vector<int64_t> shape = ListField<int64_t>(entry, "shape");
  if (tensor == nullptr) return absl::StrCat("weight '", name, "' is not in this model");
  if (tensor->dims() != shape) {
    return absl::StrCat("weight '", name, "' is ", FormatDims(tensor->dims()), " here, ",
                        FormatDims(shape), " in the file");
  }
  if (TensorSha256(*tensor) != StringField(entry, "sha256")) {
    return absl::StrCat("weight '", name, "' holds other values (SHA-256 differs)");
  }
  return "";
}
}  // namespace

absl::Status CalibFile::VerifyWeight(const WeightKey& key, const Tensor& tensor) const {
  auto it = index_->weights.find(key);
  if (it == index_->weights.end()) return absl::OkStatus();
  const std::string why = WeightMismatch(*it->second, &tensor);
  if (why.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("calibration file ", path_,
                                                    " was measured on another model: ", why,
                                                    "; rerun onnx-opt-calibrate on this model"));
}

absl::Status CalibFile::VerifyModel(Model& model) const {
  std::map<WeightKey, const Value*> constants;  // -> the weight's value in `model`
  model.WalkGraphs([&](Graph& graph) {
    for (Value* v : GraphConstants(graph)) constants[KeyOf(graph, *v)] = v;
  });
  std::string first;
  int mismatches = 0;
  for (const auto& [key, entry] : index_->weights) {
    auto it = constants.find(key);
    TensorPtr tensor = it == constants.end() ? nullptr : GetConstantTensor(it->second);
    const std::string why = WeightMismatch(*entry, tensor.get());
    if (why.empty()) continue;
    if (mismatches++ == 0) first = why;
  }
  if (mismatches == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "calibration file ", path_, " was measured on another model: ", first,
      mismatches > 1 ? absl::StrCat(" (and ", mismatches - 1, " more)") : std::string(),
      "; rerun onnx-opt-calibrate on this model"));
}

absl::StatusOr<std::optional<LayerHessians>> CalibFile::Hessians(const WeightKey& weight,
                                                                 const std::vector<WeightUse>& uses,
                                                                 std::string* why_not) const {
  auto it = index_->weights.find(weight);
  if (it == index_->weights.end()) {
    *why_not = absl::StrCat("not in calibration file ", path_);
    return std::nullopt;
  }
  const Struct& entry = *it->second;
  const JsonValue* h = Field(entry, "hessians");
  if (h == nullptr || !h->has_struct_value()) {
    *why_not = absl::StrCat("no calibration data: ", StringField(entry, "no_data"));
    return std::nullopt;
  }
  if (ListField<std::string>(entry, "uses") != DescribeUses(uses)) {
    *why_not = absl::StrCat("the calibration file measured the uses ",
                            absl::StrJoin(ListField<std::string>(entry, "uses"), ", "),
                            ", this run quantizes for ", absl::StrJoin(DescribeUses(uses), ", "));
    return std::nullopt;
  }
  absl::StatusOr<std::optional<PackedLayerHessians>> stored = StoredHessians(weight);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::nullopt;
  return (*stored)->Unpack();
}

absl::StatusOr<std::optional<PackedLayerHessians>> CalibFile::StoredHessians(
    const WeightKey& key) const {
  auto it = index_->weights.find(key);
  if (it == index_->weights.end()) return std::nullopt;
  const Struct& entry = *it->second;
  const JsonValue* h = Field(entry, "hessians");
  if (h == nullptr || !h->has_struct_value()) return std::nullopt;
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("calibration file ", path_, ": weight '",
                                                   StringField(entry, "name"), "': ", parts...));
  };
  std::ifstream in(path_, std::ios::binary);
  if (!in) return error("cannot reopen the file");
  const Struct& hs = h->struct_value();
  const int64_t k = IntField(hs, "k");
  if (k < 1 || k > (1 << 20)) return error("\"k\" must be an integer in [1, 2^20]");
  auto read = [&]<typename T>(int64_t id, int64_t elements,
                              std::vector<T>& values) -> absl::Status {
    if (id < 0 || id >= static_cast<int64_t>(index_->arrays.size())) return error("bad array ", id);
    const Index::Array& a = index_->arrays[id];
    if (a.bytes != elements * (a.f32 ? 4 : 8)) {
      return error("array ", id, " has ", a.bytes, " bytes, not ", elements, " values");
    }
    if (!ReadArray(in, index_->data_start + a.offset, elements, a.f32, values)) {
      return error("array ", id, " cannot be read");
    }
    return absl::OkStatus();
  };
  auto read_hessians = [&](const char* field) -> absl::StatusOr<std::vector<PackedHessian>> {
    std::vector<PackedHessian> out;
    for (int64_t id : ListField<int64_t>(hs, field)) {
      PackedHessian m{k, {}};
      if (absl::Status s = read(id, k * (k + 1) / 2, m.lower); !s.ok()) return s;
      out.push_back(std::move(m));
    }
    return out;
  };
  PackedLayerHessians result;
  absl::StatusOr<std::vector<PackedHessian>> total = read_hessians("hessian");
  if (!total.ok()) return total.status();
  absl::StatusOr<std::vector<PackedHessian>> held_out = read_hessians("held_out");
  if (!held_out.ok()) return held_out.status();
  result.hessians = *std::move(total);
  result.held_out = *std::move(held_out);
  for (int64_t id : ListField<int64_t>(hs, "input_mean")) {
    std::vector<double> mean;
    if (absl::Status s = read(id, k, mean); !s.ok()) return s;
    result.input_means.push_back(std::move(mean));
  }
  const int64_t groups = static_cast<int64_t>(result.hessians.size());
  if (groups < 1 ||
      (!result.held_out.empty() && result.held_out.size() != result.hessians.size()) ||
      result.input_means.size() != result.hessians.size()) {
    return error("Hessians, held-out parts and input means do not match per group");
  }
  result.samples = IntField(hs, "samples");
  result.positions = IntField(hs, "positions");
  const std::vector<int64_t> shape = ListField<int64_t>(entry, "shape");
  if (groups > 1) {
    if (shape.empty() || shape[0] < groups || shape[0] > (1 << 26) || shape[0] % groups != 0) {
      return error("groups do not divide the rows");
    }
    for (int64_t m = 0; m < shape[0]; ++m) {
      result.row_hessian.push_back(static_cast<int32_t>(m / (shape[0] / groups)));
    }
  }
  return result;
}

absl::StatusOr<std::string> CalibFile::SensitivityJson() const {
  const JsonValue* s = Field(index_->root, "sensitivity");
  if (s == nullptr || !s->has_struct_value()) {
    return absl::NotFoundError(absl::StrCat(
        "calibration file ", path_,
        " holds no sensitivities; make it with onnx-opt-calibrate --what ...,sensitivity"));
  }
  std::string text;
  if (auto st = google::protobuf::util::MessageToJsonString(*s, &text); !st.ok()) {
    return absl::InternalError(OneLine(st.message()));
  }
  return text;
}

absl::StatusOr<CalibContents> CalibFile::ReadTensors() const {
  CalibContents c;
  const Struct& root = index_->root;
  c.producer = StringField(root, "producer");
  c.statistics = ListField<std::string>(root, "statistics");
  if (const JsonValue* model = Field(root, "model"); model && model->has_struct_value()) {
    c.model = StringField(model->struct_value(), "file");
    if (const JsonValue* in = Field(model->struct_value(), "inputs"); in && in->has_list_value()) {
      for (const JsonValue& v : in->list_value().values()) {
        c.inputs.push_back({StringField(v.struct_value(), "name"),
                            StringField(v.struct_value(), "type"),
                            ListField<std::string>(v.struct_value(), "shape")});
      }
    }
  }
  if (const JsonValue* s = Field(root, "samples"); s && s->has_struct_value()) {
    c.samples = static_cast<int64_t>(NumberField(s->struct_value(), "count"));
  }
  std::ifstream in(path_, std::ios::binary);
  if (const JsonValue* t = Field(root, "tensors"); t && t->has_list_value()) {
    for (const JsonValue& v : t->list_value().values()) {
      const Struct& e = v.struct_value();
      CalibTensorStats s;
      s.name = StringField(e, "name");
      s.type = StringField(e, "type");
      s.shape = ListField<int64_t>(e, "shape");
      s.min = NumberField(e, "min");
      s.max = NumberField(e, "max");
      s.count = IntField(e, "count");
      s.non_finite = IntField(e, "non_finite");
      if (const JsonValue* h = Field(e, "histogram"); h && h->has_struct_value()) {
        s.histogram_range = NumberField(h->struct_value(), "range");
        const int64_t id = IntField(h->struct_value(), "array");
        if (id < 0 || id >= static_cast<int64_t>(index_->arrays.size())) {
          return absl::InvalidArgumentError(
              absl::StrCat("calibration file ", path_, ": tensor '", s.name, "': bad array"));
        }
        const Index::Array& a = index_->arrays[id];
        if (!ReadArray(in, index_->data_start + a.offset, a.bytes / (a.f32 ? 4 : 8), a.f32,
                       s.histogram)) {
          return absl::InvalidArgumentError(absl::StrCat("calibration file ", path_, ": tensor '",
                                                         s.name, "': histogram cannot be read"));
        }
      }
      c.tensors.push_back(std::move(s));
    }
  }
  if (const JsonValue* n = Field(root, "layer_noise"); n && n->has_struct_value()) {
    if (const JsonValue* l = Field(n->struct_value(), "layers"); l && l->has_list_value()) {
      for (const JsonValue& v : l->list_value().values()) {
        CalibLayerNoise row{StringField(v.struct_value(), "node"),
                            StringField(v.struct_value(), "op"),
                            NumberField(v.struct_value(), "output_noise")};
        const JsonValue* noise = Field(v.struct_value(), "output_noise");
        if (row.node.empty() || noise == nullptr || !noise->has_number_value() ||
            !std::isfinite(row.output_noise) || row.output_noise < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("calibration file ", path_, ": layer_noise of node '", row.node,
                           "': needs a node name and a finite output_noise >= 0"));
        }
        c.layer_noise.push_back(std::move(row));
      }
    }
  }
  if (const JsonValue* p = Field(root, "plan_speed"); p && p->has_struct_value()) {
    const auto& fields = p->struct_value();
    const JsonValue* speedup = Field(fields, "speedup");
    const JsonValue* nodes = Field(fields, "integer_nodes");
    // A null speed-up: the plan had no integer node, nothing was timed.
    if (speedup != nullptr && speedup->has_number_value()) {
      CalibPlanSpeed plan{{},
                          NumberField(fields, "fp32_ms"),
                          NumberField(fields, "integer_ms"),
                          speedup->number_value()};
      if (nodes == nullptr || !nodes->has_list_value() || !std::isfinite(plan.speedup) ||
          plan.speedup <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("calibration file ", path_,
                         ": plan_speed needs integer_nodes and a finite speedup > 0"));
      }
      for (const JsonValue& v : nodes->list_value().values()) {
        plan.integer_nodes.push_back(v.string_value());
      }
      std::sort(plan.integer_nodes.begin(), plan.integer_nodes.end());
      c.plan_speed = std::move(plan);
    }
  }
  if (absl::StatusOr<std::string> s = SensitivityJson(); s.ok()) c.sensitivity_json = *s;
  return c;
}

absl::StatusOr<CalibContents> CalibFile::ReadAll() const {
  absl::StatusOr<CalibContents> c = ReadTensors();
  if (!c.ok()) return c.status();
  for (const auto& [key, entry] : index_->weights) {
    CalibWeight w;
    w.graph = StringField(*entry, "graph");
    w.name = StringField(*entry, "name");
    w.type = StringField(*entry, "type");
    w.shape = ListField<int64_t>(*entry, "shape");
    w.sha256 = StringField(*entry, "sha256");
    w.uses = ListField<std::string>(*entry, "uses");
    w.no_data = StringField(*entry, "no_data");
    absl::StatusOr<std::optional<PackedLayerHessians>> h = StoredHessians(key);
    if (!h.ok()) return h.status();
    w.hessians = *std::move(h);
    c->weights.push_back(std::move(w));
  }
  return c;
}

}  // namespace onnx_opt
