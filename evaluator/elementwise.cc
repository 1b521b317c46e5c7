// Broadcasting binary kernels: arithmetic, PRelu, comparisons and logic, and the variadic
// Sum/Mean/Max/Min.
#include <cmath>
#include <cstdint>
#include <limits>

#include "evaluator/kernel.h"

namespace onnx_opt::eval {
namespace {

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }
int64_t S(uint64_t v) { return static_cast<int64_t>(v); }
int64_t IntNeg(int64_t x) { return S(0 - U(x)); }

enum class BinOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kPow,
  kMod,
  kMax,
  kMin,
  kPRelu,
  kEq,
  kLt,
  kGt,
  kLe,
  kGe,
  kAnd,
  kOr,
  kXor
};

bool IsComparison(BinOp op) { return op >= BinOp::kEq; }

double RealBinary(BinOp op, double a, double b, bool fmod) {
  switch (op) {
    case BinOp::kAdd:
      return a + b;
    case BinOp::kSub:
      return a - b;
    case BinOp::kMul:
      return a * b;
    case BinOp::kDiv:
      return a / b;
    case BinOp::kPow:
      return std::pow(a, b);
    case BinOp::kMod: {
      double r = std::fmod(a, b);
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
    case BinOp::kMax:
      return std::isnan(a) || std::isnan(b) ? NAN : std::fmax(a, b);
    case BinOp::kMin:
      return std::isnan(a) || std::isnan(b) ? NAN : std::fmin(a, b);
    case BinOp::kPRelu:
      return a < 0 ? a * b : a;
    case BinOp::kEq:
      return a == b;
    case BinOp::kLt:
      return a < b;
    case BinOp::kGt:
      return a > b;
    case BinOp::kLe:
      return a <= b;
    case BinOp::kGe:
      return a >= b;
    case BinOp::kAnd:
      return a != 0 && b != 0;
    case BinOp::kOr:
      return a != 0 || b != 0;
    case BinOp::kXor:
      return (a != 0) != (b != 0);
  }
  return 0;
}

// Integer arithmetic wraps; false for a division by zero or a negative power.
bool IntBinary(BinOp op, int64_t a, int64_t b, bool fmod, int64_t* out) {
  switch (op) {
    case BinOp::kAdd:
      *out = S(U(a) + U(b));
      return true;
    case BinOp::kSub:
      *out = S(U(a) - U(b));
      return true;
    case BinOp::kMul:
      *out = S(U(a) * U(b));
      return true;
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
    case BinOp::kMax:
      *out = a > b ? a : b;
      return true;
    case BinOp::kMin:
      *out = a < b ? a : b;
      return true;
    case BinOp::kPRelu:
      *out = a < 0 ? S(U(a) * U(b)) : a;
      return true;
    case BinOp::kEq:
      *out = a == b;
      return true;
    case BinOp::kLt:
      *out = a < b;
      return true;
    case BinOp::kGt:
      *out = a > b;
      return true;
    case BinOp::kLe:
      *out = a <= b;
      return true;
    case BinOp::kGe:
      *out = a >= b;
      return true;
    case BinOp::kAnd:
      *out = a != 0 && b != 0;
      return true;
    case BinOp::kOr:
      *out = a != 0 || b != 0;
      return true;
    case BinOp::kXor:
      *out = (a != 0) != (b != 0);
      return true;
  }
  return false;
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

}  // namespace

void RegisterBinaryKernels(KernelTable& t) {
  t["Add"] = Binary<BinOp::kAdd>;
  t["PRelu"] = Binary<BinOp::kPRelu>;
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
