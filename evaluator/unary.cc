// Unary kernels: maths and activations (one double -> double function per op, with an integer
// variant where ONNX defines one), and Softmax/LogSoftmax/Hardmax.
#include <cmath>
#include <cstdint>
#include <limits>

#include "evaluator/kernel.h"

namespace onnx_opt::eval {
namespace {

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }
int64_t S(uint64_t v) { return static_cast<int64_t>(v); }

struct Params {
  double alpha = 0, beta = 0, gamma = 0;
};
using RealFn = double (*)(double, const Params&);
using IntFn = int64_t (*)(int64_t);

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

template <RealFn F, IntFn I>
absl::Status Unary(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  const std::string& op = ctx.node().op_type;
  Params p;
  p.alpha = ctx.FloatAttr("alpha", op == "LeakyRelu"     ? 0.01f
                                   : op == "HardSigmoid" ? 0.2f
                                   : op == "Selu"        ? 1.67326319217681884765625f
                                                         : 1.0f);
  p.beta = ctx.FloatAttr("beta", 0.5f);
  p.gamma = ctx.FloatAttr("gamma", 1.05070102214813232421875f);
  if (op == "Shrink") {
    p.beta = ctx.FloatAttr("bias", 0.0f);
    p.gamma = ctx.FloatAttr("lambd", 0.5f);
  }
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

double Celu(double x, const Params& p) {
  return std::fmax(0.0, x) + std::fmin(0.0, p.alpha * (std::exp(x / p.alpha) - 1));
}
double ThresholdedRelu(double x, const Params& p) { return x > p.alpha ? x : 0.0; }
double Shrink(double x, const Params& p) {
  return x < -p.gamma ? x + p.beta : (x > p.gamma ? x - p.beta : 0.0);
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
REAL_FN(Tan, std::tan(x))
REAL_FN(Asin, std::asin(x))
REAL_FN(Acos, std::acos(x))
REAL_FN(Atan, std::atan(x))
REAL_FN(Sinh, std::sinh(x))
REAL_FN(Cosh, std::cosh(x))
REAL_FN(Asinh, std::asinh(x))
REAL_FN(Acosh, std::acosh(x))
REAL_FN(Atanh, std::atanh(x))
#undef REAL_FN

// Softmax, LogSoftmax, Hardmax: over `axis` (opset >= 13), or over the dims from `axis` on of the
// input flattened to 2-D (earlier opsets).
absl::Status SoftmaxFamily(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  if (!IsReal(t.type())) return ctx.Unsupported("unsupported type");
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  const bool v13 = ctx.opset() >= 13;
  const int64_t rank = t.rank();
  std::optional<int64_t> axis = NormalizeAxis(ctx.IntAttr("axis", v13 ? -1 : 1), rank);
  if (!axis && !(rank == 0 && !v13)) return ctx.Invalid("axis out of range");
  int64_t outer = 1, extent = 1, inner = 1;
  for (int64_t a = 0; a < rank; ++a) {
    const int64_t d = t.dims()[a];
    if (a < *axis)
      outer *= d;
    else if (a == *axis || !v13)
      extent *= d;
    else
      inner *= d;
  }
  std::vector<double> v = ReadReals(t);
  const std::string& op = ctx.node().op_type;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) -> double& { return v[(o * extent + k) * inner + i]; };
      double max = -std::numeric_limits<double>::infinity();
      int64_t arg = 0;
      for (int64_t k = 0; k < extent; ++k) {
        if (at(k) > max) max = at(k), arg = k;
      }
      double sum = 0;
      for (int64_t k = 0; k < extent; ++k) sum += std::exp(at(k) - max);
      for (int64_t k = 0; k < extent; ++k) {
        if (op == "Softmax")
          at(k) = std::exp(at(k) - max) / sum;
        else if (op == "LogSoftmax")
          at(k) = at(k) - max - std::log(sum);
        else
          at(k) = k == arg ? 1.0 : 0.0;
      }
    }
  }
  ctx.SetOutput(0, MakeReal(t.type(), t.dims(), v));
  return absl::OkStatus();
}

}  // namespace

void RegisterUnaryKernels(KernelTable& t) {
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
  t["Celu"] = Unary<Celu, nullptr>;
  t["ThresholdedRelu"] = Unary<ThresholdedRelu, nullptr>;
  t["Shrink"] = Unary<Shrink, nullptr>;
  t["Tan"] = Unary<Tan, nullptr>;
  t["Asin"] = Unary<Asin, nullptr>;
  t["Acos"] = Unary<Acos, nullptr>;
  t["Atan"] = Unary<Atan, nullptr>;
  t["Sinh"] = Unary<Sinh, nullptr>;
  t["Cosh"] = Unary<Cosh, nullptr>;
  t["Asinh"] = Unary<Asinh, nullptr>;
  t["Acosh"] = Unary<Acosh, nullptr>;
  t["Atanh"] = Unary<Atanh, nullptr>;
  t["Softmax"] = SoftmaxFamily;
  t["LogSoftmax"] = SoftmaxFamily;
  t["Hardmax"] = SoftmaxFamily;
}

}  // namespace onnx_opt::eval
