// Slice and Pad: per-axis index tables over the input (see IndexFromTables).
#include <algorithm>
#include <limits>

#include "evaluator/kernel.h"

namespace onnx_opt::eval {

// Operands of Slice as attributes (opset < 10) or inputs.
static absl::Status SliceOperands(const KernelContext& ctx, std::vector<int64_t> v[4]) {
  static const char* const kNames[] = {"starts", "ends", "axes", "steps"};
  for (int i = 0; i < 4; ++i) {
    if (ctx.opset() < 10) {
      if (i < 3) v[i] = ctx.node().GetInts(kNames[i]).value_or(std::vector<int64_t>{});
      continue;
    }
    if (const Tensor* t = ctx.input(i + 1)) {
      absl::StatusOr<std::vector<int64_t>> r = ReadIndexValues(ctx, *t, kNames[i]);
      if (!r.ok()) return r.status();
      v[i] = *std::move(r);
    }
  }
  return absl::OkStatus();
}

absl::Status SliceKernel(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  std::vector<int64_t> v[4];
  if (absl::Status s = SliceOperands(ctx, v); !s.ok()) return s;
  std::vector<int64_t>&starts = v[0], &ends = v[1], &axes = v[2], &steps = v[3];
  if (axes.empty()) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    return ctx.Invalid("starts, ends, axes and steps differ in length");
  }
  const int64_t rank = t.rank();
  std::vector<int64_t> begin(rank, 0), step(rank, 1), dims = t.dims();
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    std::optional<int64_t> axis = NormalizeAxis(axes[i], rank);
    if (!axis || seen[*axis]) return ctx.Invalid("axis out of range or repeated");
    seen[*axis] = true;
    const int64_t d = t.dims()[*axis], st = steps[i];
    if (st == 0 || st == std::numeric_limits<int64_t>::min()) return ctx.Invalid("bad step");
    int64_t s = starts[i] < 0 ? starts[i] + d : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + d : ends[i];
    int64_t len = 0;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      len = e > s ? 1 + (e - s - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      len = s > e ? 1 + (s - e - 1) / -st : 0;
    }
    begin[*axis] = s;
    step[*axis] = st;
    dims[*axis] = len;
  }
  if (absl::Status s = CheckMovable(ctx, t, dims); !s.ok()) return s;
  const std::vector<int64_t> strides = Strides(t.dims());
  std::vector<std::vector<int64_t>> tables(rank);
  for (int64_t a = 0; a < rank; ++a) {
    for (int64_t c = 0; c < dims[a]; ++c)
      tables[a].push_back((begin[a] + c * step[a]) * strides[a]);
  }
  ctx.SetOutput(0, Materialize(t, std::move(dims), IndexFromTables(tables), nullptr));
  return absl::OkStatus();
}

absl::Status PadKernel(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  const int64_t rank = t.rank();
  const std::string mode = ctx.node().GetString("mode").value_or("constant");
  std::vector<int64_t> pads, axes;
  TensorPtr fill = MakeReal(t.type(), {}, std::vector<double>{0.0});
  if (ctx.opset() < 11) {
    pads = ctx.node().GetInts("pads").value_or(std::vector<int64_t>{});
    const float value = ctx.FloatAttr("value", 0.0f);
    if (!IsReal(t.type()) && value != 0.0f) return ctx.Unsupported("non-zero integer pad value");
    fill = MakeReal(t.type(), {}, std::vector<double>{value});
  } else {
    absl::StatusOr<const Tensor*> p = ctx.Required(1);
    if (!p.ok()) return p.status();
    absl::StatusOr<std::vector<int64_t>> r = ReadIndexValues(ctx, **p, "pads");
    if (!r.ok()) return r.status();
    pads = *std::move(r);
    if (const Tensor* value = ctx.input(2); value != nullptr && value->num_elements() == 1) {
      if (value->type() != t.type()) return ctx.Invalid("constant_value type differs");
      fill = Reshaped(ctx.input_ptr(2), {});
    }
    if (const Tensor* a = ctx.input(3)) {
      absl::StatusOr<std::vector<int64_t>> ra = ReadIndexValues(ctx, *a, "axes");
      if (!ra.ok()) return ra.status();
      axes = *std::move(ra);
    }
  }
  if (axes.empty()) {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  }
  const size_t n = axes.size();
  if (pads.size() != 2 * n) return ctx.Invalid("pads has the wrong length");
  std::vector<int64_t> before(rank, 0), dims = t.dims();
  for (size_t i = 0; i < n; ++i) {
    std::optional<int64_t> axis = NormalizeAxis(axes[i], rank);
    if (!axis) return ctx.Invalid("axis out of range");
    const int64_t b = pads[i], e = pads[i + n];
    if (std::abs(b) > (int64_t{1} << 40) || std::abs(e) > (int64_t{1} << 40)) {
      return ctx.Invalid("pads too large");
    }
    before[*axis] = b;
    dims[*axis] += b + e;
    if (dims[*axis] < 0) return ctx.Invalid("pads remove more than the dim");
  }
  if (mode != "constant" && mode != "edge" && mode != "reflect") {
    return ctx.Unsupported("pad mode");
  }
  if (absl::Status s = CheckMovable(ctx, t, dims); !s.ok()) return s;
  const std::vector<int64_t> strides = Strides(t.dims());
  std::vector<std::vector<int64_t>> tables(rank);
  for (int64_t a = 0; a < rank; ++a) {
    const int64_t d = t.dims()[a];
    for (int64_t c = 0; c < dims[a]; ++c) {
      int64_t i = c - before[a];
      if (i < 0 || i >= d) {
        if (mode == "constant") {
          tables[a].push_back(-1);
          continue;
        }
        if (d == 0) return ctx.Invalid("cannot pad an empty axis in this mode");
        if (mode == "edge" || d == 1) {
          i = std::clamp<int64_t>(i, 0, d - 1);
        } else {  // reflect: period 2 (d - 1)
          const int64_t period = 2 * (d - 1);
          i = ((i % period) + period) % period;
          if (i >= d) i = period - i;
        }
      }
      tables[a].push_back(i * strides[a]);
    }
  }
  ctx.SetOutput(0, Materialize(t, std::move(dims), IndexFromTables(tables), fill->bytes().data()));
  return absl::OkStatus();
}

}  // namespace onnx_opt::eval
