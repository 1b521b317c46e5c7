// Structural checks of the IR: SSA definitions, topological order, opset imports, tensor sizes.
#pragma once

#include "absl/status/status.h"
#include "ir/ir.h"

namespace onnx_opt {

// Checks the main graph (with subgraphs) and every function body. Errors are one line naming the
// node (Node::DebugName()), value or tensor.
absl::Status VerifyModel(const Model& model);

// Checks one top-level graph and its subgraphs against the model's opset imports.
absl::Status VerifyGraph(const Graph& graph, const Model& model);

}  // namespace onnx_opt
