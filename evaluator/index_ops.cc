// Index-driven kernels: GatherElements, GatherND, ScatterND, NonZero, Trilu, EyeLike, CumSum.
#include <cstring>

#include "evaluator/kernel.h"

namespace onnx_opt::eval {
namespace {

// Reads an index operand (int32/int64) of any length (bounded by CheckDecodable).
absl::StatusOr<std::vector<int64_t>> Indices(const KernelContext& ctx, const Tensor& t) {
  if (t.type() != DataType::kInt64 && t.type() != DataType::kInt32) {
    return ctx.Invalid("indices must be int32 or int64");
  }
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  return ReadInts(t);
}

absl::Status GatherElements(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> data = ctx.Required(0), idx_t = ctx.Required(1);
  if (!data.ok()) return data.status();
  if (!idx_t.ok()) return idx_t.status();
  const Tensor &d = **data, &it = **idx_t;
  std::optional<int64_t> axis = NormalizeAxis(ctx.IntAttr("axis", 0), d.rank());
  if (!axis || it.rank() != d.rank()) return ctx.Invalid("axis out of range or ranks differ");
  if (absl::Status s = CheckMovable(ctx, d, it.dims()); !s.ok()) return s;
  absl::StatusOr<std::vector<int64_t>> idx = Indices(ctx, it);
  if (!idx.ok()) return idx.status();
  const std::vector<int64_t> out_strides = Strides(it.dims()), in_strides = Strides(d.dims());
  std::vector<int64_t> index(idx->size());
  for (size_t i = 0; i < idx->size(); ++i) {
    int64_t rest = static_cast<int64_t>(i), flat = 0;
    for (int64_t a = 0; a < d.rank(); ++a) {
      int64_t c = rest / out_strides[a];
      rest %= out_strides[a];
      if (a == *axis) {
        c = (*idx)[i] < 0 ? (*idx)[i] + d.dims()[a] : (*idx)[i];
        if (c < 0 || c >= d.dims()[a]) return ctx.Invalid("index out of range");
      } else if (c >= d.dims()[a]) {
        return ctx.Invalid("indices larger than the data");
      }
      flat += c * in_strides[a];
    }
    index[i] = flat;
  }
  ctx.SetOutput(0, Materialize(d, it.dims(), index, nullptr));
  return absl::OkStatus();
}

// The flat offsets of the slices GatherND/ScatterND address: indices [..., k] into data.
absl::StatusOr<std::vector<int64_t>> SliceOffsets(const KernelContext& ctx, const Tensor& d,
                                                  const Tensor& it, int64_t* slice) {
  if (ctx.IntAttr("batch_dims", 0) != 0) return ctx.Unsupported("batch_dims");
  if (it.rank() == 0) return ctx.Invalid("indices must have rank >= 1");
  const int64_t k = it.dims().back();
  if (k > d.rank()) return ctx.Invalid("index tuples longer than the data's rank");
  absl::StatusOr<std::vector<int64_t>> idx = Indices(ctx, it);
  if (!idx.ok()) return idx.status();
  const std::vector<int64_t> strides = Strides(d.dims());
  *slice = 1;
  for (int64_t a = k; a < d.rank(); ++a) *slice *= d.dims()[a];
  std::vector<int64_t> offsets;
  for (size_t t = 0; k > 0 && t + k <= idx->size(); t += k) {
    int64_t flat = 0;
    for (int64_t a = 0; a < k; ++a) {
      int64_t c = (*idx)[t + a];
      if (c < 0) c += d.dims()[a];
      if (c < 0 || c >= d.dims()[a]) return ctx.Invalid("index out of range");
      flat += c * strides[a];
    }
    offsets.push_back(flat);
  }
  if (k == 0) offsets.assign(static_cast<size_t>(it.num_elements()), 0);
  return offsets;
}

absl::Status GatherND(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> data = ctx.Required(0), idx_t = ctx.Required(1);
  if (!data.ok()) return data.status();
  if (!idx_t.ok()) return idx_t.status();
  const Tensor &d = **data, &it = **idx_t;
  int64_t slice = 1;
  absl::StatusOr<std::vector<int64_t>> offsets = SliceOffsets(ctx, d, it, &slice);
  if (!offsets.ok()) return offsets.status();
  std::vector<int64_t> dims(it.dims().begin(), it.dims().end() - 1);
  dims.insert(dims.end(), d.dims().begin() + it.dims().back(), d.dims().end());
  if (absl::Status s = CheckMovable(ctx, d, dims); !s.ok()) return s;
  std::vector<int64_t> index;
  for (int64_t o : *offsets) {
    for (int64_t i = 0; i < slice; ++i) index.push_back(o + i);
  }
  ctx.SetOutput(0, Materialize(d, std::move(dims), index, nullptr));
  return absl::OkStatus();
}

absl::Status ScatterND(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> data = ctx.Required(0), idx_t = ctx.Required(1),
                                upd = ctx.Required(2);
  if (!data.ok()) return data.status();
  if (!idx_t.ok()) return idx_t.status();
  if (!upd.ok()) return upd.status();
  if (ctx.node().GetString("reduction").value_or("none") != "none") {
    return ctx.Unsupported("reduction");
  }
  const Tensor &d = **data, &u = **upd;
  if (u.type() != d.type()) return ctx.Invalid("updates type differs");
  if (absl::Status s = CheckMovable(ctx, d, d.dims()); !s.ok()) return s;
  int64_t slice = 1;
  absl::StatusOr<std::vector<int64_t>> offsets = SliceOffsets(ctx, d, **idx_t, &slice);
  if (!offsets.ok()) return offsets.status();
  if (static_cast<int64_t>(offsets->size()) * slice != u.num_elements()) {
    return ctx.Invalid("updates do not match the indices");
  }
  const int size = ElementBytes(d.type());
  std::vector<uint8_t> bytes(d.bytes().begin(), d.bytes().end());
  for (size_t t = 0; t < offsets->size(); ++t) {
    std::memcpy(bytes.data() + (*offsets)[t] * size, u.bytes().data() + t * slice * size,
                slice * size);
  }
  ctx.SetOutput(0,
                std::make_shared<Tensor>(d.type(), d.dims(), Buffer::FromVector(std::move(bytes))));
  return absl::OkStatus();
}

absl::Status NonZero(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  if (!IsReal(t.type()) && !IsInteger(t.type())) return ctx.Unsupported("unsupported type");
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  const std::vector<double> v = ReadReals(t);
  const std::vector<int64_t> strides = Strides(t.dims());
  std::vector<int64_t> nz;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != 0) nz.push_back(static_cast<int64_t>(i));
  }
  const int64_t n = static_cast<int64_t>(nz.size()), rank = std::max<int64_t>(t.rank(), 1);
  if (absl::Status s = ctx.CheckOutput(DataType::kInt64, std::vector<int64_t>{rank, n}); !s.ok()) {
    return s;
  }
  std::vector<int64_t> out(static_cast<size_t>(rank * n), 0);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t a = 0; a < t.rank(); ++a) out[a * n + j] = nz[j] / strides[a] % t.dims()[a];
  }
  ctx.SetOutput(0, MakeInt(DataType::kInt64, {rank, n}, out));
  return absl::OkStatus();
}

// Trilu and EyeLike keep or set the elements of the last two dims where j - i is on one side of k.
absl::Status Trilu(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  if (t.rank() < 2) return ctx.Invalid("input rank must be >= 2");
  if (absl::Status s = CheckMovable(ctx, t, t.dims()); !s.ok()) return s;
  int64_t k = 0;
  if (const Tensor* kt = ctx.input(1)) {
    absl::StatusOr<std::vector<int64_t>> kv = ReadIndexValues(ctx, *kt, "k");
    if (!kv.ok()) return kv.status();
    if (kv->size() != 1) return ctx.Invalid("k must be a scalar");
    k = (*kv)[0];
  }
  const bool upper = ctx.IntAttr("upper", 1) != 0;
  const int64_t rows = t.dims()[t.rank() - 2], cols = t.dims().back();
  std::vector<int64_t> index(static_cast<size_t>(t.num_elements()));
  for (size_t i = 0; i < index.size(); ++i) {
    const int64_t r = static_cast<int64_t>(i) / cols % rows, c = static_cast<int64_t>(i) % cols;
    const bool keep = upper ? c - r >= k : c - r <= k;
    index[i] = keep ? static_cast<int64_t>(i) : -1;
  }
  ctx.SetOutput(0, Materialize(t, t.dims(), index, nullptr));
  return absl::OkStatus();
}

absl::Status EyeLike(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  if (t.rank() != 2) return ctx.Invalid("input must be 2-D");
  const DataType type = static_cast<DataType>(ctx.IntAttr("dtype", static_cast<int64_t>(t.type())));
  if (!IsReal(type) && !IsInteger(type)) return ctx.Unsupported("unsupported dtype");
  if (absl::Status s = ctx.CheckOutput(DataType::kInt64, t.dims()); !s.ok()) return s;
  const int64_t k = ctx.IntAttr("k", 0), cols = t.dims()[1];
  std::vector<int64_t> v(static_cast<size_t>(t.num_elements()), 0);
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<int64_t>(i) % cols - static_cast<int64_t>(i) / cols == k;
  }
  ctx.SetOutput(0, MakeInt(type, t.dims(), v));
  return absl::OkStatus();
}

absl::Status CumSum(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0), ax = ctx.Required(1);
  if (!x.ok()) return x.status();
  if (!ax.ok()) return ax.status();
  const Tensor& t = **x;
  if (!IsReal(t.type()) && !IsInteger(t.type())) return ctx.Unsupported("unsupported type");
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  absl::StatusOr<std::vector<int64_t>> a = ReadIndexValues(ctx, **ax, "axis");
  if (!a.ok()) return a.status();
  std::optional<int64_t> axis = a->size() == 1 ? NormalizeAxis((*a)[0], t.rank()) : std::nullopt;
  if (!axis) return ctx.Invalid("axis out of range");
  const bool exclusive = ctx.IntAttr("exclusive", 0) != 0, reverse = ctx.IntAttr("reverse", 0) != 0;
  const int64_t extent = t.dims()[*axis], stride = Strides(t.dims())[*axis];
  std::vector<double> v = ReadReals(t), out(v.size());
  for (size_t base = 0; base < v.size(); ++base) {
    if (static_cast<int64_t>(base) / stride % extent != 0) continue;  // start of a line
    double sum = 0;
    for (int64_t j = 0; j < extent; ++j) {
      const size_t i = base + (reverse ? extent - 1 - j : j) * stride;
      if (!exclusive) sum += v[i];
      out[i] = sum;
      if (exclusive) sum += v[i];
    }
  }
  ctx.SetOutput(0, MakeReal(t.type(), t.dims(), out));
  return absl::OkStatus();
}

}  // namespace

void RegisterIndexKernels(KernelTable& t) {
  t["GatherElements"] = GatherElements;
  t["GatherND"] = GatherND;
  t["ScatterND"] = ScatterND;
  t["NonZero"] = NonZero;
  t["Trilu"] = Trilu;
  t["EyeLike"] = EyeLike;
  t["CumSum"] = CumSum;
}

}  // namespace onnx_opt::eval
