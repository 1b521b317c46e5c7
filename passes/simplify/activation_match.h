// Matchers for fuse-activations: constants compared at float32 precision, single-use producers,
// Clip bounds in either opset form, and the Gelu forms.
#pragma once

#include <optional>
#include <string_view>

#include "ir/ir.h"

namespace onnx_opt::simplify {

// |a - b| within float32 rounding of a constant written with 7 digits (1e-6 relative).
bool Near(float a, double b);

// The producer of `v` when it is a default-domain `op` in user's graph whose output only `user`
// reads.
Node* SoleProducer(const Value* v, std::string_view op, const Node& user);

// For `node` = op(variable, c) with a one-element constant c near `value` (on the right for Div
// and Sub), the variable; else null.
Value* ScalarOperand(const Node* node, double value);

// Clip's bounds from inputs (opset >= 11) or attributes (before); absent bounds are infinite.
// False when a bound is not a one-element constant.
bool ClipBounds(const Node& clip, float& lo, float& hi);

// 0.5 * x * (1 + Erf(x / sqrt 2)) (or x * (1/sqrt 2)), or 0.5 * x * (1 + Tanh(sqrt(2/pi) *
// (x + 0.044715 * x^3))) with x^3 as Pow(x, 3) or x * x * x, rooted at the last Mul; the three
// factors in any grouping and operand order. The products and the 1 + f(...) sum must have no
// other use.
struct GeluForm {
  Value* x;
  bool tanh;
};
std::optional<GeluForm> MatchGelu(const Node& mul);

}  // namespace onnx_opt::simplify
