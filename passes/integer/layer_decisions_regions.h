// The whole graph's latency under a quantization plan, by the ORT latency table: integer nodes
// cost their int8 time, the others their fp32 time, and every tensor crossing between float
// and integer costs a QuantizeLinear (float into an integer node) or a DequantizeLinear (an
// integer output read by a float node or by the caller). A node judged alone with integer
// neighbours assumed (DecideLayers) can still lose once its neighbours stay float: a pointwise
// Conv between two float depthwise Convs pays a Q and a DQ for a few microseconds saved.
#pragma once

#include "absl/container/flat_hash_map.h"
#include "ir/ir.h"
#include "passes/integer/layer_decisions.h"
#include "passes/integer/layer_decisions_latency.h"
#include "passes/integer/quantize_activations_plan.h"
#include "passes/quantize/calib_file.h"

namespace onnx_opt {

struct NodeTimes {
  double fp32_us = 0;
  double int8_us = 0;
};

// Statistics of DropUnprofitable, for the pass's counters.
struct UnprofitableDrops {
  int nodes = 0;            // nodes moved to float one at a time
  int regions = 0;          // connected integer regions moved to float as a whole
  bool whole_plan = false;  // the plan was predicted no faster than all-float: all moved
};

// Moves to plan.kept_float, the largest predicted saving first and to a fixpoint, every node or
// connected integer region whose integer form, with the boundaries the rest of the plan gives
// it, the table predicts slower than float; then the whole plan if it is predicted no faster
// than float. `times` must hold every node of plan.quantized.
UnprofitableDrops DropUnprofitable(QuantizationPlan& plan,
                                   const absl::flat_hash_map<const Node*, NodeTimes>& times,
                                   const LatencyTable& table, const ShapeOf& shape_of);

// The whole-graph check measured by onnx-opt-calibrate --what plan-speed: when plan.quantized
// is exactly the plan the file timed and its speed-up was below `min_speedup`, every node goes
// to plan.kept_float with the figures. Returns a one-line note for the report: what was
// measured and whether it applied.
std::string ApplyMeasuredPlanSpeed(QuantizationPlan& plan, const CalibPlanSpeed& measured,
                                   double min_speedup);

}  // namespace onnx_opt
