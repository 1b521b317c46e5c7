#include "passes/integer/quantize_activations_report.h"

#include "absl/strings/str_cat.h"
#include "ir/file_io.h"
#include "passes/quantize/json.h"

namespace onnx_opt {

std::string QuantizeActivationsReportJson(const QuantizeActivationsReport& r) {
  std::string out = absl::StrCat(
      "{\n  \"format\": \"onnx-opt-quantize-activations-report-1\",\n  \"calibration\": ",
      JsonString(r.calibration), ",\n  \"method\": ", JsonString(r.method),
      ",\n  \"activations\": ", JsonString(r.activations), ",\n  \"weight_bits\": ", r.weight_bits,
      ",\n  \"weights_signed\": ", r.weights_signed ? "true" : "false",
      r.plan_speed.empty() ? "" : absl::StrCat(",\n  \"plan_speed\": ", JsonString(r.plan_speed)),
      ",\n  \"nodes\": [");
  for (size_t i = 0; i < r.nodes.size(); ++i) {
    const NodeDecision& n = r.nodes[i];
    absl::StrAppend(&out, i ? ",\n" : "\n", "    {\"name\": ", JsonString(n.name),
                    ", \"op\": ", JsonString(n.op_type),
                    ", \"decision\": ", n.quantized ? "\"integer\"" : "\"float\"",
                    ", \"reason\": ", JsonString(n.reason), ", \"detail\": ", JsonString(n.detail),
                    "}");
  }
  absl::StrAppend(&out, r.nodes.empty() ? "" : "\n  ", "],\n  \"tensors\": [");
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    const TensorDecision& t = r.tensors[i];
    absl::StrAppend(
        &out, i ? ",\n" : "\n", "    {\"name\": ", JsonString(t.name),
        ", \"min\": ", JsonNumber(t.min), ", \"max\": ", JsonNumber(t.max),
        ", \"lo\": ", JsonNumber(t.range.lo), ", \"hi\": ", JsonNumber(t.range.hi),
        ", \"type\": ", t.params.is_signed ? "\"int8\"" : "\"uint8\"",
        ", \"scale\": ", JsonNumber(t.params.scale), ", \"zero_point\": ", t.params.zero_point,
        ", \"sqnr_db\": ", JsonNumber(t.sqnr_db), ", \"folded\": ", JsonString(t.folded_ops), "}");
  }
  absl::StrAppend(&out, r.tensors.empty() ? "" : "\n  ", "]\n}\n");
  return out;
}

absl::Status WriteQuantizeActivationsReport(const std::string& path,
                                            const QuantizeActivationsReport& report) {
  if (absl::Status s = WriteOutputFile(path, QuantizeActivationsReportJson(report)); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("report ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace onnx_opt
