// The tensors quantize-activations gives QuantizeLinear/DequantizeLinear: the inputs and
// outputs of the planned nodes, their parameters from the .calib ranges, and the chains of
// scalar affine ops (y = a x + b, a > 0) folded into a pair: QuantizeLinear reads x with
// scale s_y / a and zero point z_y + round(b / s_y), DequantizeLinear returns y's values, so
// the Mul/Div/Add/Sub chain disappears (PP-OCR's HardSwish -> Mul -> Add blocks).
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "passes/integer/act_ranges.h"
#include "passes/integer/quantize_activations_plan.h"
#include "passes/integer/quantize_activations_report.h"

namespace onnx_opt {

using TensorStatsMap = absl::flat_hash_map<std::string, const CalibTensorStats*>;

struct RangeOptions {
  RangeMethod method = RangeMethod::kPercentile;
  double percentile = 99.99;
  bool is_signed = false;
  std::string calibration;  // the file, for errors
};

struct PlannedTensor {
  Value* value = nullptr;           // its users read the DequantizeLinear
  QuantParams params;               // of the DequantizeLinear: the value's own range
  Value* quantize_input = nullptr;  // what the QuantizeLinear reads (value, or a chain's x)
  QuantParams quantize_params;
  std::vector<Node*> folded;  // the chain's nodes, from value's producer back
};

struct TensorPlan {
  std::vector<PlannedTensor> tensors;
  absl::flat_hash_map<const Value*, QuantParams> params;  // by value (bias scales)
};

// Moves to plan.kept_float the nodes with a tensor that is untyped after inference and has no
// range: the file holds every float tensor, so that one is taken for another type.
void DropUntypedWithoutRange(QuantizationPlan& plan, const TensorStatsMap& stats);

// An error naming the first float tensor of the plan without a range and the node needing it.
absl::Status CheckRanges(const QuantizationPlan& plan, const TensorStatsMap& stats,
                         const std::string& calibration);

// Every tensor of the plan, once, in plan order; an error names a float tensor without a range
// and the node that needs it. Appends each tensor's row to `report`.
absl::StatusOr<TensorPlan> PlanTensors(const QuantizationPlan& plan, const TensorStatsMap& stats,
                                       const RangeOptions& options,
                                       std::vector<TensorDecision>* report);

}  // namespace onnx_opt
