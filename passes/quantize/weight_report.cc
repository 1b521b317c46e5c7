#include "passes/quantize/weight_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ir/file_io.h"
#include "passes/core/utils.h"
#include "passes/quantize/json.h"
#include "passes/quantize/mixed_precision.h"
#include "passes/quantize/rounding.h"

namespace onnx_opt {
namespace {

constexpr double kExactSqnrDb = 200;

double SqnrDb(double signal_sq, double noise_sq) {
  if (noise_sq == 0) return kExactSqnrDb;
  if (signal_sq == 0) return 0;
  return 10 * std::log10(signal_sq / noise_sq);
}

// Error figures from sums of squares (signal = sum w^2, noise = sum (w - dq(q(w)))^2).
void SetError(double signal_sq, double noise_sq, WeightReportRow& row) {
  row.signal_sq = signal_sq;
  row.noise_sq = noise_sq;
  row.relative_error = signal_sq > 0 ? std::sqrt(noise_sq / signal_sq) : 0;
  row.sqnr_db = SqnrDb(signal_sq, noise_sq);
}

}  // namespace

WeightReportRow ReportRow(const WeightOutcome& o) {
  WeightReportRow row;
  row.weight = o.weight->name();
  row.graph = GraphDebugName(*o.weight->graph());
  row.node = o.node;
  row.op = o.op;
  row.shape = o.tensor->dims();
  row.format = o.format;
  row.bits = o.bits;
  row.scale_search = o.scale_search;
  if (const MixedCandidate* plan = o.plan) {
    row.chosen = LevelName(plan->levels[plan->chosen].bits);
    for (const PrecisionLevel& level : plan->levels) {
      row.level_names.push_back(LevelName(level.bits));
      row.level_errors.push_back(level.relative_error);
      row.level_bytes.push_back(level.bytes);
    }
    row.reason = plan->reason;
  }
  row.block = o.block;
  row.bytes_before = static_cast<int64_t>(o.tensor->bytes().size());
  row.bytes_after = o.bytes_after;
  SetError(o.error.sum_squared_signal, o.error.sum_squared_error, row);
  if (const RoundingOutcome* r = o.rounding) {
    row.rounding = r->gptq ? "gptq" : "rtn";
    row.proxy_error = r->gptq ? r->proxy_error : -1;
    row.proxy_error_rtn = r->gptq ? r->proxy_error_rtn : -1;
    row.rounding_note = r->fallback_reason;
  }
  return row;
}

double RelativeError(const std::vector<float>& original, const std::vector<float>& dequantized) {
  double signal_sq = 0, noise_sq = 0;
  for (size_t i = 0; i < original.size() && i < dequantized.size(); ++i) {
    const double w = original[i];
    const double d = w - static_cast<double>(dequantized[i]);
    signal_sq += w * w;
    noise_sq += d * d;
  }
  WeightReportRow row;
  SetError(signal_sq, noise_sq, row);
  return row.relative_error;
}

std::string ReportJson(const std::vector<WeightReportRow>& rows) {
  std::vector<std::string> items;
  int64_t before = 0, after = 0;
  double signal_sq_total = 0, noise_sq_total = 0;
  for (const WeightReportRow& r : rows) {
    std::string mixed;
    if (!r.chosen.empty()) {
      std::vector<std::string> errors, bytes;
      for (size_t i = 0; i < r.level_names.size(); ++i) {
        errors.push_back(
            absl::StrCat(JsonString(r.level_names[i]), ": ", JsonNumber(r.level_errors[i])));
        bytes.push_back(absl::StrCat(JsonString(r.level_names[i]), ": ", r.level_bytes[i]));
      }
      mixed =
          absl::StrCat(", \"mixed\": {\"chosen\": ", JsonString(r.chosen), ", \"errors\": {",
                       absl::StrJoin(errors, ", "), "}, \"bytes\": {", absl::StrJoin(bytes, ", "),
                       "}, \"reason\": ", JsonString(r.reason), "}");
    }
    std::string search;
    if (!r.scale_search.empty() && r.scale_search != "minmax") {
      search = absl::StrCat(", \"scale_search\": ", JsonString(r.scale_search));
    }
    std::string rounding;
    if (!r.rounding.empty()) {
      rounding = absl::StrCat(", \"rounding\": ", JsonString(r.rounding));
      if (r.proxy_error >= 0) {
        absl::StrAppend(&rounding, ", \"proxy_error\": ", JsonNumber(r.proxy_error),
                        ", \"proxy_error_rtn\": ", JsonNumber(r.proxy_error_rtn));
      }
      if (!r.rounding_note.empty()) {
        absl::StrAppend(&rounding, ", \"rounding_note\": ", JsonString(r.rounding_note));
      }
    }
    items.push_back(absl::StrCat(
        "    {\"weight\": ", JsonString(r.weight), ", \"graph\": ", JsonString(r.graph),
        ", \"node\": ", JsonString(r.node), ", \"op\": ", JsonString(r.op), ", \"shape\": [",
        absl::StrJoin(r.shape, ", "), "], \"format\": ", JsonString(r.format),
        ", \"bits\": ", r.bits, ", \"block\": ", r.block, ", \"bytes_before\": ", r.bytes_before,
        ", \"bytes_after\": ", r.bytes_after,
        ", \"relative_error\": ", JsonNumber(r.relative_error),
        ", \"sqnr_db\": ", JsonNumber(r.sqnr_db), search, rounding, mixed, "}"));
    before += r.bytes_before;
    after += r.bytes_after;
    signal_sq_total += r.signal_sq;
    noise_sq_total += r.noise_sq;
  }
  const double ratio = after > 0 ? static_cast<double>(before) / static_cast<double>(after) : 0;
  return absl::StrCat(
      "{\n  \"weights\": [\n", absl::StrJoin(items, ",\n"), items.empty() ? "" : "\n",
      "  ],\n  \"totals\": {\"weights\": ", rows.size(), ", \"bytes_before\": ", before,
      ", \"bytes_after\": ", after, ", \"compression\": ", JsonNumber(ratio),
      ", \"sqnr_db\": ", JsonNumber(SqnrDb(signal_sq_total, noise_sq_total)), "}\n}\n");
}

absl::Status WriteReport(const std::string& path, const std::vector<WeightReportRow>& rows) {
  if (absl::Status s = WriteOutputFile(path, ReportJson(rows)); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("report ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace onnx_opt
