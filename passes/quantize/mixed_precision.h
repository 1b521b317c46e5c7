// Mixed precision for quantize-weights: per weight, the configured bits, int8 or float, chosen
// greedily to meet a size budget and/or a per-weight error bound. This file is the choice itself
// (pure arithmetic on measured candidates); precision_plan.h measures them and applies it.
//
// Sensitivity of a weight at a level: without measurements, (relative Frobenius error)^2 x
// element count, i.e. its squared relative error weighted by its share of the model (with
// calibration data the relative output-error proxy of GPTQ replaces the weight error); with a
// sensitivity file (sensitivity_file.h), the model-output noise the weight adds at
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

#include "passes/quantize/sensitivity_file.h"
#include "passes/quantize/weight.h"

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
  WeightKey key;
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

}  // namespace onnx_opt
