#include "passes/simplify/affine_target.h"

#include <cmath>

namespace onnx_opt::simplify {

std::optional<Target> ReadTarget(Node* node) {
  if (node == nullptr || !node->domain.empty()) return std::nullopt;
  std::optional<ConstantOperand> weight = ReadConstant(node->input(1));
  if (!weight || node->input(0) == nullptr || node->outputs().size() != 1) return std::nullopt;
  Target t{node, {WeightedOp::kConv, weight->dims, 1}, *weight, 2, 2};
  if (node->op_type == "Conv" || node->op_type == "ConvTranspose") {
    if (node->op_type == "ConvTranspose") t.layout.op = WeightedOp::kConvTranspose;
    t.layout.group = node->GetInt("group").value_or(1);
    t.output_rank = static_cast<int64_t>(weight->dims.size());
  } else if (node->op_type == "Gemm") {
    if (node->GetInt("transA").value_or(0) != 0) return std::nullopt;  // A's channels on axis 0
    if (node->GetInt("transB").value_or(0) != 0)
      t.layout.op = WeightedOp::kGemmBTransposed;
    else
      t.layout.op = WeightedOp::kGemmB;
  } else if (node->op_type == "MatMul") {
    t.layout.op = WeightedOp::kGemmB;
    t.bias_input = -1;
    // Output rank: known from the type, else 1 or more (a constant of rank <= 1 is safe).
    const auto& shape = node->output(0)->type.shape;
    t.output_rank = shape ? static_cast<int64_t>(shape->size()) : -1;
  } else {
    return std::nullopt;
  }
  if (!t.layout.valid()) return std::nullopt;
  return t;
}

// The current bias (C for Gemm, times beta) as float32 per output channel; zeros when absent.
std::optional<std::vector<float>> ReadBias(const Target& t) {
  const int64_t n = t.layout.out_channels();
  Value* bias = t.node->input(t.bias_input);
  if (bias == nullptr) return std::vector<float>(n, 0.0f);
  std::optional<ConstantOperand> c = ReadConstant(bias);
  if (!c) return std::nullopt;
  // Gemm's C broadcasts against [M, N]; a Conv bias is exactly [M].
  const bool gemm = t.node->op_type == "Gemm";
  std::optional<std::vector<float>> per =
      gemm ? PerChannel(*c, 2, 1, n)
           : (c->dims.size() == 1 ? PerChannel(*c, 1, 0, n) : std::nullopt);
  if (!per) return std::nullopt;
  const float beta = gemm ? t.node->GetFloat("beta").value_or(1.0f) : 1.0f;
  for (float& v : *per) v *= beta;
  return per;
}

// "w" for "w", "w_fused" and "w_fused__2": repeated folds do not grow the name.
std::string BaseName(const std::string& name) {
  size_t cut = name.rfind("_fused");
  return cut == std::string::npos || cut == 0 ? name : name.substr(0, cut);
}

// Writes a new weight (when `weight` is set) and bias (when `bias` is set) into the target node.
void Rewrite(Rewriter& rewriter, const Target& t, const std::optional<std::vector<float>>& weight,
             const std::optional<std::vector<float>>& bias) {
  Node* node = t.node;
  const std::string base = BaseName(node->input(1)->name());
  if (weight) {
    node->SetInput(
        1, MakeConstantLike(rewriter, node, t.weight, t.weight.dims, *weight, base + "_fused"));
  }
  if (bias) {
    Value* old_bias = node->input(t.bias_input);
    std::optional<ConstantOperand> old = ReadConstant(old_bias);
    const ConstantOperand& like = old ? *old : t.weight;
    std::string hint = old ? BaseName(old_bias->name()) + "_fused" : base + "_bias";
    node->SetInput(
        t.bias_input,
        MakeConstantLike(rewriter, node, like, {static_cast<int64_t>(bias->size())}, *bias, hint));
    if (node->op_type == "Gemm") node->SetAttribute(Attribute::Float("beta", 1.0f));
  }
  rewriter.NotifyChanged(node);
}

bool AllOnes(const std::vector<float>& v) {
  for (float x : v) {
    if (x != 1.0f) return false;
  }
  return true;
}

// The per-channel scale and shift of y = x (op) c, for c on side `constant_index`.
bool AffineOf(std::string_view op, int constant_index, const std::vector<float>& c,
              std::vector<float>& scale, std::vector<float>& shift) {
  const size_t n = c.size();
  scale.assign(n, 1.0f);
  shift.assign(n, 0.0f);
  if (op == "Mul") {
    scale = c;
  } else if (op == "Div") {
    if (constant_index != 1) return false;  // c / x is not affine
    for (size_t i = 0; i < n; ++i) scale[i] = 1.0f / c[i];
  } else if (op == "Add") {
    shift = c;
  } else if (op == "Sub") {
    for (size_t i = 0; i < n; ++i) {
      shift[i] = constant_index == 1 ? -c[i] : c[i];
      if (constant_index == 0) scale[i] = -1.0f;
    }
  } else {
    return false;
  }
  return true;
}

bool HasNoPadding(const Node& conv) {
  std::string auto_pad = conv.GetString("auto_pad").value_or("NOTSET");
  if (auto_pad == "VALID") return true;
  if (auto_pad != "NOTSET") return false;
  for (int64_t p : conv.GetInts("pads").value_or(std::vector<int64_t>{})) {
    if (p != 0) return false;
  }
  return true;
}

}  // namespace onnx_opt::simplify
