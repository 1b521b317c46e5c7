// Elementwise kernels: unary maths and activations, broadcasting binary arithmetic, comparisons
// and logic, variadic Sum/Mean/Max/Min.
#include <cmath>
#include <cstdint>
#include <limits>

#include "evaluator/kernel.h"

namespace onnx_opt::eval {
namespace {

struct Params {
  double alpha = 0, beta = 0, gamma = 0;
};
using RealFn = double (*)(double, const Params&);
using IntFn = int64_t (*)(int64_t);

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }
int64_t S(uint64_t v) { return static_cast<int64_t>(v); }

double Sigmoid(double x, const Params&) { return 1.0 / (1.0 + std::exp(-x)); }
double Relu(double x, const Params&) { return x > 0 ? x : 0.0; }
double LeakyRelu(double x, const Params& p) { return x >= 0 ? x : p.alpha * x; }
double Elu(double x, const Params& p) { return x >= 0 ? x : p.alpha * (std::exp(x) - 1); }
double Selu(double x, const Params& p) {
  return p.gamma * (x > 0 ? x : p.alpha * (std::exp(x) - 1));
}
double HardSigmoid(double x, const Params& p) {
  return std::fmax(0.0, std::fmin(1.0, p.alpha * x + p.beta));
}
double HardSwish(double x, const Params&) {
  return x * std::fmax(0.0, std::fmin(1.0, x / 6 + 0.5));
}
double Sign(double x, const Params&) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }
int64_t IntNeg(int64_t x) { return S(0 - U(x)); }
int64_t IntAbs(int64_t x) { return x < 0 ? IntNeg(x) : x; }
int64_t IntSign(int64_t x) { return x > 0 ? 1 : (x < 0 ? -1 : 0); }
int64_t IntRelu(int64_t x) { return x > 0 ? x : 0; }
int64_t IntIdentity(int64_t x) { return x; }

template <RealFn F, IntFn I>
absl::Status Unary(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  const std::string& op = ctx.node().op_type;
  Params p;
  p.alpha = ctx.FloatAttr("alpha", op == "LeakyRelu" ? 0.01f
                                   : op == "HardSigmoid" ? 0.2f
                                   : op == "Selu" ? 1.67326319217681884765625f
                                                  : 1.0f);
  p.beta = ctx.FloatAttr("beta", 0.5f);
  p.gamma = ctx.FloatAttr("gamma", 1.05070102214813232421875f);
  if (IsReal(t.type())) {
    std::vector<double> v = ReadReals(t);
    for (double& e : v) e = F(e, p);
    ctx.SetOutput(0, MakeReal(t.type(), t.dims(), v));
    return absl::OkStatus();
  }
  if (I == nullptr || !IsInteger(t.type()) || t.type() == DataType::kBool) {
    return ctx.Unsupported("no integer kernel for this type");
  }
  std::vector<int64_t> v = ReadInts(t);
  for (int64_t& e : v) e = I(e);
  ctx.SetOutput(0, MakeInt(t.type(), t.dims(), v));
  return absl::OkStatus();
}

enum class BinOp { kAdd, kSub, kMul, kDiv, kPow, kMod, kMax, kMin, kEq, kLt, kGt, kLe, kGe,
                   kAnd, kOr, kXor };

bool IsComparison(BinOp op) { return op >= BinOp::kEq; }

double RealBinary(BinOp op, double a, double b, bool fmod) {
  switch (op) {
    case BinOp::kAdd: return a + b;
    case BinOp::kSub: return a - b;
    case BinOp::kMul: return a * b;
    case BinOp::kDiv: return a / b;
    case BinOp::kPow: return std::pow(a, b);
    case BinOp::kMod: {
      double r = std::fmod(a, b);
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
    case BinOp::kMax: return std::isnan(a) || std::isnan(b) ? NAN : std::fmax(a, b);
    case BinOp::kMin: return std::isnan(a) || std::isnan(b) ? NAN : std::fmin(a, b);
    case BinOp::kEq: return a == b;
    case BinOp::kLt: return a < b;
    case BinOp::kGt: return a > b;
    case BinOp::kLe: return a <= b;
    case BinOp::kGe: return a >= b;
    case BinOp::kAnd: return a != 0 && b != 0;
    case BinOp::kOr: return a != 0 || b != 0;
    case BinOp::kXor: return (a != 0) != (b != 0);
  }
  return 0;
}

// Integer arithmetic wraps; false for a division by zero or a negative power.
bool IntBinary(BinOp op, int64_t a, int64_t b, bool fmod, int64_t* out) {
  switch (op) {
    case BinOp::kAdd: *out = S(U(a) + U(b)); return true;
    case BinOp::kSub: *out = S(U(a) - U(b)); return true;
    case BinOp::kMul: *out = S(U(a) * U(b)); return true;
    case BinOp::kDiv:
    case BinOp::kMod: {
      if (b == 0) return false;
      if (b == -1) {  // avoids INT64_MIN / -1
        *out = op == BinOp::kDiv ? IntNeg(a) : 0;
        return true;
      }
      if (op == BinOp::kDiv) {
        *out = a / b;
      } else {
        int64_t r = a % b;
        if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
        *out = r;
      }
      return true;
    }
    case BinOp::kPow: {
      if (b < 0) return false;
      uint64_t r = 1, base = U(a);
      for (int64_t e = b; e > 0; e >>= 1, base *= base) {
        if (e & 1) r *= base;
      }
      *out = S(r);
      return true;
    }
    case BinOp::kMax: *out = a > b ? a : b; return true;
    case BinOp::kMin: *out = a < b ? a : b; return true;
    case BinOp::kEq: *out = a == b; return true;
    case BinOp::kLt: *out = a < b; return true;
    case BinOp::kGt: *out = a > b; return true;
    case BinOp::kLe: *out = a <= b; return true;
    case BinOp::kGe: *out = a >= b; return true;
    case BinOp::kAnd: *out = a != 0 && b != 0; return true;
    case BinOp::kOr: *out = a != 0 || b != 0; return true;
    case BinOp::kXor: *out = (a != 0) != (b != 0); return true;
  }
}

// out = a (op) b with broadcasting; the result type is a's (bool for comparisons).
absl::StatusOr<TensorPtr> Broadcast2(const KernelContext& ctx, BinOp op, const Tensor& a,
                                     const Tensor& b) {
  const bool logic = op >= BinOp::kAnd;
  if (logic && (a.type() != DataType::kBool || b.type() != DataType::kBool)) {
    return ctx.Unsupported("logical ops take bool");
  }
  const bool real = IsReal(a.type());
  if (!(real || IsInteger(a.type())) || !(IsReal(b.type()) || IsInteger(b.type()))) {
    return ctx.Unsupported("unsupported input type");
  }
  if (op != BinOp::kPow && a.type() != b.type()) return ctx.Invalid("input types differ");
  std::optional<std::vector<int64_t>> dims = BroadcastShapes(a.dims(), b.dims());
  if (!dims) return ctx.Invalid("input shapes do not broadcast");
  const DataType out_type = IsComparison(op) ? DataType::kBool : a.type();
  if (absl::Status s = ctx.CheckOutput(DataType::kDouble, *dims); !s.ok()) return s;
  if (absl::Status s = ctx.CheckOutput(out_type, *dims); !s.ok()) return s;
  if (absl::Status s = ctx.CheckDecodable(a); !s.ok()) return s;
  if (absl::Status s = ctx.CheckDecodable(b); !s.ok()) return s;
  const std::vector<int64_t> ia = BroadcastIndices(a.dims(), *dims);
  const std::vector<int64_t> ib = BroadcastIndices(b.dims(), *dims);
  const bool fmod = ctx.IntAttr("fmod", 0) != 0;
  if (real || IsReal(b.type())) {  // Pow(int, float) computes in double too
    std::vector<double> va = ReadReals(a), vb = ReadReals(b), out(ia.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = RealBinary(op, va[ia[i]], vb[ib[i]], fmod);
    if (!real) {
      for (double& v : out) {
        if (!(std::fabs(v) < 9.2e18)) return ctx.Unsupported("result out of integer range");
      }
    }
    return MakeReal(out_type, *dims, out);
  }
  std::vector<int64_t> va = ReadInts(a), vb = ReadInts(b), out(ia.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (!IntBinary(op, va[ia[i]], vb[ib[i]], fmod, &out[i])) {
      return ctx.Unsupported("integer division by zero or negative power");
    }
  }
  return MakeInt(out_type, *dims, out);
}

template <BinOp Op>
absl::Status Binary(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> a = ctx.Required(0);
  if (!a.ok()) return a.status();
  absl::StatusOr<const Tensor*> b = ctx.Required(1);
  if (!b.ok()) return b.status();
  absl::StatusOr<TensorPtr> out = Broadcast2(ctx, Op, **a, **b);
  if (!out.ok()) return out.status();
  ctx.SetOutput(0, *std::move(out));
  return absl::OkStatus();
}

// Sum, Mean, Max, Min over any number of inputs.
template <BinOp Op>
absl::Status Variadic(KernelContext& ctx) {
  if (ctx.num_inputs() == 0 || ctx.input(0) == nullptr) return ctx.Invalid("needs an input");
  TensorPtr acc = ctx.input_ptr(0);
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    absl::StatusOr<const Tensor*> next = ctx.Required(i);
    if (!next.ok()) return next.status();
    absl::StatusOr<TensorPtr> r = Broadcast2(ctx, Op, *acc, **next);
    if (!r.ok()) return r.status();
    acc = *std::move(r);
  }
  if (ctx.node().op_type == "Mean") {
    if (!IsReal(acc->type())) return ctx.Unsupported("Mean of integers");
    std::vector<double> v = ReadReals(*acc);
    for (double& e : v) e /= static_cast<double>(ctx.num_inputs());
    acc = MakeReal(acc->type(), acc->dims(), v);
  }
  ctx.SetOutput(0, acc);
  return absl::OkStatus();
}

#define REAL_FN(name, expr) \
  double name(double x, const Params&) { return expr; }
REAL_FN(Neg, -x)
REAL_FN(Abs, std::fabs(x))
REAL_FN(Sqrt, std::sqrt(x))
REAL_FN(Exp, std::exp(x))
REAL_FN(Log, std::log(x))
REAL_FN(Reciprocal, 1.0 / x)
REAL_FN(Floor, std::floor(x))
REAL_FN(Ceil, std::ceil(x))
REAL_FN(Round, std::nearbyint(x))
REAL_FN(Tanh, std::tanh(x))
REAL_FN(Erf, std::erf(x))
REAL_FN(Softplus, std::log1p(std::exp(x)))
REAL_FN(Softsign, x / (1 + std::fabs(x)))
REAL_FN(Sin, std::sin(x))
REAL_FN(Cos, std::cos(x))
#undef REAL_FN

}  // namespace

void RegisterElementwiseKernels(KernelTable& t) {
  t["Neg"] = Unary<Neg, IntNeg>;
  t["Abs"] = Unary<Abs, IntAbs>;
  t["Sign"] = Unary<Sign, IntSign>;
  t["Relu"] = Unary<Relu, IntRelu>;
  t["Sqrt"] = Unary<Sqrt, nullptr>;
  t["Exp"] = Unary<Exp, nullptr>;
  t["Log"] = Unary<Log, nullptr>;
  t["Reciprocal"] = Unary<Reciprocal, nullptr>;
  t["Floor"] = Unary<Floor, nullptr>;
  t["Ceil"] = Unary<Ceil, nullptr>;
  t["Round"] = Unary<Round, nullptr>;
  t["Sigmoid"] = Unary<Sigmoid, nullptr>;
  t["Tanh"] = Unary<Tanh, nullptr>;
  t["Erf"] = Unary<Erf, nullptr>;
  t["Softplus"] = Unary<Softplus, nullptr>;
  t["Softsign"] = Unary<Softsign, nullptr>;
  t["Sin"] = Unary<Sin, nullptr>;
  t["Cos"] = Unary<Cos, nullptr>;
  t["LeakyRelu"] = Unary<LeakyRelu, nullptr>;
  t["Elu"] = Unary<Elu, nullptr>;
  t["Selu"] = Unary<Selu, nullptr>;
  t["HardSigmoid"] = Unary<HardSigmoid, nullptr>;
  t["HardSwish"] = Unary<HardSwish, nullptr>;
  t["Add"] = Binary<BinOp::kAdd>;
  t["Sub"] = Binary<BinOp::kSub>;
  t["Mul"] = Binary<BinOp::kMul>;
  t["Div"] = Binary<BinOp::kDiv>;
  t["Pow"] = Binary<BinOp::kPow>;
  t["Mod"] = Binary<BinOp::kMod>;
  t["Equal"] = Binary<BinOp::kEq>;
  t["Less"] = Binary<BinOp::kLt>;
  t["Greater"] = Binary<BinOp::kGt>;
  t["LessOrEqual"] = Binary<BinOp::kLe>;
  t["GreaterOrEqual"] = Binary<BinOp::kGe>;
  t["And"] = Binary<BinOp::kAnd>;
  t["Or"] = Binary<BinOp::kOr>;
  t["Xor"] = Binary<BinOp::kXor>;
  t["Sum"] = Variadic<BinOp::kAdd>;
  t["Mean"] = Variadic<BinOp::kAdd>;
  t["Max"] = Variadic<BinOp::kMax>;
  t["Min"] = Variadic<BinOp::kMin>;
}

}  // namespace onnx_opt::eval
