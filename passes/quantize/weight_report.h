// The last stage of quantize-weights: one row per weight (sizes, errors, the precision mixed
// precision chose, how it was rounded), written as JSON by `report=FILE.json`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ir/ir.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt {

struct MixedCandidate;   // mixed_precision.h
struct RoundingOutcome;  // rounding.h

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

// What the stages found out about one weight, for its report row.
struct WeightOutcome {
  const Value* weight = nullptr;
  const Tensor* tensor = nullptr;
  // The first quantized user, copied: a MatMulNBits rewrite erases that node.
  std::string node;
  std::string op;
  std::string format;        // format= ("float" for a weight mixed precision keeps float)
  std::string scale_search;  // scale-search=
  int bits = 0;
  int64_t block = 0;
  int64_t bytes_after = 0;
  quant::ErrorStats error;                    // measured by the kernels while quantizing
  const MixedCandidate* plan = nullptr;       // mixed precision only
  const RoundingOutcome* rounding = nullptr;  // data-aware rounding (calibration=) only
};

// The report row of a weight: every field is filled here.
WeightReportRow ReportRow(const WeightOutcome& outcome);

// The relative Frobenius error of `dequantized` against `original` (same length).
double RelativeError(const std::vector<float>& original, const std::vector<float>& dequantized);

// JSON object {"weights": [...], "totals": {...}}; the total SQNR pools every weight's energy.
std::string ReportJson(const std::vector<WeightReportRow>& rows);
absl::Status WriteReport(const std::string& path, const std::vector<WeightReportRow>& rows);

}  // namespace onnx_opt
