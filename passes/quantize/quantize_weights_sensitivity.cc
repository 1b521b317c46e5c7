#include "passes/quantize/quantize_weights_sensitivity.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "ir/file_io.h"
#include "ir/strings.h"

namespace onnx_opt {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string Key(std::string_view graph, std::string_view weight) {
  return absl::StrCat(ToAbsl(graph), "\n", ToAbsl(weight));
}

}  // namespace

absl::StatusOr<SensitivityTable> SensitivityTable::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadInputFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("sensitivity file ", text.status().message()));
  }
  return Parse(*text, path);
}

absl::StatusOr<SensitivityTable> SensitivityTable::Parse(std::string_view json,
                                                         const std::string& path) {
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("sensitivity file ", path, ": ", parts...));
  };
  Struct root;
  // protobuf's JSON parser (already a dependency) reads arbitrary JSON into a Struct.
  if (auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &root); !s.ok()) {
    std::string why(s.message().data(), s.message().size());
    for (char& c : why) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return error("not valid JSON: ", why);
  }
  const auto& fields = root.fields();
  auto format = fields.find("format");
  if (format == fields.end() || format->second.string_value() != "onnx-opt-sensitivity-1") {
    return error("\"format\" must be \"onnx-opt-sensitivity-1\" (onnx-opt-calibrate --what sensitivity)");
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
  for (const Value& entry : weights->second.list_value().values()) {
    const std::string where = absl::StrCat("weights[", index++, "]");
    if (!entry.has_struct_value()) return error(where, " is not an object");
    const auto& f = entry.struct_value().fields();
    auto text = [&](const char* name) -> const Value* {
      auto it = f.find(name);
      return it != f.end() && it->second.kind_case() == Value::kStringValue ? &it->second : nullptr;
    };
    auto number = [&](const char* name) -> const Value* {
      auto it = f.find(name);
      return it != f.end() && it->second.kind_case() == Value::kNumberValue ? &it->second : nullptr;
    };
    const Value* graph = text("graph");
    const Value* weight = text("weight");
    const Value* noise = number("output_noise");
    const Value* weight_error = number("weight_error");
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
    if (!table.entries_.emplace(Key(graph->string_value(), weight->string_value()), measured)
             .second) {
      return error(where, ": weight '", weight->string_value(), "' of ", graph->string_value(),
                   " is listed twice");
    }
  }
  return table;
}

const MeasuredSensitivity* SensitivityTable::Find(std::string_view graph,
                                                  std::string_view weight) const {
  auto it = entries_.find(Key(graph, weight));
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace onnx_opt
