// ONNX textual syntax for onnx-opt models: a deterministic printer and a recursive-descent parser.
// The grammar, the extensions (hex"..." contents, generated contents) and the elision format are
// described in docs/text-format.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ir/ir.h"

namespace onnx_opt {

struct PrintOptions {
  // Tensors with more elements than this print as `<elided N elements, hash 0x...>` (type, shape
  // and Tensor::ContentHash); -1 never elides. Elided text cannot be parsed back.
  int64_t elide_tensors_larger_than = -1;
  // Print graph.value_info entries (types of intermediate values).
  bool print_value_info = true;
};

std::string PrintModel(const Model& model, const PrintOptions& options = {});
// One graph (with nested subgraphs), e.g. for IR dumps between passes.
std::string PrintGraph(const Graph& graph, const PrintOptions& options = {});

// Parses a model. Errors are one line: "filename:line:column: message".
absl::StatusOr<std::unique_ptr<Model>> ParseModel(std::string_view text, std::string_view filename);

}  // namespace onnx_opt
