// The graph edits of quantize-activations once every decision is taken, and what `--stats`
// prints for the pass: the counters, declared in one place, and the rewrite that writes a plan's
// weights, biases and activation Q/DQ pairs and cleans up after them, counting as it goes.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "ir/ir.h"
#include "passes/core/pass.h"
#include "passes/integer/quantize_activations_gptq.h"
#include "passes/integer/quantize_activations_plan.h"
#include "passes/integer/quantize_activations_report.h"
#include "passes/integer/quantize_activations_tensors.h"

namespace onnx_opt {

struct QuantizeActivationsStatistics {
  // Registers every counter with `pass`, in the order `--stats` lists them.
  explicit QuantizeActivationsStatistics(Pass* pass);

  PassStatistic nodes_quantized;
  PassStatistic nodes_kept_float;
  PassStatistic noise_kept;
  PassStatistic boundary_kept;
  PassStatistic measured_slower_kept;
  PassStatistic tensors_quantized;
  PassStatistic weights_quantized;
  PassStatistic weights_gptq;
  PassStatistic weights_gptq_lost;
  PassStatistic biases_quantized;
  PassStatistic chain_ops_folded;
  PassStatistic scalars_folded;
  PassStatistic requantize_removed;
  PassStatistic float_nodes_shielded;
  PassStatistic dead_qdq_removed;
  PassStatistic nodes_in_subgraphs;
};

// Writes `plan` into `graph`: each quantized node's weight per output channel (`weight_bits`,
// int8 or uint8) and int32 bias, each planned tensor's Q/DQ pair (erasing the scalar chains it
// folds), then the clean-ups of quantize_activations_fold.h, and records the value_info of the
// new Q/DQ outputs so a second run changes nothing. Appends every node's decision to
// `report_nodes` (quantized ones first). Weights are rounded with `gptq` when it is given.
absl::Status ApplyQuantizationPlan(Graph& graph, const QuantizationPlan& plan,
                                   const TensorPlan& tensors, int weight_bits, bool weights_signed,
                                   ChannelGptq* gptq, std::vector<NodeDecision>* report_nodes,
                                   QuantizeActivationsStatistics& stats);

}  // namespace onnx_opt
