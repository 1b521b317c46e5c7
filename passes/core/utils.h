// Helpers shared by passes: constant lookup, topological ordering, subgraph captures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "ir/tensor.h"

namespace onnx_opt {

// The constant data of `value` when it is known at compile time: an initializer (of its own or
// an enclosing graph) or the output of a Constant node whose attribute is value, value_float,
// value_floats, value_int or value_ints. Null otherwise (including graph inputs that have an
// initializer as default, since a caller may override them, and sparse/string constants).
TensorPtr GetConstantTensor(const Value* value);

// True for a default-domain Constant node.
bool IsConstantNode(const Node& node);

// The constants defined in `graph`: its initializers, then the outputs of its Constant nodes.
std::vector<Value*> GraphConstants(Graph& graph);

// The tensor a Constant node's attribute describes (value, value_float(s), value_int(s),
// value_string(s)); an error naming the node for sparse_value or a missing attribute.
absl::StatusOr<TensorPtr> ConstantNodeTensor(const Node& node);

// Values defined outside `node`'s subgraphs that those subgraphs use (ONNX "implicit inputs"),
// each once, in first-use order.
std::vector<Value*> CapturedValues(const Node& node);

// The nodes of `graph` in a topological order that keeps the current relative order whenever
// possible (a node moves only after what it needs, including values captured by its subgraphs).
// Fails naming a node on a cycle.
absl::StatusOr<std::vector<Node*>> StableTopologicalOrder(const Graph& graph);

// True when the value is used by a node (of any graph) or is an output of its graph.
bool IsValueUsed(const Value* value);

// "main graph", "graph 'body' of Loop 'l'" ... for diagnostics.
std::string GraphDebugName(const Graph& graph);

// Number of nodes in the model, subgraphs and functions included.
int64_t CountNodes(Model& model);

}  // namespace onnx_opt
