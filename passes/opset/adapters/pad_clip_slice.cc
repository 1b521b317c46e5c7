// Attributes that became inputs: Slice (10), TopK (10), Pad (11), Clip (11), Dropout (12); and
// Dropout's mask output, whose type became bool at 10.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/opset/adapters/adapter.h"
#include "passes/core/utils.h"

namespace onnx_opt::opset {
namespace {

absl::Status CheckOnlyDataInput(const Node& node, int64_t target_opset) {
  for (size_t i = 1; i < node.inputs().size(); ++i) {
    if (node.input(i) != nullptr) {
      return Refuse(node, "has extra inputs before the version that introduced them");
    }
  }
  return absl::OkStatus();
}

// Element type of the node's first input when it is a known floating-point type.
std::optional<DataType> FloatElementType(const Node& node) {
  std::optional<DataType> known = InferElemType(node.input(0));
  if (!known) return std::nullopt;
  DataType t = *known;
  if (t == DataType::kFloat || t == DataType::kFloat16 || t == DataType::kDouble ||
      t == DataType::kBFloat16) {
    return t;
  }
  return std::nullopt;
}

// ---- Slice-10: starts, ends, axes -> inputs 1, 2, 3.
absl::Status CheckSlice(const Node& node, int64_t target_opset) {
  if (!node.GetInts("starts") || !node.GetInts("ends")) {
    return Refuse(node, "Slice-1 needs starts and ends attributes");
  }
  return CheckOnlyDataInput(node, target_opset);
}

absl::StatusOr<Node*> SliceToInputs(Node& node, RewriteContext& ctx) {
  IntsAttributeToInput(node, "starts", 1, ctx);
  IntsAttributeToInput(node, "ends", 2, ctx);
  IntsAttributeToInput(node, "axes", 3, ctx);
  return &node;
}

// ---- TopK-10: k -> 1-D input of one element.
absl::Status CheckTopK(const Node& node, int64_t target_opset) {
  if (!node.GetInt("k")) return Refuse(node, "TopK-1 needs a k attribute");
  return CheckOnlyDataInput(node, target_opset);
}

absl::StatusOr<Node*> TopKToInput(Node& node, RewriteContext& ctx) {
  int64_t k = *node.GetInt("k");
  node.RemoveAttribute("k");
  node.SetInput(1, ctx.Int64s({k}, &node, "TopK_k"));
  return &node;
}

// ---- Pad-11: pads -> input, value -> constant_value input (of the data type).
absl::Status CheckPad(const Node& node, int64_t target_opset) {
  // Pad-1's `paddings` is renamed `pads` by the Pad-2 step (legacy.cc).
  if (!node.GetInts("pads") && !node.GetInts("paddings")) {
    return Refuse(node, "Pad-2 needs a pads attribute");
  }
  const float value = node.GetFloat("value").value_or(0.0f);
  const std::string mode = node.GetString("mode").value_or("constant");
  if (mode == "constant" && value != 0.0f && !FloatElementType(node)) {
    return Refuse(node,
                  "non-zero pad value needs the data's element type to be known (float, "
                  "float16 or double) to build the constant_value input");
  }
  return CheckOnlyDataInput(node, target_opset);
}

absl::StatusOr<Node*> PadToInputs(Node& node, RewriteContext& ctx) {
  const float value = node.GetFloat("value").value_or(0.0f);
  const std::string mode = node.GetString("mode").value_or("constant");
  node.RemoveAttribute("value");
  IntsAttributeToInput(node, "pads", 1, ctx);
  if (mode == "constant" && value != 0.0f) {
    node.SetInput(2, ctx.FloatScalar(*FloatElementType(node), value, &node, "Pad_value"));
  }
  return &node;
}

// ---- Clip-11: min/max attributes -> scalar inputs of the data type.
// The bounds are built in the data's type when it is known; else (opset 15+) as float constants
// cast to the data's type at run time by CastLike (Clip-6 took float bounds for every type).
absl::Status CheckClip(const Node& node, int64_t target_opset) {
  const bool has_bound = node.GetFloat("min") || node.GetFloat("max");
  if (has_bound && !FloatElementType(node) && target_opset < 15) {
    return Refuse(node,
                  "min/max need the data's element type (unknown here) below opset 15, "
                  "which has CastLike");
  }
  return CheckOnlyDataInput(node, target_opset);
}

Value* ClipBound(Node& node, float bound, RewriteContext& ctx, std::string_view hint) {
  if (std::optional<DataType> type = FloatElementType(node)) {
    return ctx.FloatScalar(*type, bound, &node, hint);
  }
  Value* as_float = ctx.FloatScalar(DataType::kFloat, bound, &node, hint);
  Node* cast = ctx.graph().CreateNode("CastLike", {as_float, node.input(0)}, 1, &node, "",
                                      {absl::StrCat(ToAbsl(hint), "_like")});
  return cast->output(0);
}

absl::StatusOr<Node*> ClipToInputs(Node& node, RewriteContext& ctx) {
  std::optional<float> min = node.GetFloat("min");
  std::optional<float> max = node.GetFloat("max");
  node.RemoveAttribute("min");
  node.RemoveAttribute("max");
  if (min) node.SetInput(1, ClipBound(node, *min, ctx, "Clip_min"));
  if (max) node.SetInput(2, ClipBound(node, *max, ctx, "Clip_max"));
  return &node;
}

// ---- Dropout-10: the mask output became bool (it had the data type).
absl::Status CheckDropoutMask(const Node& node, int64_t target_opset) {
  if (UsesOutputsBeyond(node, 1)) {
    return Refuse(node,
                  "its mask output is used, and the mask type changes from the data type "
                  "to bool at opset 10");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> DropoutMaskToBool(Node& node, RewriteContext& ctx) {
  Value* mask = node.output(1);
  if (mask != nullptr && mask->type.is_tensor()) mask->type.elem_type = DataType::kBool;
  return &node;
}

// ---- Dropout-12: ratio -> optional float input (inference ignores it, but keep it exact).
absl::StatusOr<Node*> DropoutRatioToInput(Node& node, RewriteContext& ctx) {
  std::optional<float> ratio = node.GetFloat("ratio");
  node.RemoveAttribute("ratio");
  if (ratio) node.SetInput(1, ctx.FloatScalar(DataType::kFloat, *ratio, &node, "Dropout_ratio"));
  return &node;
}

}  // namespace

void AppendPadClipSliceRules(std::vector<StepRule>& rules) {
  rules.push_back(StepRule{"Slice", 10, "starts/ends/axes attributes -> int64 inputs", CheckSlice,
                           SliceToInputs});
  rules.push_back(
      StepRule{"TopK", 10, "k attribute -> int64 input 'K' of shape [1]", CheckTopK, TopKToInput});
  rules.push_back(StepRule{"Pad", 11,
                           "pads attribute -> int64 input; non-zero value -> constant_value input "
                           "of the data type",
                           CheckPad, PadToInputs});
  rules.push_back(StepRule{"Clip", 11, "min/max attributes -> scalar inputs of the data type",
                           CheckClip, ClipToInputs});
  rules.push_back(StepRule{"Dropout", 10,
                           "mask output type T -> bool: allowed only when the mask is unused",
                           CheckDropoutMask, DropoutMaskToBool});
  rules.push_back(StepRule{"Dropout", 12, "ratio attribute -> float input 'ratio'",
                           CheckOnlyDataInput, DropoutRatioToInput});
}

}  // namespace onnx_opt::opset
