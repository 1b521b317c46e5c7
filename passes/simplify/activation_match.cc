#include "passes/simplify/activation_match.h"

#include <cmath>
#include <utility>

#include "passes/simplify/simplify_utils.h"

namespace onnx_opt::simplify {
namespace {

bool IsHalf(const Value* v) {
  std::optional<ConstantOperand> c = ReadConstant(v);
  return c && c->values.size() == 1 && c->values[0] == 0.5f;
}

// The two factors beside the 0.5 of a three-factor product rooted at `mul`.
std::optional<std::pair<Value*, Value*>> HalfProductFactors(const Node& mul) {
  if (mul.inputs().size() != 2 || mul.input(0) == nullptr || mul.input(1) == nullptr) {
    return std::nullopt;
  }
  for (int side : {0, 1}) {
    Value* a = mul.input(side);
    Value* b = mul.input(1 - side);
    if (IsHalf(b)) {  // (p * q) * 0.5
      Node* inner = SoleProducer(a, "Mul", mul);
      if (inner != nullptr && inner->inputs().size() == 2 && inner->input(0) != nullptr &&
          inner->input(1) != nullptr) {
        return std::make_pair(inner->input(0), inner->input(1));
      }
    }
    if (Value* p = ScalarOperand(SoleProducer(a, "Mul", mul), 0.5)) return std::make_pair(p, b);
  }
  return std::nullopt;
}

// sqrt(2/pi) * (x + 0.044715 * x^3).
bool IsTanhArgument(const Value* v, const Value* x) {
  Node* scale = v->producer();
  Value* sum =
      scale != nullptr && scale->Is("Mul") ? ScalarOperand(scale, std::sqrt(2 / M_PI)) : nullptr;
  Node* add = sum != nullptr ? sum->producer() : nullptr;
  if (add == nullptr || !add->Is("Add") || add->inputs().size() != 2) return false;
  for (int side : {0, 1}) {
    if (add->input(1 - side) != x || add->input(side) == nullptr) continue;
    Node* cubic_scale = add->input(side)->producer();
    Value* cube = cubic_scale != nullptr && cubic_scale->Is("Mul")
                      ? ScalarOperand(cubic_scale, 0.044715)
                      : nullptr;
    Node* pow = cube != nullptr ? cube->producer() : nullptr;
    if (pow == nullptr) continue;
    if (pow->Is("Pow") && pow->input(0) == x && ScalarOperand(pow, 3.0) == x) return true;
    if (pow->Is("Mul") && pow->inputs().size() == 2) {
      for (int s : {0, 1}) {
        Node* sq = pow->input(s) != nullptr ? pow->input(s)->producer() : nullptr;
        if (pow->input(1 - s) == x && sq != nullptr && sq->Is("Mul") && sq->input(0) == x &&
            sq->input(1) == x) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

bool Near(float a, double b) { return std::fabs(a - b) <= 1e-6 * std::fabs(b) + 1e-7; }

Node* SoleProducer(const Value* v, std::string_view op, const Node& user) {
  Node* p = v != nullptr ? v->producer() : nullptr;
  if (p == nullptr || !p->Is(op) || p->graph() != user.graph()) return nullptr;
  return SoleUser(v) == &user ? p : nullptr;
}

Value* ScalarOperand(const Node* node, double value) {
  if (node == nullptr) return nullptr;
  std::optional<BinaryWithConstant> split = SplitConstantOperand(*node);
  if (!split || split->constant.values.size() != 1 || !Near(split->constant.values[0], value)) {
    return nullptr;
  }
  if ((node->op_type == "Div" || node->op_type == "Sub" || node->op_type == "Pow") &&
      split->constant_index != 1) {
    return nullptr;
  }
  return split->variable;
}

bool ClipBounds(const Node& clip, float& lo, float& hi) {
  lo = clip.GetFloat("min").value_or(-INFINITY);
  hi = clip.GetFloat("max").value_or(INFINITY);
  for (int i : {1, 2}) {
    if (clip.input(i) == nullptr) continue;
    std::optional<ConstantOperand> c = ReadConstant(clip.input(i));
    if (!c || c->values.size() != 1) return false;
    (i == 1 ? lo : hi) = c->values[0];
  }
  return true;
}

std::optional<GeluForm> MatchGelu(const Node& mul) {
  std::optional<std::pair<Value*, Value*>> factors = HalfProductFactors(mul);
  if (!factors) return std::nullopt;
  for (auto [x, sum] : {*factors, std::make_pair(factors->second, factors->first)}) {
    Node* add = sum->producer();
    if (add == nullptr || !add->Is("Add") || SoleUser(sum) == nullptr) continue;
    Value* core = ScalarOperand(add, 1.0);
    Node* f = core != nullptr ? core->producer() : nullptr;
    if (f == nullptr || SoleUser(core) != add || f->input(0) == nullptr) continue;
    if (f->Is("Erf")) {
      Node* scale = f->input(0)->producer();
      Value* arg = scale == nullptr   ? nullptr
                   : scale->Is("Div") ? ScalarOperand(scale, std::sqrt(2.0))
                   : scale->Is("Mul") ? ScalarOperand(scale, 1 / std::sqrt(2.0))
                                      : nullptr;
      if (arg == x) return GeluForm{x, false};
    } else if (f->Is("Tanh") && IsTanhArgument(f->input(0), x)) {
      return GeluForm{x, true};
    }
  }
  return std::nullopt;
}

}  // namespace onnx_opt::simplify
