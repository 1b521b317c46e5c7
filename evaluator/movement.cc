// Data movement kernels: Gather, Concat, Split, Slice, Transpose, Tile, Pad. They copy raw
// elements, so they serve every fixed-size element type.
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "evaluator/kernel.h"

namespace onnx_opt::eval {
namespace {

absl::Status Gather(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> data = ctx.Required(0);
  if (!data.ok()) return data.status();
  absl::StatusOr<const Tensor*> indices = ctx.Required(1);
  if (!indices.ok()) return indices.status();
  const Tensor& d = **data;
  std::optional<int64_t> axis = NormalizeAxis(ctx.IntAttr("axis", 0), d.rank());
  if (!axis) return ctx.Invalid("axis out of range");
  if ((*indices)->type() != DataType::kInt64 && (*indices)->type() != DataType::kInt32) {
    return ctx.Invalid("indices must be int32 or int64");
  }
  std::vector<int64_t> dims(d.dims().begin(), d.dims().begin() + *axis);
  dims.insert(dims.end(), (*indices)->dims().begin(), (*indices)->dims().end());
  dims.insert(dims.end(), d.dims().begin() + *axis + 1, d.dims().end());
  if (absl::Status s = CheckMovable(ctx, d, dims); !s.ok()) return s;
  if (absl::Status s = ctx.CheckDecodable(**indices); !s.ok()) return s;
  std::vector<int64_t> idx = ReadInts(**indices);
  const int64_t extent = d.dims()[*axis];
  for (int64_t& i : idx) {
    if (i < -extent || i >= extent) return ctx.Invalid("index out of range");
    if (i < 0) i += extent;
  }
  int64_t outer = 1, inner = 1;
  for (int64_t a = 0; a < *axis; ++a) outer *= d.dims()[a];
  for (int64_t a = *axis + 1; a < d.rank(); ++a) inner *= d.dims()[a];
  std::vector<int64_t> index;
  index.reserve(static_cast<size_t>(outer * idx.size() * inner));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i : idx) {
      for (int64_t k = 0; k < inner; ++k) index.push_back((o * extent + i) * inner + k);
    }
  }
  ctx.SetOutput(0, Materialize(d, std::move(dims), index, nullptr));
  return absl::OkStatus();
}

absl::Status Concat(KernelContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.Invalid("needs an input");
  absl::StatusOr<const Tensor*> first = ctx.Required(0);
  if (!first.ok()) return first.status();
  std::optional<int64_t> axis = NormalizeAxis(ctx.IntAttr("axis", 0), (*first)->rank());
  if (!axis) return ctx.Invalid("axis out of range");
  std::vector<int64_t> dims = (*first)->dims();
  dims[*axis] = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    absl::StatusOr<const Tensor*> t = ctx.Required(i);
    if (!t.ok()) return t.status();
    if ((*t)->type() != (*first)->type() || (*t)->rank() != (*first)->rank()) {
      return ctx.Invalid("inputs differ in type or rank");
    }
    for (int64_t a = 0; a < (*t)->rank(); ++a) {
      if (a != *axis && (*t)->dims()[a] != dims[a]) return ctx.Invalid("input dims differ");
    }
    dims[*axis] += (*t)->dims()[*axis];
    if (dims[*axis] < 0) return ctx.Invalid("dims overflow");
  }
  if (absl::Status s = CheckMovable(ctx, **first, dims); !s.ok()) return s;
  const int size = ElementBytes((*first)->type());
  int64_t outer = 1;
  for (int64_t a = 0; a < *axis; ++a) outer *= dims[a];
  std::vector<uint8_t> bytes(static_cast<size_t>(*ElementCount(dims)) * size);
  uint8_t* out = bytes.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor& t = *ctx.input(i);
      const int64_t slab = outer == 0 ? 0 : t.num_elements() / outer * size;
      if (slab > 0) std::memcpy(out, t.bytes().data() + o * slab, slab);
      out += slab;
    }
  }
  ctx.SetOutput(0, std::make_shared<Tensor>((*first)->type(), std::move(dims),
                                            Buffer::FromVector(std::move(bytes))));
  return absl::OkStatus();
}

// Output `i` of Split is the slice [begin, begin + length) of `axis`.
absl::Status Split(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  std::optional<int64_t> axis = NormalizeAxis(ctx.IntAttr("axis", 0), t.rank());
  if (!axis) return ctx.Invalid("axis out of range");
  const int64_t extent = t.dims()[*axis];
  const int64_t n = static_cast<int64_t>(ctx.node().outputs().size());
  std::vector<int64_t> split;
  if (ctx.opset() < 13) {
    split = ctx.node().GetInts("split").value_or(std::vector<int64_t>{});
  } else if (const Tensor* s = ctx.input(1)) {
    absl::StatusOr<std::vector<int64_t>> v = ReadIndexValues(ctx, *s, "split");
    if (!v.ok()) return v.status();
    split = *std::move(v);
  }
  if (split.empty()) {
    if (n == 0) return ctx.Invalid("no outputs");
    const int64_t chunk = (extent + n - 1) / n;
    if (ctx.opset() < 18 && extent % n != 0) return ctx.Invalid("axis does not split evenly");
    for (int64_t i = 0; i < n; ++i)
      split.push_back(std::clamp<int64_t>(extent - i * chunk, 0, chunk));
  }
  int64_t sum = 0;
  for (int64_t s : split) {
    if (s < 0 || s > extent) return ctx.Invalid("bad split sizes");
    sum += s;
  }
  if (sum != extent || static_cast<int64_t>(split.size()) != n) {
    return ctx.Invalid("split sizes do not match the axis or the outputs");
  }
  if (absl::Status s = CheckMovable(ctx, t, t.dims()); !s.ok()) return s;
  const int size = ElementBytes(t.type());
  int64_t outer = 1, inner = size;
  for (int64_t a = 0; a < *axis; ++a) outer *= t.dims()[a];
  for (int64_t a = *axis + 1; a < t.rank(); ++a) inner *= t.dims()[a];
  int64_t begin = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> dims = t.dims();
    dims[*axis] = split[i];
    std::vector<uint8_t> bytes(static_cast<size_t>(outer * split[i] * inner));
    for (int64_t o = 0; o < outer && split[i] > 0; ++o) {
      std::memcpy(bytes.data() + o * split[i] * inner,
                  t.bytes().data() + (o * extent + begin) * inner, split[i] * inner);
    }
    begin += split[i];
    ctx.SetOutput(i, std::make_shared<Tensor>(t.type(), std::move(dims),
                                              Buffer::FromVector(std::move(bytes))));
  }
  return absl::OkStatus();
}

absl::Status Transpose(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  const int64_t rank = t.rank();
  std::vector<int64_t> perm = ctx.node().GetInts("perm").value_or(std::vector<int64_t>{});
  if (perm.empty()) {
    for (int64_t a = rank; a-- > 0;) perm.push_back(a);
  }
  std::vector<bool> seen(rank, false);
  if (static_cast<int64_t>(perm.size()) != rank) return ctx.Invalid("perm has the wrong length");
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p]) return ctx.Invalid("perm is not a permutation");
    seen[p] = true;
  }
  std::vector<int64_t> dims(rank);
  for (int64_t a = 0; a < rank; ++a) dims[a] = t.dims()[perm[a]];
  if (absl::Status s = CheckMovable(ctx, t, dims); !s.ok()) return s;
  const std::vector<int64_t> strides = Strides(t.dims());
  std::vector<std::vector<int64_t>> tables(rank);
  for (int64_t a = 0; a < rank; ++a) {
    for (int64_t c = 0; c < dims[a]; ++c) tables[a].push_back(c * strides[perm[a]]);
  }
  ctx.SetOutput(0, Materialize(t, std::move(dims), IndexFromTables(tables), nullptr));
  return absl::OkStatus();
}

absl::Status Tile(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  absl::StatusOr<const Tensor*> r = ctx.Required(1);
  if (!r.ok()) return r.status();
  absl::StatusOr<std::vector<int64_t>> repeats = ReadIndexValues(ctx, **r, "repeats");
  if (!repeats.ok()) return repeats.status();
  const Tensor& t = **x;
  if (static_cast<int64_t>(repeats->size()) != t.rank()) return ctx.Invalid("repeats length");
  std::vector<int64_t> dims(t.rank());
  for (int64_t a = 0; a < t.rank(); ++a) {
    std::optional<int64_t> d = ElementCount(std::vector<int64_t>{t.dims()[a], (*repeats)[a]});
    if (!d) return ctx.Invalid("negative repeats or dims overflow");
    dims[a] = *d;
  }
  if (absl::Status s = CheckMovable(ctx, t, dims); !s.ok()) return s;
  const std::vector<int64_t> strides = Strides(t.dims());
  std::vector<std::vector<int64_t>> tables(t.rank());
  for (int64_t a = 0; a < t.rank(); ++a) {
    for (int64_t c = 0; c < dims[a]; ++c) tables[a].push_back(c % t.dims()[a] * strides[a]);
  }
  ctx.SetOutput(0, Materialize(t, std::move(dims), IndexFromTables(tables), nullptr));
  return absl::OkStatus();
}

}  // namespace

absl::Status SliceKernel(KernelContext& ctx);
absl::Status PadKernel(KernelContext& ctx);

void RegisterMovementKernels(KernelTable& t) {
  t["Gather"] = Gather;
  t["Concat"] = Concat;
  t["Split"] = Split;
  t["Transpose"] = Transpose;
  t["Tile"] = Tile;
  t["Slice"] = SliceKernel;
  t["Pad"] = PadKernel;
}

}  // namespace onnx_opt::eval
