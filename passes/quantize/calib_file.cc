#include "passes/quantize/calib_file.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "ir/strings.h"
#include "passes/core/utils.h"
#include "passes/quantize/json.h"

namespace onnx_opt {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using JsonValue = google::protobuf::Value;

struct CalibFile::Index {
  struct Array {
    int64_t offset = 0, bytes = 0;
    bool packed = false;  // symmetric [K, K] stored as its lower triangle, row by row
    std::vector<int64_t> shape;
  };
  Struct root;
  int64_t data_start = 0;
  std::vector<Array> arrays;
  std::map<WeightKey, const Struct*> weights;  // -> the weight's entry
};

namespace {

constexpr size_t kMagicSize = 8;

template <typename Text>
std::string OneLine(const Text& text) {
  std::string s(text.data(), text.size());
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

JsonValue Text(const std::string& s) {
  JsonValue v;
  v.set_string_value(s);
  return v;
}
JsonValue Number(double d) {
  JsonValue v;
  v.set_number_value(d);
  return v;
}
template <typename T>
JsonValue List(const std::vector<T>& items) {
  JsonValue v;
  ListValue* list = v.mutable_list_value();
  for (const T& item : items) {
    if constexpr (std::is_same_v<T, std::string>) {
      *list->add_values() = Text(item);
    } else {
      *list->add_values() = Number(static_cast<double>(item));
    }
  }
  return v;
}

// Collects the arrays of the data section while the index is built.
class ArrayTable {
 public:
  // Adds `values` (float64) and returns its id.
  int Add(std::vector<double> values, std::vector<int64_t> shape, bool packed) {
    Struct entry;
    (*entry.mutable_fields())["dtype"] = Text("F64");
    (*entry.mutable_fields())["layout"] = Text(packed ? "symmetric-packed-lower" : "dense");
    (*entry.mutable_fields())["shape"] = List(shape);
    (*entry.mutable_fields())["offset"] = Number(static_cast<double>(bytes_));
    (*entry.mutable_fields())["bytes"] = Number(static_cast<double>(values.size() * 8));
    bytes_ += static_cast<int64_t>(values.size() * 8);
    *table_.mutable_list_value()->add_values()->mutable_struct_value() = std::move(entry);
    data_.push_back(std::move(values));
    return static_cast<int>(data_.size() - 1);
  }
  int AddHessian(const quant::Hessian& h) {
    std::vector<double> packed;
    packed.reserve(h.dim * (h.dim + 1) / 2);
    for (int64_t i = 0; i < h.dim; ++i) {
      for (int64_t j = 0; j <= i; ++j) packed.push_back(h.values[i * h.dim + j]);
    }
    return Add(std::move(packed), {h.dim, h.dim}, true);
  }
  JsonValue& table() { return table_; }
  const std::vector<std::vector<double>>& data() const { return data_; }

 private:
  JsonValue table_ = [] {
    JsonValue v;
    v.mutable_list_value();
    return v;
  }();
  std::vector<std::vector<double>> data_;
  int64_t bytes_ = 0;
};

JsonValue HessianEntry(const LayerHessians& h, ArrayTable& arrays) {
  Struct e;
  auto& f = *e.mutable_fields();
  f["groups"] = Number(static_cast<double>(h.hessians.size()));
  f["k"] = Number(h.hessians.empty() ? 0 : static_cast<double>(h.hessians[0].dim));
  f["samples"] = Number(static_cast<double>(h.samples));
  f["positions"] = Number(static_cast<double>(h.positions));
  std::vector<int> total, held_out, means;
  for (const quant::Hessian& g : h.hessians) total.push_back(arrays.AddHessian(g));
  for (const quant::Hessian& g : h.held_out) held_out.push_back(arrays.AddHessian(g));
  for (const std::vector<double>& m : h.input_means) {
    means.push_back(arrays.Add(m, {static_cast<int64_t>(m.size())}, false));
  }
  f["hessian"] = List(total);
  f["held_out"] = List(held_out);
  f["input_mean"] = List(means);
  JsonValue v;
  *v.mutable_struct_value() = std::move(e);
  return v;
}

const JsonValue* Field(const Struct& s, const char* name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}
std::string StringField(const Struct& s, const char* name) {
  const JsonValue* v = Field(s, name);
  return v != nullptr ? v->string_value() : std::string();
}
double NumberField(const Struct& s, const char* name) {
  const JsonValue* v = Field(s, name);
  return v != nullptr ? v->number_value() : 0;
}
template <typename T>
std::vector<T> ListField(const Struct& s, const char* name) {
  std::vector<T> out;
  const JsonValue* v = Field(s, name);
  if (v == nullptr || !v->has_list_value()) return out;
  for (const JsonValue& item : v->list_value().values()) {
    if constexpr (std::is_same_v<T, std::string>) {
      out.push_back(item.string_value());
    } else {
      out.push_back(static_cast<T>(item.number_value()));
    }
  }
  return out;
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

absl::Status WriteCalibFile(const std::string& path, const CalibContents& c) {
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("calibration file ", path, ": ", parts...));
  };
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    return error("exists and is not a regular file; not replaced");
  }
  ArrayTable arrays;
  Struct root;
  auto& f = *root.mutable_fields();
  f["format"] = Text(kCalibFormat);
  f["producer"] = Text(c.producer);
  f["statistics"] = List(c.statistics);
  Struct model;
  (*model.mutable_fields())["file"] = Text(c.model);
  JsonValue inputs;
  for (const CalibValueInfo& in : c.inputs) {
    Struct e;
    (*e.mutable_fields())["name"] = Text(in.name);
    (*e.mutable_fields())["type"] = Text(in.type);
    (*e.mutable_fields())["shape"] = List(in.shape);
    *inputs.mutable_list_value()->add_values()->mutable_struct_value() = std::move(e);
  }
  inputs.mutable_list_value();
  (*model.mutable_fields())["inputs"] = std::move(inputs);
  *f["model"].mutable_struct_value() = std::move(model);
  absl::StatusOr<JsonValue> samples = ParseJsonValue(c.samples_json, "the samples description");
  if (!samples.ok()) return error(samples.status().message());
  (*samples->mutable_struct_value()->mutable_fields())["count"] =
      Number(static_cast<double>(c.samples));
  f["samples"] = *std::move(samples);
  JsonValue weights;
  weights.mutable_list_value();
  for (const CalibWeight& w : c.weights) {
    Struct e;
    auto& wf = *e.mutable_fields();
    wf["graph"] = Text(w.graph);
    wf["name"] = Text(w.name);
    wf["type"] = Text(w.type);
    wf["shape"] = List(w.shape);
    wf["sha256"] = Text(w.sha256);
    wf["uses"] = List(w.uses);
    if (w.hessians) {
      wf["hessians"] = HessianEntry(*w.hessians, arrays);
    } else {
      wf["no_data"] = Text(w.no_data);
    }
    *weights.mutable_list_value()->add_values()->mutable_struct_value() = std::move(e);
  }
  f["weights"] = std::move(weights);
  JsonValue tensors;
  tensors.mutable_list_value();
  for (const CalibTensorStats& t : c.tensors) {
    Struct e;
    auto& tf = *e.mutable_fields();
    tf["name"] = Text(t.name);
    tf["type"] = Text(t.type);
    tf["shape"] = List(t.shape);
    tf["min"] = Number(t.min);
    tf["max"] = Number(t.max);
    tf["count"] = Number(static_cast<double>(t.count));
    tf["non_finite"] = Number(static_cast<double>(t.non_finite));
    Struct h;
    (*h.mutable_fields())["range"] = Number(t.histogram_range);
    (*h.mutable_fields())["bins"] = Number(static_cast<double>(t.histogram.size()));
    (*h.mutable_fields())["array"] =
        Number(arrays.Add(t.histogram, {static_cast<int64_t>(t.histogram.size())}, false));
    *tf["histogram"].mutable_struct_value() = std::move(h);
    *tensors.mutable_list_value()->add_values()->mutable_struct_value() = std::move(e);
  }
  f["tensors"] = std::move(tensors);
  if (!c.sensitivity_json.empty()) {
    absl::StatusOr<JsonValue> s = ParseJsonValue(c.sensitivity_json, "the sensitivity document");
    if (!s.ok()) return error(s.status().message());
    f["sensitivity"] = *std::move(s);
  }
  f["arrays"] = arrays.table();
  std::string index;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  if (auto s = google::protobuf::util::MessageToJsonString(root, &index, print); !s.ok()) {
    return error("cannot write the index: ", OneLine(s.message()));
  }
  index.append((8 - index.size() % 8) % 8, ' ');
  const std::string temp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return error("cannot write ", temp);
    out.write(kCalibMagic, kMagicSize);
    uint64_t length = index.size();
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(length >> (8 * i));
    out.write(reinterpret_cast<const char*>(le), 8);
    out.write(index.data(), static_cast<std::streamsize>(index.size()));
    // Host order is little-endian on every platform onnx-opt builds for.
    for (const std::vector<double>& a : arrays.data()) {
      out.write(reinterpret_cast<const char*>(a.data()),
                static_cast<std::streamsize>(a.size() * sizeof(double)));
    }
    out.flush();
    if (!out) {
      std::filesystem::remove(temp, ec);
      return error("write failed (disk full?)");
    }
  }
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return error("cannot rename ", temp, " into place: ", ec.message());
  }
  return absl::OkStatus();
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
      array.offset = static_cast<int64_t>(NumberField(a.struct_value(), "offset"));
      array.bytes = static_cast<int64_t>(NumberField(a.struct_value(), "bytes"));
      array.packed = StringField(a.struct_value(), "layout") == "symmetric-packed-lower";
      array.shape = ListField<int64_t>(a.struct_value(), "shape");
      if (StringField(a.struct_value(), "dtype") != "F64" || array.offset < 0 || array.bytes < 0 ||
          array.offset + array.bytes > data_bytes) {
        return error("array ", index.arrays.size(), " is not F64 or lies outside the file");
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

absl::Status CalibFile::VerifyModel(Model& model) const {
  std::map<WeightKey, const Value*> constants;  // -> the weight's value in `model`
  model.WalkGraphs([&](Graph& graph) {
    for (Value* v : GraphConstants(graph)) constants[KeyOf(graph, *v)] = v;
  });
  std::string first;
  int mismatches = 0;
  for (const auto& [key, entry] : index_->weights) {
    const std::string name = StringField(*entry, "name");
    auto it = constants.find(key);
    TensorPtr tensor = it == constants.end() ? nullptr : GetConstantTensor(it->second);
    std::string why;
    const std::vector<int64_t> shape = ListField<int64_t>(*entry, "shape");
    if (tensor == nullptr) {
      why = absl::StrCat("weight '", name, "' is not in this model");
    } else if (tensor->dims() != shape) {
      why = absl::StrCat("weight '", name, "' is ", FormatDims(tensor->dims()), " here, ",
                         FormatDims(shape), " in the file");
    } else if (TensorSha256(*tensor) != StringField(*entry, "sha256")) {
      why = absl::StrCat("weight '", name, "' holds other values (SHA-256 differs)");
    }
    if (why.empty()) continue;
    if (mismatches++ == 0) first = why;
  }
  if (mismatches == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "calibration file ", path_, " was measured on another model: ", first,
      mismatches > 1 ? absl::StrCat(" (and ", mismatches - 1, " more)") : std::string(),
      "; rerun onnx-opt-calibrate on this model"));
}

absl::StatusOr<std::optional<LayerHessians>> CalibFile::Hessians(
    const WeightKey& weight, const std::vector<WeightUse>& uses, std::string* why_not) const {
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
  return StoredHessians(weight);
}

absl::StatusOr<std::optional<LayerHessians>> CalibFile::StoredHessians(const WeightKey& key) const {
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
  const int64_t k = static_cast<int64_t>(NumberField(hs, "k"));
  auto read = [&](int id, int64_t elements) -> absl::StatusOr<std::vector<double>> {
    if (id < 0 || id >= static_cast<int>(index_->arrays.size())) return error("bad array id ", id);
    const Index::Array& a = index_->arrays[id];
    if (a.bytes != elements * 8)
      return error("array ", id, " has ", a.bytes, " bytes, not ", elements * 8);
    std::vector<double> values(elements);
    in.seekg(index_->data_start + a.offset);
    in.read(reinterpret_cast<char*>(values.data()), a.bytes);
    if (!in) return error("array ", id, " cannot be read");
    return values;
  };
  auto read_hessians = [&](const char* field) -> absl::StatusOr<std::vector<quant::Hessian>> {
    std::vector<quant::Hessian> out;
    for (int id : ListField<int>(hs, field)) {
      absl::StatusOr<std::vector<double>> packed = read(id, k * (k + 1) / 2);
      if (!packed.ok()) return packed.status();
      quant::Hessian m = quant::Hessian::Zero(k);
      size_t at = 0;
      for (int64_t i = 0; i < k; ++i) {
        for (int64_t j = 0; j <= i; ++j) {
          m.values[i * k + j] = m.values[j * k + i] = (*packed)[at++];
        }
      }
      out.push_back(std::move(m));
    }
    return out;
  };
  LayerHessians result;
  absl::StatusOr<std::vector<quant::Hessian>> total = read_hessians("hessian");
  if (!total.ok()) return total.status();
  absl::StatusOr<std::vector<quant::Hessian>> held_out = read_hessians("held_out");
  if (!held_out.ok()) return held_out.status();
  result.hessians = *std::move(total);
  result.held_out = *std::move(held_out);
  for (int id : ListField<int>(hs, "input_mean")) {
    absl::StatusOr<std::vector<double>> mean = read(id, k);
    if (!mean.ok()) return mean.status();
    result.input_means.push_back(*std::move(mean));
  }
  const int64_t groups = static_cast<int64_t>(result.hessians.size());
  if (groups < 1 ||
      (!result.held_out.empty() && result.held_out.size() != result.hessians.size()) ||
      result.input_means.size() != result.hessians.size()) {
    return error("Hessians, held-out parts and input means do not match per group");
  }
  result.samples = static_cast<int64_t>(NumberField(hs, "samples"));
  result.positions = static_cast<int64_t>(NumberField(hs, "positions"));
  const std::vector<int64_t> shape = ListField<int64_t>(entry, "shape");
  if (groups > 1) {
    if (shape.empty() || shape[0] % groups != 0) return error("groups do not divide the rows");
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

absl::StatusOr<CalibContents> CalibFile::ReadAll() const {
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
  for (const auto& [key, entry] : index_->weights) {
    CalibWeight w;
    w.graph = StringField(*entry, "graph");
    w.name = StringField(*entry, "name");
    w.type = StringField(*entry, "type");
    w.shape = ListField<int64_t>(*entry, "shape");
    w.sha256 = StringField(*entry, "sha256");
    w.uses = ListField<std::string>(*entry, "uses");
    w.no_data = StringField(*entry, "no_data");
    absl::StatusOr<std::optional<LayerHessians>> h = StoredHessians(key);
    if (!h.ok()) return h.status();
    w.hessians = *std::move(h);
    c.weights.push_back(std::move(w));
  }
  if (const JsonValue* t = Field(root, "tensors"); t && t->has_list_value()) {
    for (const JsonValue& v : t->list_value().values()) {
      const Struct& e = v.struct_value();
      CalibTensorStats s;
      s.name = StringField(e, "name");
      s.type = StringField(e, "type");
      s.shape = ListField<int64_t>(e, "shape");
      s.min = NumberField(e, "min");
      s.max = NumberField(e, "max");
      s.count = static_cast<int64_t>(NumberField(e, "count"));
      s.non_finite = static_cast<int64_t>(NumberField(e, "non_finite"));
      if (const JsonValue* h = Field(e, "histogram"); h && h->has_struct_value()) {
        s.histogram_range = NumberField(h->struct_value(), "range");
        const int id = static_cast<int>(NumberField(h->struct_value(), "array"));
        if (id < 0 || id >= static_cast<int>(index_->arrays.size())) {
          return absl::InvalidArgumentError(
              absl::StrCat("calibration file ", path_, ": tensor '", s.name, "': bad array"));
        }
        const Index::Array& a = index_->arrays[id];
        s.histogram.resize(a.bytes / 8);
        in.seekg(index_->data_start + a.offset);
        in.read(reinterpret_cast<char*>(s.histogram.data()), a.bytes);
      }
      c.tensors.push_back(std::move(s));
    }
  }
  if (absl::StatusOr<std::string> s = SensitivityJson(); s.ok()) c.sensitivity_json = *s;
  return c;
}

}  // namespace onnx_opt
