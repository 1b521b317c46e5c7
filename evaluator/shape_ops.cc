// Kernels that compute or change shapes: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze,
// Identity (these share the input's bytes), ConstantOfShape, Range, Expand.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "evaluator/kernel.h"

namespace onnx_opt::eval {
namespace {

absl::Status Shape(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const int64_t rank = (*x)->rank();
  int64_t start = ctx.IntAttr("start", 0), end = ctx.IntAttr("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims((*x)->dims().begin() + start, (*x)->dims().begin() + end);
  ctx.SetOutput(0, MakeInt(DataType::kInt64, {static_cast<int64_t>(dims.size())}, dims));
  return absl::OkStatus();
}

absl::Status Size(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const int64_t n = (*x)->num_elements();
  ctx.SetOutput(0, MakeInt(DataType::kInt64, {}, std::vector<int64_t>{n}));
  return absl::OkStatus();
}

absl::Status Identity(KernelContext& ctx) {
  if (ctx.input(0) == nullptr) return ctx.Invalid("input 0 is missing");
  ctx.SetOutput(0, ctx.input_ptr(0));
  return absl::OkStatus();
}

absl::Status Reshape(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  std::vector<int64_t> dims;
  if (ctx.opset() < 5) {
    dims = ctx.node().GetInts("shape").value_or(std::vector<int64_t>{});
  } else {
    absl::StatusOr<const Tensor*> shape = ctx.Required(1);
    if (!shape.ok()) return shape.status();
    absl::StatusOr<std::vector<int64_t>> v = ReadIndexValues(ctx, **shape, "shape");
    if (!v.ok()) return v.status();
    dims = *std::move(v);
  }
  const bool allow_zero = ctx.IntAttr("allowzero", 0) != 0;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0 && !allow_zero) {
      if (i >= (*x)->dims().size()) return ctx.Invalid("0 in shape past the input's rank");
      dims[i] = (*x)->dims()[i];
    }
    if (dims[i] == -1) {
      if (infer >= 0) return ctx.Invalid("more than one -1 in shape");
      infer = static_cast<int>(i);
      continue;
    }
    if (dims[i] < 0) return ctx.Invalid("negative dim in shape");
    std::optional<int64_t> n = ElementCount(std::vector<int64_t>{known, dims[i]});
    if (!n) return ctx.Invalid("shape overflows");
    known = *n;
  }
  const int64_t total = (*x)->num_elements();
  if (infer >= 0) {
    if (known == 0 || total % known != 0) return ctx.Invalid("cannot infer the -1 dim");
    dims[infer] = total / known;
  } else if (known != total) {
    return ctx.Invalid("shape does not match the element count");
  }
  ctx.SetOutput(0, Reshaped(ctx.input_ptr(0), std::move(dims)));
  return absl::OkStatus();
}

absl::Status Flatten(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const int64_t rank = (*x)->rank();
  int64_t axis = ctx.IntAttr("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) return ctx.Invalid("axis out of range");
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= (*x)->dims()[i];
  const int64_t total = (*x)->num_elements();
  ctx.SetOutput(0, Reshaped(ctx.input_ptr(0), {outer, outer == 0 ? 0 : total / outer}));
  return absl::OkStatus();
}

// Axes of Squeeze/Unsqueeze: an attribute before opset 13, an input from 13 on.
absl::StatusOr<std::optional<std::vector<int64_t>>> Axes(const KernelContext& ctx) {
  if (ctx.opset() < 13) return ctx.node().GetInts("axes");
  const Tensor* axes = ctx.input(1);
  if (axes == nullptr) return std::optional<std::vector<int64_t>>();
  absl::StatusOr<std::vector<int64_t>> v = ReadIndexValues(ctx, *axes, "axes");
  if (!v.ok()) return v.status();
  return std::optional<std::vector<int64_t>>(*std::move(v));
}

absl::Status Squeeze(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  absl::StatusOr<std::optional<std::vector<int64_t>>> axes = Axes(ctx);
  if (!axes.ok()) return axes.status();
  const std::vector<int64_t>& in = (*x)->dims();
  std::vector<bool> drop(in.size(), false);
  if (!*axes) {
    for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  } else {
    for (int64_t a : **axes) {
      std::optional<int64_t> axis = NormalizeAxis(a, static_cast<int64_t>(in.size()));
      if (!axis || in[*axis] != 1) return ctx.Invalid("axis out of range or not of size 1");
      drop[*axis] = true;
    }
  }
  std::vector<int64_t> dims;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!drop[i]) dims.push_back(in[i]);
  }
  ctx.SetOutput(0, Reshaped(ctx.input_ptr(0), std::move(dims)));
  return absl::OkStatus();
}

absl::Status Unsqueeze(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  absl::StatusOr<std::optional<std::vector<int64_t>>> axes = Axes(ctx);
  if (!axes.ok()) return axes.status();
  if (!*axes) return ctx.Invalid("axes are missing");
  const int64_t rank = (*x)->rank() + static_cast<int64_t>((*axes)->size());
  if (rank > 64) return ctx.Unsupported("rank over 64");
  std::vector<bool> inserted(rank, false);
  for (int64_t a : **axes) {
    std::optional<int64_t> axis = NormalizeAxis(a, rank);
    if (!axis || inserted[*axis]) return ctx.Invalid("axis out of range or repeated");
    inserted[*axis] = true;
  }
  std::vector<int64_t> dims;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i) dims.push_back(inserted[i] ? 1 : (*x)->dims()[next++]);
  ctx.SetOutput(0, Reshaped(ctx.input_ptr(0), std::move(dims)));
  return absl::OkStatus();
}

absl::Status ConstantOfShape(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> shape = ctx.Required(0);
  if (!shape.ok()) return shape.status();
  absl::StatusOr<std::vector<int64_t>> dims = ReadIndexValues(ctx, **shape, "shape");
  if (!dims.ok()) return dims.status();
  TensorPtr value;
  if (const Attribute* a = ctx.node().FindAttribute("value")) {
    if (const auto* t = std::get_if<TensorPtr>(&a->value)) value = *t;
  }
  if (value == nullptr) value = MakeReal(DataType::kFloat, {1}, std::vector<double>{0.0});
  if (value->num_elements() != 1 || ElementBytes(value->type()) == 0 ||
      !value->CheckConsistent().ok()) {
    return ctx.Invalid("value must hold one numeric element");
  }
  if (absl::Status s = ctx.CheckOutput(value->type(), *dims); !s.ok()) return s;
  const int size = ElementBytes(value->type());
  const int64_t n = *ElementCount(*dims);
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * size);
  for (int64_t i = 0; i < n; ++i) std::memcpy(bytes.data() + i * size, value->bytes().data(), size);
  ctx.SetOutput(0, std::make_shared<Tensor>(value->type(), *std::move(dims),
                                            Buffer::FromVector(std::move(bytes))));
  return absl::OkStatus();
}

absl::Status Range(KernelContext& ctx) {
  const Tensor* in[3];
  for (size_t i = 0; i < 3; ++i) {
    absl::StatusOr<const Tensor*> t = ctx.Required(i);
    if (!t.ok()) return t.status();
    if ((*t)->num_elements() != 1) return ctx.Invalid("start, limit and delta must be scalars");
    in[i] = *t;
  }
  const DataType type = in[0]->type();
  if (!IsReal(type) && !IsInteger(type)) return ctx.Unsupported("unsupported type");
  const double start = ReadReals(*in[0])[0], limit = ReadReals(*in[1])[0];
  const double delta = ReadReals(*in[2])[0];
  if (delta == 0 || std::isnan(start) || std::isnan(limit) || std::isnan(delta)) {
    return ctx.Invalid("delta is 0 or a bound is NaN");
  }
  const double count = std::max(std::ceil((limit - start) / delta), 0.0);
  if (!(count < 1e15)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(ctx.node().DebugName(), ": Range of ", count, " elements is over max-bytes"));
  }
  const int64_t n = static_cast<int64_t>(count);
  if (absl::Status s = ctx.CheckOutput(type, std::vector<int64_t>{n}); !s.ok()) return s;
  if (IsReal(type)) {
    std::vector<double> v(n);
    // ONNX defines element i as start + i * delta computed in the type itself.
    for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<double>(i) * delta;
    ctx.SetOutput(0, MakeReal(type, {n}, v));
  } else {
    const int64_t s0 = ReadInts(*in[0])[0], d = ReadInts(*in[2])[0];
    std::vector<int64_t> v(n);
    for (int64_t i = 0; i < n; ++i) {
      v[i] = static_cast<int64_t>(static_cast<uint64_t>(s0) +
                                  static_cast<uint64_t>(i) * static_cast<uint64_t>(d));
    }
    ctx.SetOutput(0, MakeInt(type, {n}, v));
  }
  return absl::OkStatus();
}

absl::Status Expand(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  absl::StatusOr<const Tensor*> shape = ctx.Required(1);
  if (!shape.ok()) return shape.status();
  absl::StatusOr<std::vector<int64_t>> target = ReadIndexValues(ctx, **shape, "shape");
  if (!target.ok()) return target.status();
  if (target->size() > 64) return ctx.Unsupported("rank over 64");
  for (int64_t d : *target) {
    if (d < 0) return ctx.Invalid("negative dim in shape");
  }
  std::optional<std::vector<int64_t>> dims = BroadcastShapes((*x)->dims(), *target);
  if (!dims) return ctx.Invalid("shape does not broadcast with the input");
  if (absl::Status s = ctx.CheckOutput((*x)->type(), *dims); !s.ok()) return s;
  if (absl::Status s = ctx.CheckOutput(DataType::kInt64, *dims); !s.ok()) return s;
  ctx.SetOutput(0, GatherElementsRaw(**x, *dims, BroadcastIndices((*x)->dims(), *dims)));
  return absl::OkStatus();
}

}  // namespace

void RegisterShapeKernels(KernelTable& t) {
  t["Shape"] = Shape;
  t["Size"] = Size;
  t["Identity"] = Identity;
  t["Reshape"] = Reshape;
  t["Flatten"] = Flatten;
  t["Squeeze"] = Squeeze;
  t["Unsqueeze"] = Unsqueeze;
  t["ConstantOfShape"] = ConstantOfShape;
  t["Range"] = Range;
  t["Expand"] = Expand;
}

}  // namespace onnx_opt::eval
