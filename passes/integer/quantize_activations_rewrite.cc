#include "passes/integer/quantize_activations_rewrite.h"

#include "passes/core/utils.h"
#include "passes/integer/quantize_activations_emit.h"
#include "passes/integer/quantize_activations_fold.h"

namespace onnx_opt {

QuantizeActivationsStatistics::QuantizeActivationsStatistics(Pass* pass)
    : nodes_quantized{pass, "nodes-quantized", "Nodes given quantized inputs/output"},
      nodes_kept_float{pass, "nodes-kept-float", "Nodes of the selected op types left float"},
      noise_kept{pass, "nodes-kept-float-for-noise",
                 "Nodes kept float to fit the measured output-noise budget"},
      boundary_kept{pass, "nodes-kept-float-for-boundaries",
                    "Nodes kept float because, with the Q/DQ their float neighbours need, the "
                    "latency table predicts them slower"},
      measured_slower_kept{pass, "nodes-kept-float-measured-slower",
                           "Nodes kept float because the .calib file timed their whole plan "
                           "slower than float"},
      tensors_quantized{pass, "tensors-quantized",
                        "Activations given QuantizeLinear/DequantizeLinear"},
      weights_quantized{pass, "weights-per-channel", "Weights quantized per output channel"},
      weights_gptq{pass, "weights-gptq",
                   "Per-channel weights rounded with GPTQ (the .calib file's Hessians)"},
      weights_gptq_lost{pass, "weights-gptq-lost-held-out",
                        "Weights left plainly rounded: GPTQ was worse on the held-out samples"},
      biases_quantized{pass, "biases-quantized", "int32 biases"},
      chain_ops_folded{
          pass, "chain-ops-folded",
          "Scalar Mul/Div/Add/Sub before a quantized tensor folded into its QuantizeLinear"},
      scalars_folded{pass, "scalar-ops-folded",
                     "Scalar Mul/Div/Add/Sub after a DequantizeLinear folded into its parameters"},
      requantize_removed{pass, "requantize-removed",
                         "QuantizeLinear of dequantized values dropped"},
      float_nodes_shielded{pass, "float-nodes-shielded",
                           "Float Conv/Gemm between Q/DQ given an int32 bias DequantizeLinear, "
                           "which ORT leaves float"},
      dead_qdq_removed{pass, "dead-qdq-removed", "Unused Q/DQ nodes removed"},
      nodes_in_subgraphs{pass, "nodes-in-subgraphs-skipped",
                         "Nodes inside subgraphs or functions (not quantized)"} {}

absl::Status ApplyQuantizationPlan(Graph& graph, const QuantizationPlan& plan,
                                   const TensorPlan& tensors, int weight_bits, bool weights_signed,
                                   ChannelGptq* gptq, std::vector<NodeDecision>* report_nodes,
                                   QuantizeActivationsStatistics& stats) {
  QdqEmitter emitter(graph);
  emitter.set_gptq(gptq);
  for (const QuantizedNode& q : plan.quantized) {
    report_nodes->push_back({SelectionName(*q.node), q.node->op_type, true, "", q.detail});
    ++stats.nodes_quantized;
    if (q.weight_input < 0) continue;
    absl::StatusOr<std::vector<float>> scales =
        emitter.QuantizeWeight(q.node, q.weight_input, q.weight_axis, weight_bits, weights_signed);
    if (!scales.ok()) return scales.status();
    ++stats.weights_quantized;
    if (q.bias_input < 0) continue;
    emitter.QuantizeBias(q.node, q.bias_input, tensors.params.at(q.node->input(0)).scale, *scales);
    ++stats.biases_quantized;
  }
  for (const FloatNode& f : plan.kept_float) {
    report_nodes->push_back({SelectionName(*f.node), f.node->op_type, false, f.reason, f.detail});
    ++stats.nodes_kept_float;
  }
  for (const PlannedTensor& t : tensors.tensors) {
    emitter.InsertActivationQdq(t.value, t.params, t.quantize_input, t.quantize_params);
    ++stats.tensors_quantized;
    for (Node* node : t.folded) {  // dead now, value's producer first
      std::vector<Value*> inputs = node->inputs();
      if (absl::Status s = graph.EraseNode(node); !s.ok()) return s;
      ++stats.chain_ops_folded;
      for (Value* in : inputs) EraseIfUnusedConstant(graph, in);
    }
  }
  emitter.EraseUnusedConstants();
  if (gptq != nullptr) {
    stats.weights_gptq += gptq->counts().rounded;
    stats.weights_gptq_lost += gptq->counts().plain_better;
  }
  for (int64_t n = 1; n > 0;) {
    n = FoldScalarAffines(graph);
    stats.scalars_folded += n;
  }
  stats.requantize_removed += RemoveRequantizePairs(graph);
  stats.float_nodes_shielded += ShieldFloatWeightedNodes(graph);
  stats.dead_qdq_removed += RemoveDeadQdq(graph);
  // The new values keep their types in value_info, as inference records the original ones:
  // a second run then changes nothing.
  for (const auto& node : graph.nodes()) {
    if (!node->Is("QuantizeLinear") && !node->Is("DequantizeLinear")) continue;
    Value* out = node->output(0);
    if (out->type.is_tensor() && !out->is_graph_output()) out->in_value_info = true;
  }
  return absl::OkStatus();
}

}  // namespace onnx_opt
