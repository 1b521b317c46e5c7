// Other operators whose schema changed.
//   Scatter 11:     deprecated -> ScatterElements-11 (same inputs, attributes and meaning).
//   RoiAlign 16:    coordinate_transformation_mode added with default half_pixel; the old
//                   behaviour is written out as output_half_pixel.
//   GridSample 20:  mode values renamed (bilinear -> linear, bicubic -> cubic).
//   DFT 20:         axis attribute (default 1) -> int64 scalar input 'axis' (whose default is -2).
//   Reshape 5:      shape attribute -> int64 input.
//   Gemm 7:         broadcast attribute removed (C broadcasts unidirectionally in both meanings).
//   Add, Sub, Mul, Div, Pow, And, Or, Xor, Equal, Greater, Less 7: legacy broadcast attribute ->
//                   numpy broadcasting; B aligned at `axis` is reshaped with trailing 1-dims.
//   ImageScaler 10: experimental op removed: y = x * scale + bias[c] written as Mul + Add with a
//                   scalar scale and a [C, 1, 1] bias in the data's float type.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/opset/adapters/adapter.h"
#include "quant/float16.h"

namespace onnx_opt::opset {
namespace {

absl::StatusOr<Node*> ScatterToScatterElements(Node& node, RewriteContext& ctx) {
  node.op_type = "ScatterElements";
  return &node;
}

absl::StatusOr<Node*> RoiAlignOldCoordinates(Node& node, RewriteContext& ctx) {
  if (!node.FindAttribute("coordinate_transformation_mode")) {
    node.SetAttribute(Attribute::String("coordinate_transformation_mode", "output_half_pixel"));
  }
  return &node;
}

absl::StatusOr<Node*> GridSampleRenameModes(Node& node, RewriteContext& ctx) {
  std::optional<std::string> mode = node.GetString("mode");
  if (mode == "bilinear") node.SetAttribute(Attribute::String("mode", "linear"));
  if (mode == "bicubic") node.SetAttribute(Attribute::String("mode", "cubic"));
  return &node;
}

absl::Status CheckDft(const Node& node, int64_t target_opset) {
  if (node.inputs().size() > 2 && node.input(2) != nullptr) {
    return Refuse(node, "already has a third input before opset 20");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> DftAxisToInput(Node& node, RewriteContext& ctx) {
  const int64_t axis = node.GetInt("axis").value_or(1);
  node.RemoveAttribute("axis");
  node.SetInput(2, ctx.Int64Scalar(axis, &node, "DFT_axis"));
  return &node;
}

absl::Status CheckReshapeShape(const Node& node, int64_t target_opset) {
  if (!node.GetInts("shape")) return Refuse(node, "Reshape-1 needs a shape attribute");
  if (node.input(1) != nullptr) return Refuse(node, "has a second input before opset 5");
  return absl::OkStatus();
}

absl::StatusOr<Node*> ReshapeShapeToInput(Node& node, RewriteContext& ctx) {
  node.RemoveAttribute("consumed_inputs");  // Reshape-1's legacy memory hint
  IntsAttributeToInput(node, "shape", 1, ctx);
  return &node;
}

absl::StatusOr<Node*> RemoveBroadcast(Node& node, RewriteContext& ctx) {
  node.RemoveAttribute("broadcast");
  return &node;
}

// Legacy broadcasting aligns B with A at `axis` (default: suffix alignment, which numpy does too).
std::optional<int64_t> Rank(const Value* v) {
  if (v == nullptr || !v->type.is_tensor() || !v->type.shape) return std::nullopt;
  return static_cast<int64_t>(v->type.shape->size());
}

absl::Status CheckLegacyBroadcast(const Node& node, int64_t target_opset) {
  if (node.GetInt("broadcast").value_or(0) == 0 || !node.GetInt("axis")) {
    return absl::OkStatus();
  }
  std::optional<int64_t> rank_a = Rank(node.input(0));
  std::optional<std::vector<int64_t>> dims_b =
      node.input(1) ? node.input(1)->type.static_dims() : std::nullopt;
  if (!rank_a || !dims_b) {
    return Refuse(node, "legacy broadcast with axis needs A's rank and B's static shape");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> LegacyToNumpyBroadcast(Node& node, RewriteContext& ctx) {
  const bool broadcast = node.GetInt("broadcast").value_or(0) != 0;
  std::optional<int64_t> axis = node.GetInt("axis");
  node.RemoveAttribute("broadcast");
  node.RemoveAttribute("axis");
  if (!broadcast || !axis) return &node;
  const int64_t rank_a = *Rank(node.input(0));
  std::vector<int64_t> dims_b = *node.input(1)->type.static_dims();
  const int64_t start = *axis < 0 ? *axis + rank_a : *axis;
  const int64_t trailing = rank_a - start - static_cast<int64_t>(dims_b.size());
  if (trailing <= 0) return &node;  // already suffix-aligned
  for (int64_t i = 0; i < trailing; ++i) dims_b.push_back(1);
  Value* shape = ctx.Int64s(dims_b, &node, absl::StrCat(node.op_type, "_b_shape"));
  Node* reshape = ctx.graph().CreateNode("Reshape", {node.input(1), shape}, 1, &node, "",
                                         {absl::StrCat(node.input(1)->name(), "_aligned")});
  std::vector<Dim> out_dims;
  for (int64_t d : dims_b) out_dims.push_back(Dim::Fixed(d));
  reshape->output(0)->type = ValueType::Tensor(node.input(1)->type.elem_type, out_dims);
  node.SetInput(1, reshape->output(0));
  return &node;
}

// ---- ImageScaler (removed at 10): NCHW x * scale + bias[c].
absl::Status CheckImageScaler(const Node& node, int64_t target_opset) {
  std::optional<DataType> type = InferElemType(node.input(0));
  if (!type ||
      (*type != DataType::kFloat && *type != DataType::kFloat16 && *type != DataType::kDouble)) {
    return Refuse(node, "needs the data's float element type to build scale and bias constants");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> ImageScalerToMulAdd(Node& node, RewriteContext& ctx) {
  const DataType type = *InferElemType(node.input(0));
  const float scale = node.GetFloat("scale").value_or(1.0f);
  std::vector<float> bias;
  if (const Attribute* attr = node.FindAttribute("bias")) {
    if (const auto* floats = std::get_if<std::vector<float>>(&attr->value)) bias = *floats;
  }
  Graph& graph = ctx.graph();
  Value* out = node.output(0);
  Value* result =
      graph
          .CreateNode("Mul",
                      {node.input(0), ctx.FloatScalar(type, scale, &node, "ImageScaler_scale")}, 1,
                      &node, "", {absl::StrCat(out->name(), "_scaled")})
          ->output(0);
  if (!bias.empty()) {
    const int64_t channels = static_cast<int64_t>(bias.size());
    Tensor bias_tensor;
    if (type == DataType::kFloat) {
      bias_tensor = Tensor::FromValues<float>(type, {channels, 1, 1}, bias);
    } else if (type == DataType::kDouble) {
      std::vector<double> wide(bias.begin(), bias.end());
      bias_tensor = Tensor::FromValues<double>(type, {channels, 1, 1}, wide);
    } else {
      std::vector<uint16_t> half;
      for (float b : bias) half.push_back(quant::FloatToHalf(b));
      bias_tensor = Tensor::FromValues<uint16_t>(type, {channels, 1, 1}, half);
    }
    result =
        graph
            .CreateNode(
                "Add", {result, ctx.AddConstant(std::move(bias_tensor), &node, "ImageScaler_bias")},
                1, &node, "", {absl::StrCat(out->name(), "_biased")})
            ->output(0);
  }
  if (absl::Status s = TakeOverValue(out, result, &node); !s.ok()) return s;
  return nullptr;
}

}  // namespace

void AppendMiscRules(std::vector<StepRule>& rules) {
  rules.push_back(StepRule{"Scatter", 11, "deprecated -> ScatterElements-11 (same meaning)",
                           nullptr, ScatterToScatterElements});
  rules.push_back(StepRule{"RoiAlign", 16,
                           "coordinate_transformation_mode default changed: old behaviour "
                           "written as output_half_pixel",
                           nullptr, RoiAlignOldCoordinates});
  rules.push_back(StepRule{"GridSample", 20, "mode bilinear -> linear, bicubic -> cubic", nullptr,
                           GridSampleRenameModes});
  rules.push_back(StepRule{"DFT", 20, "axis attribute (default 1) -> int64 scalar input 'axis'",
                           CheckDft, DftAxisToInput});
  rules.push_back(StepRule{"Reshape", 5, "shape attribute -> int64 input (consumed_inputs dropped)",
                           CheckReshapeShape, ReshapeShapeToInput});
  rules.push_back(StepRule{"ImageScaler", 10,
                           "experimental op removed: Mul by scalar scale + Add of [C, 1, 1] bias",
                           CheckImageScaler, ImageScalerToMulAdd});
  rules.push_back(StepRule{"Gemm", 7, "broadcast attribute removed (same unidirectional meaning)",
                           nullptr, RemoveBroadcast});
  for (std::string_view op :
       {"Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less"}) {
    rules.push_back(StepRule{op, 7,
                             "legacy broadcast/axis -> numpy broadcasting (B reshaped with "
                             "trailing 1-dims when aligned at axis)",
                             CheckLegacyBroadcast, LegacyToNumpyBroadcast});
  }
}

}  // namespace onnx_opt::opset
