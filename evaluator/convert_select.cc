// Kernels that convert or select elements: Cast, CastLike, Where, Clip, and the predicates Not,
// IsNaN, IsInf.
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "evaluator/kernel.h"
#include "ir/strings.h"

namespace onnx_opt::eval {
namespace {

// Inclusive range of an integer type, as doubles (exact for every bound that matters here).
void IntRange(DataType t, double* lo, double* hi) {
  switch (t) {
    case DataType::kInt8:
      *lo = -128;
      *hi = 127;
      return;
    case DataType::kUint8:
      *lo = 0;
      *hi = 255;
      return;
    case DataType::kInt16:
      *lo = -32768;
      *hi = 32767;
      return;
    case DataType::kUint16:
      *lo = 0;
      *hi = 65535;
      return;
    case DataType::kInt32:
      *lo = -2147483648.0;
      *hi = 2147483647.0;
      return;
    case DataType::kUint32:
      *lo = 0;
      *hi = 4294967295.0;
      return;
    default:
      *lo = -9223372036854775808.0;
      *hi = 9223372036854774784.0;
      return;
  }
}

absl::Status CastTo(KernelContext& ctx, const Tensor& t, DataType to) {
  const bool from_ok = IsReal(t.type()) || IsInteger(t.type());
  if (!from_ok || !(IsReal(to) || IsInteger(to))) {
    return ctx.Unsupported(absl::StrCat("Cast from ", ToAbsl(DataTypeName(t.type())), " to ",
                                        ToAbsl(DataTypeName(to))));
  }
  if (absl::Status s = ctx.CheckOutput(to, t.dims()); !s.ok()) return s;
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  if (!IsReal(t.type())) {
    ctx.SetOutput(0, MakeInt(to, t.dims(), ReadInts(t)));
    return absl::OkStatus();
  }
  std::vector<double> v = ReadReals(t);
  if (IsReal(to)) {
    ctx.SetOutput(0, MakeReal(to, t.dims(), v));
    return absl::OkStatus();
  }
  std::vector<int64_t> out(v.size());
  double lo = 0, hi = 0;
  IntRange(to, &lo, &hi);
  for (size_t i = 0; i < v.size(); ++i) {
    if (to == DataType::kBool) {
      out[i] = v[i] != 0;
      continue;
    }
    const double r = std::trunc(v[i]);
    // NaN and out-of-range values have no defined conversion: leave such casts to the runtime.
    if (!(r >= lo && r <= hi)) return ctx.Unsupported("value out of the target type's range");
    out[i] = static_cast<int64_t>(r);
  }
  ctx.SetOutput(0, MakeInt(to, t.dims(), out));
  return absl::OkStatus();
}

absl::Status Cast(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  std::optional<int64_t> to = ctx.node().GetInt("to");
  if (!to || !IsKnownDataType(static_cast<int32_t>(*to))) return ctx.Invalid("bad 'to'");
  return CastTo(ctx, **x, static_cast<DataType>(*to));
}

absl::Status CastLike(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  absl::StatusOr<const Tensor*> like = ctx.Required(1);
  if (!like.ok()) return like.status();
  return CastTo(ctx, **x, (*like)->type());
}

absl::Status Where(KernelContext& ctx) {
  const Tensor* in[3];
  for (size_t i = 0; i < 3; ++i) {
    absl::StatusOr<const Tensor*> t = ctx.Required(i);
    if (!t.ok()) return t.status();
    in[i] = *t;
  }
  if (in[0]->type() != DataType::kBool) return ctx.Invalid("condition must be bool");
  if (in[1]->type() != in[2]->type()) return ctx.Invalid("X and Y types differ");
  if (in[1]->type() == DataType::kString) return ctx.Unsupported("string Where");
  std::optional<std::vector<int64_t>> xy = BroadcastShapes(in[1]->dims(), in[2]->dims());
  std::optional<std::vector<int64_t>> dims;
  if (xy) dims = BroadcastShapes(in[0]->dims(), *xy);
  if (!dims) return ctx.Invalid("input shapes do not broadcast");
  if (absl::Status s = ctx.CheckOutput(DataType::kInt64, *dims); !s.ok()) return s;
  const std::vector<int64_t> ic = BroadcastIndices(in[0]->dims(), *dims);
  const std::vector<int64_t> ix = BroadcastIndices(in[1]->dims(), *dims);
  const std::vector<int64_t> iy = BroadcastIndices(in[2]->dims(), *dims);
  const int size = ElementBytes(in[1]->type());
  std::vector<uint8_t> bytes(ic.size() * size);
  const uint8_t* cond = in[0]->bytes().data();
  for (size_t i = 0; i < ic.size(); ++i) {
    const bool pick_x = cond[ic[i]] != 0;
    const uint8_t* src =
        pick_x ? in[1]->bytes().data() + ix[i] * size : in[2]->bytes().data() + iy[i] * size;
    std::memcpy(bytes.data() + i * size, src, size);
  }
  ctx.SetOutput(
      0, std::make_shared<Tensor>(in[1]->type(), *dims, Buffer::FromVector(std::move(bytes))));
  return absl::OkStatus();
}

// Predicates on reals and Not on bool.
absl::Status Predicate(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  const std::string& op = ctx.node().op_type;
  if (op == "Not" ? t.type() != DataType::kBool : !IsReal(t.type())) {
    return ctx.Unsupported("unsupported input type");
  }
  std::vector<double> v = ReadReals(t);
  std::vector<int64_t> out(v.size());
  const bool neg = ctx.IntAttr("detect_negative", 1) != 0;
  const bool pos = ctx.IntAttr("detect_positive", 1) != 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (op == "Not") out[i] = v[i] == 0;
    if (op == "IsNaN") out[i] = std::isnan(v[i]);
    if (op == "IsInf") out[i] = std::isinf(v[i]) && ((v[i] > 0 && pos) || (v[i] < 0 && neg));
  }
  ctx.SetOutput(0, MakeInt(DataType::kBool, t.dims(), out));
  return absl::OkStatus();
}

absl::Status Clip(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  if (!IsReal(t.type()) && !IsInteger(t.type())) return ctx.Unsupported("unsupported type");
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  double lo = -std::numeric_limits<double>::infinity(), hi = -lo;
  if (ctx.opset() < 11) {
    lo = ctx.FloatAttr("min", -std::numeric_limits<float>::max());
    hi = ctx.FloatAttr("max", std::numeric_limits<float>::max());
  }
  for (size_t i = 1; i <= 2; ++i) {
    const Tensor* bound = ctx.input(i);
    if (bound == nullptr) continue;
    if (bound->num_elements() != 1) return ctx.Invalid("min and max must be scalars");
    (i == 1 ? lo : hi) = ReadReals(*bound)[0];
  }
  std::vector<double> v = ReadReals(t);
  for (double& e : v) e = std::isnan(e) ? e : std::fmin(hi, std::fmax(lo, e));
  ctx.SetOutput(0, MakeReal(t.type(), t.dims(), v));
  return absl::OkStatus();
}

}  // namespace

void RegisterConvertSelectKernels(KernelTable& t) {
  t["Cast"] = Cast;
  t["CastLike"] = CastLike;
  t["Where"] = Where;
  t["Clip"] = Clip;
  t["Not"] = Predicate;
  t["IsNaN"] = Predicate;
  t["IsInf"] = Predicate;
}

}  // namespace onnx_opt::eval
