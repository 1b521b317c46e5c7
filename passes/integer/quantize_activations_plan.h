// Which nodes quantize-activations quantizes and what each of their inputs is: the selection
// (op types, node names) and the roles of inputs (activation, per-channel weight, int32 bias),
// with the reason for every node left float. Pure analysis: the graph is not changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "ir/ir.h"

namespace onnx_opt {

struct NodeSelection {
  std::vector<std::string> op_types;            // default-domain op types considered
  absl::flat_hash_set<std::string> only_nodes;  // empty: every node of those types
  absl::flat_hash_set<std::string> exclude_nodes;
};

// The name `nodes=` and `exclude-nodes=` match: the node's name, else its first output's.
std::string SelectionName(const Node& node);

struct QuantizedNode {
  Node* node = nullptr;
  std::vector<int> activation_inputs;  // float inputs quantized as activations
  int weight_input = -1;               // constant weight, per channel along weight_axis
  int64_t weight_axis = 0;
  int bias_input = -1;  // constant bias, int32 with scale s_x * s_w[c]
  std::string detail;   // figures behind the decision (layer_decisions.h)
};

struct FloatNode {
  Node* node = nullptr;
  std::string reason;
  std::string detail;
};

struct QuantizationPlan {
  std::vector<QuantizedNode> quantized;
  std::vector<FloatNode> kept_float;  // of the selected op types, with the reason
};

// Plans the nodes of `graph` (not its subgraphs).
QuantizationPlan PlanQuantization(Graph& graph, const NodeSelection& selection);

// The value that carries `node`'s output 0 into the quantized domain: the output itself, or
// the output of a Relu that is its only user (ONNX Runtime folds a Relu into the following
// QuantizeLinear whose zero point is the lowest level, so the quantized group ends after it).
Value* QuantizedOutput(const Node& node);

}  // namespace onnx_opt
