// Per-layer decisions of quantize-activations: a planned node stays float when the ORT latency
// table predicts its int8 kernel slower than fp32 (depthwise and small convolutions on AVX2,
// uint8 Resize), or when a tensor it would quantize has a predicted SQNR (from its .calib
// histogram and the chosen range) below the budget, or when the output noise measured with it
// alone quantized (.calib layer_noise) does not fit the model's noise budget. Each node's
// reason names the figures.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ir/ir.h"
#include "passes/integer/layer_decisions_latency.h"
#include "passes/integer/quantize_activations_plan.h"
#include "passes/integer/quantize_activations_tensors.h"

namespace onnx_opt {

struct LayerShape {
  std::string kind;  // the latency table's kind: conv, conv-depthwise, matmul, add, ...
  double macs = 0;   // multiply-adds (weighted ops) or elements, as bench/op-latency.mjs counts
};

// A value's dims: static ones from its type, else those the .calib file recorded (its last
// sample's), else nullopt.
using ShapeOf = std::function<std::optional<std::vector<int64_t>>(const Value*)>;

// The kind and size of `node`; nullopt when a shape is unknown or the op has no kind.
std::optional<LayerShape> DescribeLayer(const Node& node, const ShapeOf& shape_of);

struct DecisionOptions {
  const LatencyTable* table = nullptr;  // null: no latency rule
  double max_ratio = 1.0;               // quantize when int8_us / fp32_us is below this
  double min_sqnr_db = 0;               // keep float below this predicted SQNR (0: no rule)
  // Measured output noise per node name (onnx-opt-calibrate --what layer-noise); null: none.
  // With min_output_sqnr_db > 0 the noisiest layers stay float until the sum over the layers
  // kept integer is within 10^(-min_output_sqnr_db / 10) (first-order estimate of the model's).
  const absl::flat_hash_map<std::string, double>* layer_noise = nullptr;
  double min_output_sqnr_db = 0;
  // Which layers go float first: the most noise per microsecond saved (true), or the noisiest.
  bool budget_by_saving = false;
};

// prefer=speed: int8 where the table predicts it faster; prefer=accuracy: only where it
// predicts >= 1.25x, and min-sqnr defaults to 30 dB. `table`: empty for the built-in one,
// "none" for no latency rule, else a file (kept in *storage).
absl::StatusOr<DecisionOptions> MakeDecisionOptions(bool prefer_accuracy,
                                                    std::optional<double> min_sqnr,
                                                    const std::string& table,
                                                    std::unique_ptr<LatencyTable>* storage);

// Moves nodes of plan.quantized to plan.kept_float by the rules; sets every node's `detail`.
void DecideLayers(QuantizationPlan& plan, const TensorStatsMap& stats, const RangeOptions& ranges,
                  const DecisionOptions& options);

}  // namespace onnx_opt
