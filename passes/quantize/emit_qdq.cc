// format=qdq: one opset-21 DequantizeLinear (block_size, or per-axis / per-tensor scales),
// with a Reshape back to the weight's shape where Conv weights are stored flattened.
#include "passes/quantize/emit_builder.h"
#include "passes/quantize/emitters.h"

namespace onnx_opt {

absl::StatusOr<Value*> EmitQdq(QuantizedWeight& w, const EmitSite& site, int64_t* bytes) {
  Builder b(site, bytes);
  const DataType qtype = QuantizedType(w.spec);
  const WeightView& view = w.geometry.view;
  const int64_t num_blocks = w.geometry.num_blocks();
  const bool has_zp = !w.q.zero_points.empty();
  std::vector<int64_t> q_dims = w.dims;
  std::vector<int64_t> scale_dims;  // scalar for per-tensor
  int64_t axis = -1;
  int64_t block_size = 0;
  if (w.granularity == Granularity::kTensor) {
    // scalar scale and zero point, no axis
  } else if (w.granularity == Granularity::kChannel &&
             view.outer * view.inner == w.dims[w.role.channel_axis]) {
    // Per-axis: the channel axis holds every non-reduction element, so scales [C] line up.
    axis = w.role.channel_axis;
    scale_dims = {w.dims[axis]};
  } else if (w.role.flatten_trailing) {
    q_dims = {view.outer, view.reduce};
    scale_dims = {view.outer, num_blocks};
    axis = 1;
    block_size = w.geometry.block;
  } else {
    scale_dims = w.dims;
    scale_dims[w.role.axis] = num_blocks;
    axis = w.role.axis;
    block_size = w.geometry.block;
  }
  Value* q = b.Initializer("_q", qtype, q_dims, std::move(w.q.data));
  Value* scale = b.Scales("_scale", w, scale_dims, w.q.scales);
  std::vector<Value*> inputs = {q, scale};
  if (has_zp) inputs.push_back(b.Initializer("_zp", qtype, scale_dims, w.q.zero_points));
  Node* dq =
      b.Op("DequantizeLinear", inputs, q_dims == w.dims ? "_dq" : "_dq_flat", w.float_type, q_dims);
  if (axis >= 0) dq->SetAttribute(Attribute::Int("axis", axis));
  if (block_size > 0) dq->SetAttribute(Attribute::Int("block_size", block_size));
  return b.ReshapeTo(dq->output(0), q_dims, w.dims, "_dq", w.float_type);
}

WeightEmitter GenericEmitter(QuantFormat format) {
  switch (format) {
    case QuantFormat::kQdqAxis:
      return EmitQdqAxis;
    case QuantFormat::kArith:
      return EmitArith;
    default:
      return EmitQdq;
  }
}

}  // namespace onnx_opt
