#include "passes/quantize/quant_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ir/file_io.h"
#include "ir/strings.h"

namespace onnx_opt {
namespace {

constexpr double kExactSqnrDb = 200;

std::string JsonString(const std::string& s) {
  return absl::StrCat("\"", EscapeString(s, EscapeStyle::kJson), "\"");
}

// JSON has no infinity; finite figures print with enough digits to compare in tests.
std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.6g", v);
}

double SqnrDb(double signal_sq, double noise_sq) {
  if (noise_sq == 0) return kExactSqnrDb;
  if (signal_sq == 0) return 0;
  return 10 * std::log10(signal_sq / noise_sq);
}

}  // namespace

void MeasureError(const std::vector<float>& original, const std::vector<float>& dequantized,
                  WeightReportRow& row) {
  double signal_sq = 0, noise_sq = 0;
  for (size_t i = 0; i < original.size() && i < dequantized.size(); ++i) {
    const double w = original[i];
    const double d = w - static_cast<double>(dequantized[i]);
    signal_sq += w * w;
    noise_sq += d * d;
  }
  SetError(signal_sq, noise_sq, row);
}

void SetError(double signal_sq, double noise_sq, WeightReportRow& row) {
  row.signal_sq = signal_sq;
  row.noise_sq = noise_sq;
  row.relative_error = signal_sq > 0 ? std::sqrt(noise_sq / signal_sq) : 0;
  row.sqnr_db = SqnrDb(signal_sq, noise_sq);
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
