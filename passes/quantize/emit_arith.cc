// format=arith: Cast, Sub of the zero point, Mul by the broadcast scales (any opset).
#include "passes/quantize/emit_builder.h"
#include "passes/quantize/emitters.h"

namespace onnx_opt {

absl::StatusOr<Value*> EmitArith(QuantizedWeight& w, const EmitSite& site, int64_t* bytes) {
  Builder b(site, bytes);
  const DataType qtype = QuantizedType(w.spec);
  const WeightView& view = w.geometry.view;
  const int64_t block = w.geometry.block;
  const int64_t num_blocks = w.geometry.num_blocks();
  if (view.reduce % block != 0) {
    return absl::InternalError("format=arith needs blocks that tile the reduction axis");
  }
  // [outer, num_blocks, block, inner] is the weight's own order; scales broadcast over `block`.
  const std::vector<int64_t> q_dims = {view.outer, num_blocks, block, view.inner};
  const std::vector<int64_t> scale_dims = {view.outer, num_blocks, 1, view.inner};
  Value* q = b.Initializer("_q", qtype, q_dims, w.q.data);
  Node* cast = b.Op("Cast", {q}, "_q_float", w.float_type, q_dims);
  cast->SetAttribute(Attribute::Int("to", static_cast<int64_t>(w.float_type)));
  Value* centred = cast->output(0);
  if (!w.q.zero_points.empty()) {
    Value* zp = b.Initializer("_zp", qtype, scale_dims, w.q.zero_points);
    Node* zp_cast = b.Op("Cast", {zp}, "_zp_float", w.float_type, scale_dims);
    zp_cast->SetAttribute(Attribute::Int("to", static_cast<int64_t>(w.float_type)));
    centred =
        b.Op("Sub", {centred, zp_cast->output(0)}, "_q_centred", w.float_type, q_dims)->output(0);
  }
  Value* scale = b.Scales("_scale", w, scale_dims, w.q.scales);
  Value* scaled = b.Op("Mul", {centred, scale}, "_dq_blocks", w.float_type, q_dims)->output(0);
  return b.ReshapeTo(scaled, q_dims, w.dims, "_dq", w.float_type);
}

}  // namespace onnx_opt
