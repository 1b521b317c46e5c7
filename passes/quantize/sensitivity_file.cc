#include "passes/quantize/sensitivity_file.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "passes/quantize/json.h"

namespace onnx_opt {

using JsonValue = google::protobuf::Value;

absl::StatusOr<SensitivityTable> SensitivityTable::Load(const std::string& path) {
  absl::StatusOr<google::protobuf::Struct> root = ReadJsonFile(path, "sensitivity file");
  if (!root.ok()) return root.status();
  return FromJson(*root, path);
}

absl::StatusOr<SensitivityTable> SensitivityTable::Parse(std::string_view json,
                                                         const std::string& path) {
  absl::StatusOr<google::protobuf::Struct> root = ParseJson(json, path, "sensitivity file");
  if (!root.ok()) return root.status();
  return FromJson(*root, path);
}

absl::StatusOr<SensitivityTable> SensitivityTable::FromJson(const google::protobuf::Struct& root,
                                                            const std::string& path) {
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("sensitivity file ", path, ": ", parts...));
  };
  const auto& fields = root.fields();
  auto format = fields.find("format");
  if (format == fields.end() || format->second.string_value() != "onnx-opt-sensitivity-1") {
    return error(
        "\"format\" must be \"onnx-opt-sensitivity-1\" (onnx-opt-calibrate --what sensitivity)");
  }
  SensitivityTable table;
  if (auto probe = fields.find("probe"); probe != fields.end()) {
    table.probe_ = probe->second.string_value();
  }
  auto weights = fields.find("weights");
  if (weights == fields.end() || !weights->second.has_list_value()) {
    return error("\"weights\" must be a list");
  }
  int index = 0;
  for (const JsonValue& entry : weights->second.list_value().values()) {
    const std::string where = absl::StrCat("weights[", index++, "]");
    if (!entry.has_struct_value()) return error(where, " is not an object");
    const auto& f = entry.struct_value().fields();
    auto text = [&](const char* name) -> const JsonValue* {
      auto it = f.find(name);
      return it != f.end() && it->second.kind_case() == JsonValue::kStringValue ? &it->second
                                                                                : nullptr;
    };
    auto number = [&](const char* name) -> const JsonValue* {
      auto it = f.find(name);
      return it != f.end() && it->second.kind_case() == JsonValue::kNumberValue ? &it->second
                                                                                : nullptr;
    };
    const JsonValue* graph = text("graph");
    const JsonValue* weight = text("weight");
    const JsonValue* noise = number("output_noise");
    const JsonValue* weight_error = number("weight_error");
    if (graph == nullptr || weight == nullptr || noise == nullptr || weight_error == nullptr) {
      return error(where, " needs \"graph\", \"weight\" (strings), \"output_noise\" and ",
                   "\"weight_error\" (numbers)");
    }
    const MeasuredSensitivity measured{noise->number_value(), weight_error->number_value()};
    if (!std::isfinite(measured.output_noise) || !std::isfinite(measured.weight_error) ||
        measured.output_noise < 0 || measured.weight_error < 0) {
      return error(where, " (", weight->string_value(),
                   "): output_noise and weight_error must be finite and >= 0");
    }
    if (!table.entries_.emplace(WeightKey{graph->string_value(), weight->string_value()}, measured)
             .second) {
      return error(where, ": weight '", weight->string_value(), "' of ", graph->string_value(),
                   " is listed twice");
    }
  }
  return table;
}

const MeasuredSensitivity* SensitivityTable::Find(const WeightKey& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace onnx_opt
