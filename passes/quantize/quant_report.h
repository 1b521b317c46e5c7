// Per-weight accuracy and size rows of quantize-weights, written as JSON by `report=FILE.json`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "passes/quantize/quant_formats.h"

namespace onnx_opt {

struct WeightReportRow {
  std::string weight;
  std::string graph;
  std::string node;  // first quantized user
  std::string op;
  std::vector<int64_t> shape;
  std::string format;
  int bits = 0;
  int64_t block = 0;
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
  double relative_error = 0;  // ||w - dq(q(w))||_F / ||w||_F
  double sqnr_db = 0;         // 20 log10(||w|| / ||w - dq(q(w))||); capped at 200 for exact
  double signal_sq = 0;       // sum of w^2 (for the totals)
  double noise_sq = 0;        // sum of (w - dq(q(w)))^2
  std::string scale_search;   // minmax, mse, hqq
  // Mixed precision only (empty `chosen` otherwise): the precision chosen, each candidate
  // precision's name, relative error and bytes, and why.
  std::string chosen;
  std::vector<std::string> level_names;
  std::vector<double> level_errors;
  std::vector<int64_t> level_bytes;
  std::string reason;
  // With calibration= only (empty `rounding` otherwise): "gptq" or "rtn" (plain rounding, with
  // the reason in rounding_note), and the relative output-error proxies sqrt(dW H dW^T / W H W^T)
  // of GPTQ and of plain rounding (-1 when unknown).
  std::string rounding;
  std::string rounding_note;
  double proxy_error = -1;
  double proxy_error_rtn = -1;
};

// Error figures of `original` against `dequantized` (same length) into `row`.
void MeasureError(const std::vector<float>& original, const std::vector<float>& dequantized,
                  WeightReportRow& row);
// Error figures from sums of squares (signal = sum w^2, noise = sum (w - dq(q(w)))^2) into `row`.
void SetError(double signal_sq, double noise_sq, WeightReportRow& row);

// JSON object {"weights": [...], "totals": {...}}; the total SQNR pools every weight's energy.
std::string ReportJson(const std::vector<WeightReportRow>& rows);
absl::Status WriteReport(const std::string& path, const std::vector<WeightReportRow>& rows);

}  // namespace onnx_opt
