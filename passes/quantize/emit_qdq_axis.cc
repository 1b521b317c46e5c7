// format=qdq-axis: each block a row of a per-axis DequantizeLinear (opset 13), then Reshape and
// Transpose back to the weight's layout.
#include "passes/quantize/emit_builder.h"
#include "passes/quantize/emitters.h"

namespace onnx_opt {
namespace {

// [a, b, c] -> [a, c, b]
template <typename T>
std::vector<T> Transpose12(const std::vector<T>& src, int64_t a, int64_t b, int64_t c) {
  std::vector<T> out(src.size());
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < c; ++k) out[(i * c + k) * b + j] = src[(i * b + j) * c + k];
  return out;
}

absl::StatusOr<std::vector<int32_t>> Codes(const quant::QuantizedWeight& q) {
  return quant::UnpackCodes(q.qtype, q.data, q.layout.num_elements());
}
absl::StatusOr<std::vector<int32_t>> ZeroPoints(const quant::QuantizedWeight& q) {
  return quant::UnpackCodes(q.qtype, q.zero_points, q.layout.num_params());
}

}  // namespace

absl::StatusOr<Value*> EmitQdqAxis(QuantizedWeight& w, const EmitSite& site, int64_t* bytes) {
  Builder b(site, bytes);
  const DataType qtype = QuantizedType(w.spec);
  const bool has_zp = !w.q.zero_points.empty();
  if (w.granularity == Granularity::kTensor) {
    Value* q = b.Initializer("_q", qtype, w.dims, w.q.data);
    std::vector<Value*> inputs = {q, b.Scales("_scale", w, {}, w.q.scales)};
    if (has_zp) inputs.push_back(b.Initializer("_zp", qtype, {}, w.q.zero_points));
    return b.Op("DequantizeLinear", inputs, "_dq", w.float_type, w.dims)->output(0);
  }
  const WeightView& view = w.geometry.view;
  const int64_t block = w.geometry.block;
  const int64_t num_blocks = w.geometry.num_blocks();
  if (view.reduce % block != 0) {
    return absl::InternalError("format=qdq-axis needs blocks that tile the reduction axis");
  }
  // Store [outer, inner, reduce] so each block is a row of [rows, block]; one scale per row.
  absl::StatusOr<std::vector<int32_t>> codes = Codes(w.q);
  if (!codes.ok()) return codes.status();
  const quant::QType qt = w.q.qtype;
  std::vector<int32_t> rows = Transpose12(*codes, view.outer, view.reduce, view.inner);
  const int64_t num_rows = view.outer * view.inner * num_blocks;
  Value* q = b.Initializer("_q", qtype, {num_rows, block}, quant::PackCodes(qt, rows));
  std::vector<float> scales = Transpose12(w.q.scales, view.outer, num_blocks, view.inner);
  std::vector<Value*> inputs = {q, b.Scales("_scale", w, {num_rows}, scales)};
  if (has_zp) {
    absl::StatusOr<std::vector<int32_t>> zp = ZeroPoints(w.q);
    if (!zp.ok()) return zp.status();
    inputs.push_back(
        b.Initializer("_zp", qtype, {num_rows},
                      quant::PackCodes(qt, Transpose12(*zp, view.outer, num_blocks, view.inner))));
  }
  Node* dq = b.Op("DequantizeLinear", inputs, "_dq_rows", w.float_type, {num_rows, block});
  dq->SetAttribute(Attribute::Int("axis", 0));
  Value* out = dq->output(0);
  if (view.inner == 1) return b.ReshapeTo(out, {num_rows, block}, w.dims, "_dq", w.float_type);
  // Back from [outer, inner, reduce] to [outer, reduce, inner].
  std::vector<int64_t> transposed = {view.outer, view.inner, view.reduce};
  out = b.ReshapeTo(out, {num_rows, block}, transposed, "_dq_t", w.float_type);
  Node* t =
      b.Op("Transpose", {out}, "_dq_view", w.float_type, {view.outer, view.reduce, view.inner});
  t->SetAttribute(Attribute::Ints("perm", {0, 2, 1}));
  return b.ReshapeTo(t->output(0), {view.outer, view.reduce, view.inner}, w.dims, "_dq",
                     w.float_type);
}

}  // namespace onnx_opt
