// WriteCalibFile (calib_file.h): the index as JSON, then the arrays.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "passes/quantize/calib_file.h"
#include "passes/quantize/calib_file_json.h"
#include "passes/quantize/json.h"

namespace onnx_opt {
namespace {

using namespace calib_json;  // NOLINT(google-build-using-namespace): the file's JSON vocabulary

constexpr size_t kMagicSize = 8;

// Collects the arrays of the data section while the index is built. It points at the contents'
// own vectors, which outlive the write: no array is copied (ISNet's Hessians are gigabytes).
class ArrayTable {
 public:
  // Adds `count` values of `dtype` ("F32" or "F64") at `data`, or at `spill_offset` of the spill
  // file when `data` is null; returns the array's id.
  int64_t Add(const void* data, size_t count, const char* dtype, std::vector<int64_t> shape,
              bool packed, int64_t spill_offset = -1) {
    const size_t bytes = count * (dtype[1] == '3' ? 4 : 8);
    Struct entry;
    (*entry.mutable_fields())["dtype"] = Text(dtype);
    (*entry.mutable_fields())["layout"] = Text(packed ? "symmetric-packed-lower" : "dense");
    (*entry.mutable_fields())["shape"] = List(shape);
    (*entry.mutable_fields())["offset"] = Number(static_cast<double>(bytes_));
    (*entry.mutable_fields())["bytes"] = Number(static_cast<double>(bytes));
    // Every array starts at a multiple of 8 bytes of the data section.
    const size_t padding = (8 - bytes % 8) % 8;
    bytes_ += static_cast<int64_t>(bytes + padding);
    *table_.mutable_list_value()->add_values()->mutable_struct_value() = std::move(entry);
    data_.push_back({static_cast<const char*>(data), spill_offset, bytes, padding});
    return static_cast<int64_t>(data_.size() - 1);
  }
  int64_t Add(const std::vector<double>& values) {
    return Add(values.data(), values.size(), "F64", {static_cast<int64_t>(values.size())}, false);
  }
  // A Hessian in memory, or (spilled) the next one of its weight in the spill file.
  int64_t AddHessian(const PackedHessian& h, int64_t* spill_offset) {
    const size_t count = static_cast<size_t>(h.dim * (h.dim + 1) / 2);
    if (*spill_offset < 0) return Add(h.lower.data(), count, "F32", {h.dim, h.dim}, true);
    const int64_t at = *spill_offset;
    *spill_offset += static_cast<int64_t>(count * 4);
    return Add(nullptr, count, "F32", {h.dim, h.dim}, true, at);
  }
  JsonValue& table() { return table_; }

  // Writes the arrays in order (host order is little-endian on every platform onnx-opt builds
  // for); spilled ones are copied from `spill`.
  bool WriteTo(std::ostream& out, std::istream* spill) const {
    static constexpr char kZeros[8] = {};
    std::vector<char> buffer;
    for (const Pending& a : data_) {
      if (a.data != nullptr) {
        out.write(a.data, static_cast<std::streamsize>(a.bytes));
      } else {
        if (spill == nullptr) return false;
        buffer.resize(1 << 20);
        spill->seekg(a.spill_offset);
        for (size_t done = 0; done < a.bytes;) {
          const size_t n = std::min(buffer.size(), a.bytes - done);
          if (!spill->read(buffer.data(), static_cast<std::streamsize>(n))) return false;
          out.write(buffer.data(), static_cast<std::streamsize>(n));
          done += n;
        }
      }
      out.write(kZeros, static_cast<std::streamsize>(a.padding));
    }
    return true;
  }

 private:
  struct Pending {
    const char* data;
    int64_t spill_offset;
    size_t bytes, padding;
  };
  JsonValue table_ = [] {
    JsonValue v;
    v.mutable_list_value();
    return v;
  }();
  std::vector<Pending> data_;
  int64_t bytes_ = 0;
};

JsonValue HessianEntry(const PackedLayerHessians& h, int64_t spill_offset, ArrayTable& arrays) {
  Struct e;
  auto& f = *e.mutable_fields();
  f["groups"] = Number(static_cast<double>(h.hessians.size()));
  f["k"] = Number(h.hessians.empty() ? 0 : static_cast<double>(h.hessians[0].dim));
  f["samples"] = Number(static_cast<double>(h.samples));
  f["positions"] = Number(static_cast<double>(h.positions));
  std::vector<int64_t> total, held_out, means;
  for (const PackedHessian& g : h.hessians) total.push_back(arrays.AddHessian(g, &spill_offset));
  for (const PackedHessian& g : h.held_out) held_out.push_back(arrays.AddHessian(g, &spill_offset));
  for (const std::vector<double>& m : h.input_means) means.push_back(arrays.Add(m));
  f["hessian"] = List(total);
  f["held_out"] = List(held_out);
  f["input_mean"] = List(means);
  JsonValue v;
  *v.mutable_struct_value() = std::move(e);
  return v;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CalibSpill>> CalibSpill::Create(const std::string& path) {
  auto spill = std::unique_ptr<CalibSpill>(new CalibSpill());
  spill->path_ = path;
  spill->out_.open(path, std::ios::binary | std::ios::trunc);
  if (!spill->out_) return absl::InvalidArgumentError(absl::StrCat("cannot write ", path));
  return spill;
}

CalibSpill::~CalibSpill() {
  out_.close();
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

absl::Status CalibSpill::Spill(CalibWeight& w) {
  if (!w.hessians || w.spill_offset >= 0) return absl::OkStatus();
  w.spill_offset = bytes_;
  for (std::vector<PackedHessian>* list : {&w.hessians->hessians, &w.hessians->held_out}) {
    for (PackedHessian& h : *list) {
      out_.write(reinterpret_cast<const char*>(h.lower.data()),
                 static_cast<std::streamsize>(h.lower.size() * sizeof(float)));
      bytes_ += static_cast<int64_t>(h.lower.size() * sizeof(float));
      std::vector<float>().swap(h.lower);
    }
  }
  out_.flush();
  if (!out_) return absl::InvalidArgumentError(absl::StrCat(path_, ": write failed (disk full?)"));
  return absl::OkStatus();
}

absl::Status WriteCalibFile(const std::string& path, const CalibContents& c,
                            const CalibSpill* spill) {
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
      wf["hessians"] = HessianEntry(*w.hessians, w.spill_offset, arrays);
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
    (*h.mutable_fields())["array"] = Number(static_cast<double>(arrays.Add(t.histogram)));
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
    std::ifstream spilled;
    if (spill != nullptr) spilled.open(spill->path(), std::ios::binary);
    const bool copied = arrays.WriteTo(out, spill != nullptr ? &spilled : nullptr);
    out.flush();
    if (!out || !copied) {
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

}  // namespace onnx_opt
