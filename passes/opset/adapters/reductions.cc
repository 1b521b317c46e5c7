// Reductions: the axes attribute becomes the second input (ReduceSum at 13, the other Reduce* ops
// at 18). An absent axes attribute stays absent: with noop_with_empty_axes=0 (the default) both
// versions reduce over every axis.
#include <string_view>
#include <vector>

#include "passes/opset/adapters/adapter.h"

namespace onnx_opt::opset {
namespace {

absl::Status CheckAxesNotInput(const Node& node, int64_t target_opset) {
  if (node.inputs().size() > 1 && node.input(1) != nullptr) {
    return Refuse(node, "already has an axes input before the version that introduced it");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> AxesToInput(Node& node, RewriteContext& ctx) {
  std::optional<std::vector<int64_t>> axes = node.GetInts("axes");
  if (axes.has_value() && axes->empty()) node.RemoveAttribute("axes");  // empty == all axes
  IntsAttributeToInput(node, "axes", 1, ctx);
  return &node;
}

}  // namespace

void AppendReductionRules(std::vector<StepRule>& rules) {
  rules.push_back(StepRule{"ReduceSum", 13, "axes attribute -> int64 input 'axes'",
                           CheckAxesNotInput, AxesToInput});
  for (std::string_view op :
       {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
        "ReduceMin", "ReduceProd", "ReduceSumSquare"}) {
    rules.push_back(
        StepRule{op, 18, "axes attribute -> int64 input 'axes'", CheckAxesNotInput, AxesToInput});
  }
}

}  // namespace onnx_opt::opset
