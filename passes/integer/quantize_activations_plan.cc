#include "passes/integer/quantize_activations_plan.h"

#include <algorithm>

#include "passes/core/utils.h"
#include "passes/quantize/weight_layout.h"

namespace onnx_opt {
namespace {

// Untyped values (no value_info) count: the .calib file holds ranges of float tensors only, so
// the pass checks them there (UntypedWithoutRange).
bool IsFloat32(const Value* v) {
  if (v == nullptr) return false;
  if (!v->type.is_tensor() || v->type.elem_type == DataType::kUndefined) return true;
  return v->type.elem_type == DataType::kFloat;
}

bool IsConstant(const Value* v) { return v != nullptr && GetConstantTensor(v) != nullptr; }

// A constant float32 weight at `index` with a per-channel axis; sets `q` on success.
bool TakeWeight(const Node& node, int index, QuantizedNode& q) {
  TensorPtr w = GetConstantTensor(node.input(index));
  if (w == nullptr || w->type() != DataType::kFloat) return false;
  std::optional<WeightRole> role = FindWeightRole(node, index, w->rank());
  if (!role) return false;
  q.weight_input = index;
  q.weight_axis = role->channel_axis;
  return true;
}

// A 1-D float32 constant bias of as many elements as the weight has channels.
bool TakeBias(const Node& node, int index, QuantizedNode& q) {
  TensorPtr b = GetConstantTensor(node.input(index));
  TensorPtr w = GetConstantTensor(node.input(q.weight_input));
  if (b == nullptr || b->type() != DataType::kFloat || b->rank() != 1) return false;
  if (b->dims()[0] != w->dims()[q.weight_axis]) return false;
  q.bias_input = index;
  return true;
}

// Fills `q` for `node`, or returns why the node stays float.
std::string Classify(Node& node, QuantizedNode& q) {
  q.node = &node;
  if (!IsFloat32(node.output(0))) return "output is not float32";
  const bool weighted = node.Is("Conv") || node.Is("Gemm") || node.Is("MatMul");
  if (node.Is("Conv")) {
    if (!TakeWeight(node, 1, q)) return "weight is not a float32 constant (already quantized?)";
    if (node.input(2) != nullptr && !TakeBias(node, 2, q)) return "bias is not a 1-D constant";
    q.activation_inputs = {0};
  } else if (node.Is("Gemm")) {
    if (node.GetInt("transA").value_or(0) != 0) return "transA=1";
    if (node.GetFloat("alpha").value_or(1) != 1 || node.GetFloat("beta").value_or(1) != 1) {
      return "alpha or beta is not 1";
    }
    if (!TakeWeight(node, 1, q)) return "B is not a float32 constant";
    if (node.input(2) != nullptr && !TakeBias(node, 2, q)) return "C is not a 1-D constant";
    q.activation_inputs = {0};
  } else if (node.Is("MatMul")) {
    if (IsConstant(node.input(0))) return "A is a constant";
    if (IsConstant(node.input(1))) {
      if (!TakeWeight(node, 1, q)) return "B is not a float32 constant of rank 2";
      q.activation_inputs = {0};
    } else {
      q.activation_inputs = {0, 1};  // two activations (attention): both uint8 per tensor
    }
  }
  if (!weighted) {
    for (int i = 0; i < static_cast<int>(node.inputs().size()); ++i) {
      Value* in = node.input(i);
      if (in == nullptr || !IsFloat32(in)) continue;
      if (IsConstant(in)) return "has a constant float operand";
      q.activation_inputs.push_back(i);
    }
    if (q.activation_inputs.empty()) return "no float32 activation input";
  }
  for (int i : q.activation_inputs) {
    const Value* in = node.input(i);
    if (!IsFloat32(in)) return "an activation input is not float32";
    if (in->producer() != nullptr && in->producer()->Is("DequantizeLinear")) {
      return "already quantized";
    }
  }
  return "";
}

}  // namespace

std::string SelectionName(const Node& node) {
  if (!node.name.empty()) return node.name;
  return node.output(0) != nullptr ? node.output(0)->name() : std::string();
}

QuantizationPlan PlanQuantization(Graph& graph, const NodeSelection& selection) {
  QuantizationPlan plan;
  for (const auto& owned : graph.nodes()) {
    Node& node = *owned;
    if (!node.domain.empty()) continue;
    const auto& types = selection.op_types;
    if (std::find(types.begin(), types.end(), node.op_type) == types.end()) continue;
    const std::string name = SelectionName(node);
    if (!selection.only_nodes.empty() && !selection.only_nodes.contains(name)) continue;
    if (selection.exclude_nodes.contains(name)) {
      plan.kept_float.push_back({&node, "excluded by exclude-nodes"});
      continue;
    }
    QuantizedNode q;
    std::string reason = Classify(node, q);
    if (reason.empty()) {
      plan.quantized.push_back(std::move(q));
    } else {
      plan.kept_float.push_back({&node, std::move(reason)});
    }
  }
  return plan;
}

Value* QuantizedOutput(const Node& node) {
  Value* out = node.output(0);
  if (out->is_graph_output() || out->uses().size() != 1) return out;
  Node* user = out->uses()[0].node;
  if (user->Is("Relu") && IsFloat32(user->output(0))) return user->output(0);
  return out;
}

}  // namespace onnx_opt
