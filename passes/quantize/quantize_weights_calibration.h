// Calibration data for data-aware rounding (GPTQ, quant/gptq.h) in quantize-weights.
//
// Two sources: a .calib file written by onnx-opt-calibrate (calib_file.h: Hessians measured
// by the tool, checked against the model by weight name, shape and SHA-256), or the older .npy
// manifest: the evaluation harness dumps, for calibration inputs, the activation each weight's node
// reads (Conv input 0, MatMul's non-constant input, Gemm's A) as .npy files listed in a manifest:
//   {"format": "onnx-opt-calibration-1",
//    "values": {"<activation value name>": ["relative/path/a0.npy", ...], ...}}
// (paths relative to the manifest's folder), from which HessianAccumulator
// (hessian_accumulator.h) computes each weight's H = sum x x^T when the weight is quantized.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/quantize/calib_file.h"
#include "passes/quantize/hessian_accumulator.h"
#include "passes/quantize/npy.h"
#include "passes/quantize/quant_formats.h"
#include "passes/quantize/weight_layout.h"
#include "quant/gptq.h"

namespace onnx_opt {

// How a weight was rounded, for the report and the statistics.
struct RoundingOutcome {
  bool gptq = false;
  std::string fallback_reason;  // why plain rounding was used (empty with gptq)
  // Relative output-error proxy sqrt(dW H dW^T / W H W^T) of the GPTQ and plain rounding.
  double proxy_error = 0;
  double proxy_error_rtn = 0;
  // The mean input vector per Hessian (LayerHessians::input_means) when calibration data exists.
  std::vector<std::vector<double>> input_means;
};

class CalibrationData {
 public:
  // Positions (patches, rows) per sample that enter H at most.
  static constexpr int64_t kMaxPositions = HessianAccumulator::kMaxPositions;

  // Reads the manifest; every file it lists must exist. Errors name the manifest or the file.
  static absl::StatusOr<std::unique_ptr<CalibrationData>> Load(const std::string& manifest_path);

  // Hessians of `weight` blocked with `geometry` for its `uses`, cached under `key`. nullopt
  // (with `why_not`) when a use is not modelled (ConvTranspose, constant MatMul A, batched B,
  // per-tensor granularity) or has no activations in the manifest; an error when a file cannot
  // be read or an activation does not fit its node.
  absl::StatusOr<std::optional<LayerHessians>> HessiansFor(const std::string& key,
                                                           const Tensor& weight,
                                                           const BlockGeometry& geometry,
                                                           const std::vector<WeightUse>& uses,
                                                           std::string* why_not);

  // For a .calib file: an error unless `model` holds the weights it was measured on.
  absl::Status VerifyModel(Model& model) const;

  // Keep each weight's Hessians for a second request (default true).
  void set_cache(bool cache) { cache_enabled_ = cache; }

  // Quantizes with GPTQ when HessiansFor has data, else with plain rounding; `outcome` says
  // which. An error for bad calibration data; a weight the kernels reject (NaN) gives the
  // kernels' error with code kOutOfRange so the pass can skip it.
  absl::StatusOr<QuantizedWeight> Quantize(const std::string& key, const Tensor& weight,
                                           const WeightRole& role, Granularity granularity,
                                           const BlockGeometry& geometry, const QuantSpec& spec,
                                           const std::vector<WeightUse>& uses,
                                           const quant::GptqOptions& gptq,
                                           RoundingOutcome* outcome);

 private:
  struct Cached {
    std::optional<LayerHessians> hessians;
    std::string why_not;
  };
  absl::StatusOr<std::optional<LayerHessians>> Compute(const std::string& key, const Tensor& weight,
                                                       const BlockGeometry& geometry,
                                                       const std::vector<WeightUse>& uses,
                                                       std::string* why_not);

  std::string path_;
  bool cache_enabled_ = true;
  absl::flat_hash_map<std::string, std::vector<std::string>> files_;  // value -> .npy paths
  absl::flat_hash_map<std::string, Cached> cache_;                    // weight key -> Hessians
  std::unique_ptr<CalibFile> calib_file_;  // a .calib file (onnx-opt-calibrate) instead of .npy
};

// CalibrationData::Load, or null for an empty path (calibration= not given). `cache`: keep each
// weight's Hessians for a second request (mixed precision measures, then quantizes).
absl::StatusOr<std::unique_ptr<CalibrationData>> LoadCalibration(const std::string& path,
                                                                 bool cache);

// Plain rounding (QuantizeWeight) without `calibration`, else calibration->Quantize. A weight the
// kernels reject gives kOutOfRange; other errors are calibration data errors.
absl::StatusOr<QuantizedWeight> QuantizeMaybeCalibrated(
    CalibrationData* calibration, const std::string& key, const Tensor& weight,
    const WeightRole& role, Granularity granularity, const BlockGeometry& geometry,
    const QuantSpec& spec, const std::vector<WeightUse>& uses, const quant::GptqOptions& gptq,
    RoundingOutcome* outcome);

struct WeightReportRow;
// Adds how the weight was rounded (gptq or rtn, proxy errors, fallback reason) to its report row.
void SetRounding(const RoundingOutcome& outcome, WeightReportRow& row);

}  // namespace onnx_opt
