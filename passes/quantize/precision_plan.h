// The plan stage of quantize-weights: the precision (bits, block geometry) each selected weight
// is quantized at. Without target-size / max-error every weight gets the configured bits. With
// them, mixed precision runs in three steps:
//   collect  Collect measures each selected weight at every level of options.MixedLevels()
//            (int<bits>, int8, float), rounding it as the pass would, leaving the graph alone;
//   choose   Choose attaches the sensitivity file's measurements and picks each weight's level
//            (ChoosePrecisions, mixed_precision.h) against the size / error target;
//   apply    ChoiceFor gives the quantizing walk the chosen level of a weight.
#pragma once

#include <cstddef>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "passes/quantize/mixed_precision.h"
#include "passes/quantize/quantize_weights_options.h"
#include "passes/quantize/rounding.h"
#include "passes/quantize/select_uses.h"

namespace onnx_opt {

// The precision of one weight.
struct PrecisionChoice {
  QuantSpec spec;                        // spec.bits == 0: mixed precision keeps the weight float
  BlockGeometry geometry;                // of spec.bits (int8-block-size for promoted int8)
  const MixedCandidate* plan = nullptr;  // mixed precision: the weight's measured candidate

  bool keeps_float() const { return plan != nullptr && spec.bits == 0; }
};

class PrecisionPlan {
 public:
  explicit PrecisionPlan(const QuantizeWeightsOptions& options) : options_(options) {}

  // Forgets every candidate (a new run).
  void Clear();
  // Measures `weight` at every level; a weight the kernels reject gets no candidate (the
  // quantizing walk skips it and counts why). Errors come from bad calibration data.
  absl::Status Collect(const SelectedWeight& weight, RoundingStrategy& rounding);
  // Chooses every candidate's level; the sensitivity file (sensitivity=) must list each one.
  // `model_bytes` (ModelTensorBytes before the pass) is what target-size of the file measures.
  absl::Status Choose(int64_t model_bytes);
  // The precision to quantize `weight` at: its chosen level when mixed precision measured it,
  // else the configured bits and block.
  PrecisionChoice ChoiceFor(const SelectedWeight& weight) const;

 private:
  const QuantizeWeightsOptions& options_;
  std::vector<MixedCandidate> candidates_;
  absl::flat_hash_map<WeightKey, size_t> index_;  // key -> index in candidates_
};

// Bytes of every constant tensor (initializers, Constant nodes) of every graph of `model`.
int64_t ModelTensorBytes(Model& model);

}  // namespace onnx_opt
