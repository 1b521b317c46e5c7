#include "passes/quantize/quant_formats.h"

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "quant/float16.h"
#include "quant/packing.h"

namespace onnx_opt {
namespace {

quant::QType ToQType(const QuantSpec& spec) {
  switch (spec.bits) {
    case 4:
      return spec.is_signed ? quant::QType::kInt4 : quant::QType::kUint4;
    case 16:
      return spec.is_signed ? quant::QType::kInt16 : quant::QType::kUint16;
    default:
      return spec.is_signed ? quant::QType::kInt8 : quant::QType::kUint8;
  }
}

quant::FloatType ToFloatType(DataType type) {
  if (type == DataType::kFloat16) return quant::FloatType::kFloat16;
  if (type == DataType::kBFloat16) return quant::FloatType::kBFloat16;
  return quant::FloatType::kFloat32;
}

// Builds the nodes and initializers of one emitted form and counts initializer bytes.
class Builder {
 public:
  Builder(const EmitSite& site, int64_t* bytes) : site_(site), bytes_(bytes) {}

  Value* Initializer(std::string_view suffix, DataType type, std::vector<int64_t> dims,
                     std::vector<uint8_t> data) {
    *bytes_ += static_cast<int64_t>(data.size());
    auto tensor =
        std::make_shared<Tensor>(type, std::move(dims), Buffer::FromVector(std::move(data)));
    return site_.graph.AddInitializer(absl::StrCat(site_.name, ToAbsl(suffix)), std::move(tensor));
  }
  Value* Shape(std::string_view suffix, const std::vector<int64_t>& dims) {
    std::vector<uint8_t> bytes(dims.size() * sizeof(int64_t));
    if (!dims.empty()) std::memcpy(bytes.data(), dims.data(), bytes.size());
    return Initializer(suffix, DataType::kInt64, {static_cast<int64_t>(dims.size())},
                       std::move(bytes));
  }
  Value* Scales(std::string_view suffix, const QuantizedWeight& w, std::vector<int64_t> dims,
                const std::vector<float>& values) {
    return Initializer(suffix, w.float_type, std::move(dims),
                       quant::EncodeScales(values, ToFloatType(w.float_type)));
  }
  // A node producing one value of `type`/`dims` named after the weight plus `suffix`.
  Node* Op(std::string_view op_type, std::vector<Value*> inputs, std::string_view suffix,
           DataType type, const std::vector<int64_t>& dims) {
    Node* node = site_.graph.CreateNode(op_type, std::move(inputs), 1, site_.insert_before, "",
                                        {absl::StrCat(site_.name, ToAbsl(suffix))});
    std::vector<Dim> shape;
    for (int64_t d : dims) shape.push_back(Dim::Fixed(d));
    node->output(0)->type = ValueType::Tensor(type, std::move(shape));
    return node;
  }
  // Reshape of `in` to `dims` (skipped when `in` already has them).
  Value* ReshapeTo(Value* in, const std::vector<int64_t>& in_dims, const std::vector<int64_t>& dims,
                   std::string_view suffix, DataType type) {
    if (in_dims == dims) return in;
    Value* shape = Shape(absl::StrCat(ToAbsl(suffix), "_shape"), dims);
    return Op("Reshape", {in, shape}, suffix, type, dims)->output(0);
  }

 private:
  const EmitSite& site_;
  int64_t* bytes_;
};

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

DataType QuantizedType(const QuantSpec& spec) {
  return static_cast<DataType>(quant::QTypeToOnnx(ToQType(spec)));
}

QuantizeRequest PrepareQuantize(const Tensor& weight, const WeightRole& role,
                                Granularity granularity, const BlockGeometry& geometry,
                                const QuantSpec& spec) {
  QuantizeRequest r;
  r.result.dims = weight.dims();
  r.result.role = role;
  r.result.granularity = granularity;
  r.result.geometry = geometry;
  r.result.float_type = weight.type();
  r.result.spec = spec;
  r.layout = {geometry.view.outer, geometry.view.reduce, geometry.view.inner, geometry.block};
  r.options.qtype = ToQType(spec);
  r.options.symmetric = spec.symmetric;
  r.options.search = spec.search;
  r.options.scale_type = ToFloatType(weight.type());
  r.options.error_type = ToFloatType(weight.type());
  return r;
}

absl::StatusOr<QuantizedWeight> QuantizeWeight(const Tensor& weight, const WeightRole& role,
                                               Granularity granularity,
                                               const BlockGeometry& geometry,
                                               const QuantSpec& spec) {
  QuantizeRequest request = PrepareQuantize(weight, role, granularity, geometry, spec);
  QuantizedWeight& out = request.result;
  const quant::BlockLayout& layout = request.layout;
  const quant::WeightQuantOptions& options = request.options;
  // The kernels read the tensor's bytes in place (any alignment, 16-bit types widened per block),
  // or copy them out of a mapped file with pread (cheaper than touching the mapping).
  const absl::Span<const uint8_t> bytes(weight.bytes().data(), weight.bytes().size());
  const Buffer* buffer = weight.buffer().get();
  absl::StatusOr<quant::QuantizedWeight> q =
      buffer != nullptr && buffer->mapped()
          ? quant::QuantizeWeightBytes(ToFloatType(weight.type()), bytes, layout, options,
                                       [buffer](int64_t offset, int64_t size, uint8_t* dst) {
                                         buffer->CopyTo(offset, size, dst);
                                       })
          : quant::QuantizeWeightBytes(ToFloatType(weight.type()), bytes, layout, options);
  if (!q.ok()) return q.status();
  out.q = *std::move(q);
  return out;
}

std::vector<float> DequantizedValues(const QuantizedWeight& weight) {
  absl::StatusOr<std::vector<float>> values = quant::DequantizeWeight(weight.q);
  if (!values.ok()) return {};
  if (weight.float_type == DataType::kFloat16) {
    for (float& v : *values) v = quant::HalfToFloat(quant::FloatToHalf(v));
  } else if (weight.float_type == DataType::kBFloat16) {
    for (float& v : *values) v = quant::RoundToBFloat16(v);
  }
  return *std::move(values);
}

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

absl::StatusOr<Value*> EmitQdqAxis(const QuantizedWeight& w, const EmitSite& site, int64_t* bytes) {
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

absl::StatusOr<Value*> EmitArith(const QuantizedWeight& w, const EmitSite& site, int64_t* bytes) {
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

absl::StatusOr<NBitsWeight> QuantizeForMatMulNBits(const Tensor& weight, const QuantSpec& spec,
                                                   int64_t block) {
  quant::MatMulNBitsOptions options;
  options.bits = spec.bits;
  options.block_size = block;
  options.symmetric = spec.symmetric;
  options.search = spec.search;
  options.scale_type = ToFloatType(weight.type());
  options.error_type = ToFloatType(weight.type());
  absl::StatusOr<quant::MatMulNBitsWeight> packed = quant::QuantizeMatMulNBitsBytes(
      ToFloatType(weight.type()), {weight.bytes().data(), weight.bytes().size()}, weight.dims()[0],
      weight.dims()[1], options);
  if (!packed.ok()) return packed.status();
  return NBitsWeight{*std::move(packed), weight.type()};
}

std::vector<float> DequantizedValues(const NBitsWeight& weight) {
  absl::StatusOr<std::vector<float>> values = quant::DequantizeMatMulNBits(weight.packed);
  if (!values.ok()) return {};
  if (weight.float_type == DataType::kFloat16) {
    for (float& v : *values) v = quant::HalfToFloat(quant::FloatToHalf(v));
  }
  return *std::move(values);
}

int64_t PayloadBytes(const NBitsWeight& weight) {
  const int64_t scale_bytes = weight.float_type == DataType::kFloat ? 4 : 2;
  return static_cast<int64_t>(weight.packed.b.size() + weight.packed.zero_points.size()) +
         static_cast<int64_t>(weight.packed.scales.size()) * scale_bytes;
}

int64_t PayloadBytes(const QuantizedWeight& weight) {
  const int64_t scale_bytes = weight.float_type == DataType::kFloat ? 4 : 2;
  return static_cast<int64_t>(weight.q.data.size() + weight.q.zero_points.size()) +
         static_cast<int64_t>(weight.q.scales.size()) * scale_bytes;
}

absl::StatusOr<MatMulNBitsInputs> EmitMatMulNBitsInputs(const NBitsWeight& weight,
                                                        const EmitSite& site, int64_t* bytes) {
  Builder b(site, bytes);
  const quant::MatMulNBitsWeight& p = weight.packed;
  MatMulNBitsInputs out;
  out.packed = b.Initializer("_nbits", DataType::kUint8, {p.n, p.k_blocks, p.blob_size}, p.b);
  out.scales = b.Initializer("_nbits_scale", weight.float_type, {p.n * p.k_blocks},
                             quant::EncodeScales(p.scales, ToFloatType(weight.float_type)));
  if (!p.zero_points.empty()) {
    out.zero_points = b.Initializer("_nbits_zp", DataType::kUint8, {p.n * p.zero_point_row_bytes()},
                                    p.zero_points);
  }
  return out;
}

absl::Status ReplaceWithMatMulNBits(Node& matmul, const NBitsWeight& weight,
                                    const MatMulNBitsInputs& packed) {
  const quant::MatMulNBitsWeight& p = weight.packed;
  Graph& graph = *matmul.graph();
  std::vector<Value*> inputs = {matmul.input(0), packed.packed, packed.scales};
  if (packed.zero_points != nullptr) inputs.push_back(packed.zero_points);
  Value* old_out = matmul.output(0);
  Node* nbits = graph.CreateNode("MatMulNBits", inputs, 1, &matmul, "com.microsoft",
                                 {absl::StrCat(old_out->name(), "_nbits")});
  nbits->name = matmul.name;
  nbits->SetAttribute(Attribute::Int("K", p.k));
  nbits->SetAttribute(Attribute::Int("N", p.n));
  nbits->SetAttribute(Attribute::Int("bits", p.bits));
  nbits->SetAttribute(Attribute::Int("block_size", p.block_size));
  Value* new_out = nbits->output(0);
  new_out->type = old_out->type;
  old_out->ReplaceAllUsesWith(new_out);
  std::string name = old_out->name();
  if (absl::Status s = graph.EraseNode(&matmul); !s.ok()) return s;
  new_out->set_name(name);
  return absl::OkStatus();
}

}  // namespace onnx_opt
