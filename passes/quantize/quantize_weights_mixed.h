// Mixed precision for quantize-weights: per weight, the configured bits, int8 or float, chosen
// greedily to meet a size budget and/or a per-weight error bound.
//
// Sensitivity of a weight at a level: without measurements, (relative Frobenius error)^2 x
// element count, i.e. its squared relative error weighted by its share of the model (with
// calibration data the relative output-error proxy of GPTQ replaces the weight error); with a
// sensitivity file (quantize_weights_sensitivity.h), the model-output noise the weight adds at
// that level, estimated from the noise measured at the probe precision (scaled by the weight
// error, or with calibration data by GPTQ's output-error proxy relative to plain rounding at the
// lowest level, which is what the probe measured). Everything starts at the
// lowest level; the promotion (one level up) with the largest sensitivity reduction per extra
// byte is applied first, until every weight meets max-error (weights already meeting it are not
// promoted) or no promotion fits the byte budget.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ir/ir.h"
#include "passes/quantize/quant_report.h"
#include "passes/quantize/quantize_weights_calibration.h"
#include "passes/quantize/quantize_weights_options.h"
#include "passes/quantize/quantize_weights_sensitivity.h"
#include "passes/quantize/weight_layout.h"

namespace onnx_opt {

struct PrecisionLevel {
  int bits = 0;  // 4, 8, 16; 0 = kept float
  int64_t bytes = 0;
  double relative_error = 0;
  // With calibration data (GPTQ): the relative output-error proxy sqrt(dW H dW^T / W H W^T),
  // and the same for plain rounding at this level.
  std::optional<double> proxy_error;
  std::optional<double> proxy_error_rtn;
};

struct MixedCandidate {
  std::string key;
  int64_t elements = 0;
  std::vector<PrecisionLevel> levels;  // increasing bytes, last = float
  int chosen = 0;                      // index into levels
  std::string reason;
  std::optional<MeasuredSensitivity> measured;  // from a sensitivity file
};

struct MixedTarget {
  std::optional<int64_t> max_bytes;  // total over the candidates
  std::optional<double> max_error;   // relative Frobenius error per weight
};

double Sensitivity(const MixedCandidate& c, int level);

// Sets `chosen` and `reason` of every candidate.
void ChoosePrecisions(std::vector<MixedCandidate>& candidates, const MixedTarget& target);

// "int4", "int8", "int16" or "float".
std::string LevelName(int bits);

// The report's mixed-precision fields of a planned weight.
void SetMixedFields(const MixedCandidate& plan, WeightReportRow& row);

// The pass's side: the block geometry of a level, a weight measured at every level of
// options.MixedLevels() (nullopt when a kernel rejects it; an error for bad calibration data;
// with `calibration`, generic formats are rounded with GPTQ for `uses`), and the target from the
// options (a target-size <= 1 is a ratio of the candidates' float bytes).
std::optional<BlockGeometry> MixedGeometry(const Tensor& tensor, const WeightRole& role,
                                           const QuantizeWeightsOptions& options, int level_bits);
absl::StatusOr<std::optional<MixedCandidate>> MeasurePrecisions(
    const std::string& key, const Tensor& tensor, const WeightRole& role,
    const QuantizeWeightsOptions& options, bool nbits, bool generic,
    CalibrationData* calibration = nullptr, const std::vector<WeightUse>& uses = {});
// Sets `measured` of every candidate from the sensitivity file at `path` (nothing when empty);
// a candidate the file does not list is an error naming the weight.
absl::Status AttachSensitivities(const std::string& path, std::vector<MixedCandidate>& candidates);
// target-size covers the whole model: `model_bytes` (ModelTensorBytes before the pass) less
// the candidates' float bytes is fixed, the rest is the candidates' budget.
MixedTarget MixedTargetOf(const QuantizeWeightsOptions& options,
                          const std::vector<MixedCandidate>& candidates, int64_t model_bytes);
// Bytes of every constant tensor (initializers, Constant nodes) of every graph of `model`.
int64_t ModelTensorBytes(Model& model);

}  // namespace onnx_opt
