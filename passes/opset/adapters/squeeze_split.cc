// Squeeze/Unsqueeze/Split: attributes that became inputs at 13, and Split's num_outputs at 18.
#include <string_view>
#include <vector>

#include "passes/opset/adapters/adapter.h"
#include "passes/core/utils.h"

namespace onnx_opt::opset {
namespace {

absl::Status CheckSingleInput(const Node& node, int64_t target_opset) {
  if (node.inputs().size() > 1 && node.input(1) != nullptr) {
    return Refuse(node, "has a second input before the version that introduced it");
  }
  return absl::OkStatus();
}

absl::Status CheckUnsqueeze(const Node& node, int64_t target_opset) {
  if (!node.GetInts("axes").has_value()) {
    return Refuse(node, "Unsqueeze without an axes attribute is invalid");
  }
  return CheckSingleInput(node, target_opset);
}

// Split-1 may carry 'split' as a constant second input; the Split-2 step (legacy.cc) turns it
// into the attribute this step moves back to an input.
absl::Status CheckSplitThirteen(const Node& node, int64_t target_opset) {
  if (node.input(1) != nullptr && !node.FindAttribute("split") &&
      GetConstantTensor(node.input(1)) != nullptr) {
    return absl::OkStatus();
  }
  return CheckSingleInput(node, target_opset);
}

absl::StatusOr<Node*> AxesToInput(Node& node, RewriteContext& ctx) {
  IntsAttributeToInput(node, "axes", 1, ctx);
  return &node;
}

absl::StatusOr<Node*> SplitToInput(Node& node, RewriteContext& ctx) {
  IntsAttributeToInput(node, "split", 1, ctx);
  return &node;
}

// Split-13 without 'split' cuts into as many equal parts as it has outputs; Split-18 needs that
// number spelled out as num_outputs.
absl::StatusOr<Node*> AddNumOutputs(Node& node, RewriteContext& ctx) {
  if (node.input(1) == nullptr && !node.FindAttribute("num_outputs")) {
    node.SetAttribute(Attribute::Int("num_outputs", static_cast<int64_t>(node.outputs().size())));
  }
  return &node;
}

}  // namespace

void AppendSqueezeSplitRules(std::vector<StepRule>& rules) {
  rules.push_back(StepRule{"Squeeze", 13,
                           "axes attribute -> int64 input 'axes' (absent stays "
                           "absent: squeeze every 1-dim)",
                           CheckSingleInput, AxesToInput});
  rules.push_back(StepRule{"Unsqueeze", 13, "axes attribute -> int64 input 'axes'", CheckUnsqueeze,
                           AxesToInput});
  rules.push_back(StepRule{"Split", 13, "split attribute -> int64 input 'split'",
                           CheckSplitThirteen, SplitToInput});
  rules.push_back(StepRule{"Split", 18,
                           "equal split without 'split' input -> num_outputs = number "
                           "of outputs",
                           nullptr, AddNumOutputs});
}

}  // namespace onnx_opt::opset
