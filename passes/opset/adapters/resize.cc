// Upsample and Resize.
//   Upsample 9:  scales attribute -> float input.
//   Upsample 10: deprecated; becomes Resize-10 (same inputs and mode), then follows Resize.
//   Resize 11:   inputs (X, scales) -> (X, roi, scales); the opset-10 sampling is spelled out:
//                coordinate_transformation_mode=asymmetric and, for nearest, nearest_mode=floor
//                when upsampling / ceil when downsampling (what ONNX Runtime's opset-10 kernel
//                does per axis), which needs constant scales that do not mix the two.
//   Resize 13:   tf_half_pixel_for_nn removed (refused); empty roi/scales placeholders dropped.
#include <optional>
#include <string>
#include <vector>

#include "passes/opset/adapters/adapter.h"
#include "passes/core/utils.h"

namespace onnx_opt::opset {
namespace {

// Constant scales of an Upsample/Resize-10 node (attribute or constant second input).
std::optional<std::vector<float>> ConstantScales(const Node& node) {
  if (std::optional<std::vector<float>> legacy = LegacyUpsampleScales(node)) return legacy;
  const Attribute* attr = node.FindAttribute("scales");
  if (attr != nullptr) {
    if (const auto* floats = std::get_if<std::vector<float>>(&attr->value)) return *floats;
    return std::nullopt;
  }
  TensorPtr data = GetConstantTensor(node.input(1));
  if (data == nullptr) return std::nullopt;
  absl::StatusOr<std::vector<float>> values = data->ToFloats();
  if (!values.ok()) return std::nullopt;
  return *values;
}

absl::Status CheckUpsampleScales(const Node& node, int64_t target_opset) {
  // Upsample-1's height_scale/width_scale become the scales attribute at 7 (legacy.cc).
  const bool has_attr =
      node.FindAttribute("scales") != nullptr || LegacyUpsampleScales(node).has_value();
  const bool has_input = node.input(1) != nullptr;
  if (has_attr == has_input) {
    return Refuse(node, "needs exactly one of a scales attribute (opset 7-8) or input (9+)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> UpsampleScalesToInput(Node& node, RewriteContext& ctx) {
  const Attribute* attr = node.FindAttribute("scales");
  if (attr == nullptr) return &node;
  std::vector<float> scales = std::get<std::vector<float>>(attr->value);
  node.RemoveAttribute("scales");
  Value* input = ctx.AddConstant(
      Tensor::FromValues<float>(DataType::kFloat, {static_cast<int64_t>(scales.size())}, scales),
      &node, "Upsample_scales");
  node.SetInput(1, input);
  return &node;
}

absl::StatusOr<Node*> UpsampleToResize(Node& node, RewriteContext& ctx) {
  node.op_type = "Resize";
  return &node;
}

// The nearest_mode that reproduces opset-10 nearest sampling, or an error.
absl::StatusOr<std::string> OpsetTenNearestMode(const Node& node) {
  std::optional<std::vector<float>> scales = ConstantScales(node);
  if (!scales.has_value()) {
    return Refuse(node,
                  "nearest mode with non-constant scales: opset 10 rounds per axis "
                  "depending on the scale, which cannot be fixed statically");
  }
  bool up = false;
  bool down = false;
  for (float s : *scales) {
    up |= s > 1.0f;
    down |= s < 1.0f;
  }
  if (up && down) {
    return Refuse(node,
                  "nearest mode with scales both above and below 1: no single "
                  "nearest_mode matches opset 10");
  }
  return std::string(down ? "ceil" : "floor");
}

absl::Status CheckResizeTen(const Node& node, int64_t target_opset) {
  std::string mode = node.GetString("mode").value_or("nearest");
  if (mode != "nearest" && mode != "linear") {
    return Refuse(node, "mode '" + mode + "' is not an opset-10 Resize/Upsample mode");
  }
  if (mode == "nearest") return OpsetTenNearestMode(node).status();
  return absl::OkStatus();
}

absl::StatusOr<Node*> ResizeTenToEleven(Node& node, RewriteContext& ctx) {
  std::string mode = node.GetString("mode").value_or("nearest");
  if (mode == "nearest") {
    absl::StatusOr<std::string> nearest = OpsetTenNearestMode(node);
    if (!nearest.ok()) return nearest.status();
    node.SetAttribute(Attribute::String("nearest_mode", *nearest));
  }
  node.SetAttribute(Attribute::String("coordinate_transformation_mode", "asymmetric"));
  Value* scales = node.input(1);
  std::vector<float> none;
  Value* roi =
      ctx.AddConstant(Tensor::FromValues<float>(DataType::kFloat, {0}, none), &node, "Resize_roi");
  node.SetInput(1, roi);
  node.SetInput(2, scales);
  return &node;
}

absl::Status CheckResizeThirteen(const Node& node, int64_t target_opset) {
  if (node.GetString("coordinate_transformation_mode") == "tf_half_pixel_for_nn") {
    return Refuse(node,
                  "coordinate_transformation_mode 'tf_half_pixel_for_nn' was removed in "
                  "opset 13 and no other mode samples the same pixels");
  }
  return absl::OkStatus();
}

bool IsEmptyConstant(const Value* v) {
  TensorPtr data = GetConstantTensor(v);
  return data != nullptr && data->num_elements() == 0;
}

absl::StatusOr<Node*> ResizeDropEmptyPlaceholders(Node& node, RewriteContext& ctx) {
  const std::string ctm = node.GetString("coordinate_transformation_mode").value_or("half_pixel");
  for (int i : {1, 2}) {
    Value* placeholder = node.input(i);
    if (placeholder == nullptr || !IsEmptyConstant(placeholder)) continue;
    if (i == 1 && ctm == "tf_crop_and_resize") continue;
    if (i == 2 && node.input(3) == nullptr) continue;  // scales stay when there are no sizes
    node.SetInput(i, nullptr);
    // Drop the placeholder when nothing else needs it (typically the roi made at step 11).
    ctx.EraseIfUnused(placeholder);
  }
  return &node;
}

}  // namespace

void AppendResizeRules(std::vector<StepRule>& rules) {
  rules.push_back(StepRule{"Upsample", 9, "scales attribute -> float input 'scales'",
                           CheckUpsampleScales, UpsampleScalesToInput});
  rules.push_back(StepRule{"Upsample", 10, "deprecated -> Resize-10 with the same inputs and mode",
                           nullptr, UpsampleToResize});
  rules.push_back(StepRule{"Resize", 11,
                           "(X, scales) -> (X, roi=[], scales); coordinate_transformation_mode="
                           "asymmetric; nearest_mode floor (upsampling) or ceil (downsampling)",
                           CheckResizeTen, ResizeTenToEleven});
  rules.push_back(StepRule{"Resize", 13,
                           "roi/scales optional: empty placeholders dropped; tf_half_pixel_for_nn "
                           "refused",
                           CheckResizeThirteen, ResizeDropEmptyPlaceholders});
}

}  // namespace onnx_opt::opset
