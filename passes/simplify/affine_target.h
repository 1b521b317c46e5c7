// The graph side of fuse-affine: the weighted node an affine map folds into (its constant weight
// and layout, its bias), writing a new weight and bias into it, and which elementwise ops are
// affine maps. The arithmetic itself is affine_fold.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"
#include "passes/core/rewrite.h"
#include "passes/simplify/affine_fold.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt::simplify {

// A Conv, ConvTranspose, Gemm (transA=0) or MatMul with a constant weight (input 1).
struct Target {
  Node* node;
  WeightLayout layout;
  ConstantOperand weight;
  int bias_input;       // 2 for Conv/ConvTranspose/Gemm; -1 for MatMul (no bias)
  int64_t output_rank;  // -1 when unknown (MatMul without a typed output)
};
std::optional<Target> ReadTarget(Node* node);

// The current bias (Gemm: C times beta) per output channel as float32; zeros when absent;
// nullopt when it is not constant or not per-channel.
std::optional<std::vector<float>> ReadBias(const Target& t);

// Writes a new weight (when `weight` is set) and bias (when `bias` is set; Gemm's beta becomes 1)
// into the target node, stored like the old ones (float16 stays float16).
void Rewrite(Rewriter& rewriter, const Target& t, const std::optional<std::vector<float>>& weight,
             const std::optional<std::vector<float>>& bias);

bool AllOnes(const std::vector<float>& v);

// The per-channel scale and shift of y = x (op) c for Mul/Div/Add/Sub with the constant c on
// side `constant_index`; false when the op is not affine in x (c / x).
bool AffineOf(std::string_view op, int constant_index, const std::vector<float>& c,
              std::vector<float>& scale, std::vector<float>& shift);

// True when the Conv adds no padding (a shift of its input then reaches no zero border).
bool HasNoPadding(const Node& conv);

}  // namespace onnx_opt::simplify
