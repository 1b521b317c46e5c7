#include "passes/quantize/quantized_weight.h"

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

quant::FloatType KernelFloatType(DataType type) { return ToFloatType(type); }

}  // namespace onnx_opt
