// Element types and tensor layouts shared by the quantization kernels of onnx-opt.
//
// The library works on plain spans and never depends on the IR: a tensor is a span of values plus
// a BlockLayout that says how it is cut into quantization blocks.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace onnx_opt::quant {

// Quantized integer element types of ONNX QuantizeLinear/DequantizeLinear (opset 21).
enum class QType : uint8_t { kInt4, kUint4, kInt8, kUint8, kInt16, kUint16 };

constexpr int QTypeBits(QType t) {
  switch (t) {
    case QType::kInt4:
    case QType::kUint4:
      return 4;
    case QType::kInt8:
    case QType::kUint8:
      return 8;
    case QType::kInt16:
    case QType::kUint16:
      return 16;
  }
  return 0;
}
constexpr bool QTypeIsSigned(QType t) {
  return t == QType::kInt4 || t == QType::kInt8 || t == QType::kInt16;
}
// Saturation range of the type, e.g. [-8, 7] for int4 and [0, 255] for uint8.
constexpr int32_t QTypeMin(QType t) {
  return QTypeIsSigned(t) ? -(int32_t{1} << (QTypeBits(t) - 1)) : 0;
}
constexpr int32_t QTypeMax(QType t) {
  return QTypeIsSigned(t) ? (int32_t{1} << (QTypeBits(t) - 1)) - 1
                          : (int32_t{1} << QTypeBits(t)) - 1;
}
// Bytes that `count` elements occupy in ONNX raw_data: 4-bit types pack two per byte (first
// element in the low nibble), an odd count leaves the last high nibble as padding.
constexpr int64_t PackedByteSize(QType t, int64_t count) {
  return QTypeBits(t) == 4 ? (count + 1) / 2 : count * (QTypeBits(t) / 8);
}
// Calls fn(std::integral_constant<QType, T>{}) with T = `t`: the one switch from a run-time
// QType to the kernels templated on it. Every branch must return the same type.
template <typename Fn>
decltype(auto) VisitQType(QType t, Fn&& fn) {
  switch (t) {
    case QType::kInt4:
      return fn(std::integral_constant<QType, QType::kInt4>{});
    case QType::kUint4:
      return fn(std::integral_constant<QType, QType::kUint4>{});
    case QType::kInt8:
      return fn(std::integral_constant<QType, QType::kInt8>{});
    case QType::kUint8:
      return fn(std::integral_constant<QType, QType::kUint8>{});
    case QType::kInt16:
      return fn(std::integral_constant<QType, QType::kInt16>{});
    case QType::kUint16:
      return fn(std::integral_constant<QType, QType::kUint16>{});
  }
  std::abort();  // QType has no other values
}
// "int4", "uint8", ...
const char* QTypeName(QType t);
// onnx.TensorProto.DataType numbers (int4 = 22, uint4 = 21, int8 = 3, ...).
int32_t QTypeToOnnx(QType t);
std::optional<QType> QTypeFromOnnx(int32_t onnx_data_type);

// Floating-point element types accepted for inputs, scales and outputs.
enum class FloatType : uint8_t { kFloat32, kFloat16, kBFloat16 };

constexpr int FloatTypeBytes(FloatType t) { return t == FloatType::kFloat32 ? 4 : 2; }
const char* FloatTypeName(FloatType t);
// onnx.TensorProto.DataType numbers (float = 1, float16 = 10, bfloat16 = 16).
int32_t FloatTypeToOnnx(FloatType t);
std::optional<FloatType> FloatTypeFromOnnx(int32_t onnx_data_type);

// A row-major tensor viewed as [outer, axis_dim, inner], where axis_dim is the dimension being
// quantized in blocks of `block_size` consecutive indices (the last block may be shorter).
// Scales and zero points of such a tensor are laid out as [outer, num_blocks(), inner], which is
// exactly the ONNX blocked-quantization scale shape (the input's shape with ceil(D/B) on the
// blocked axis). Element (o, d, i) is at flat index (o * axis_dim + d) * inner + i and uses the
// parameter at (o * num_blocks() + d / block_size) * inner + i.
//
// Special cases: block_size == axis_dim gives one block along the axis, i.e. one scale per
// (outer, inner) pair: for a MatMul weight B[K, N] with the axis on K that is one scale per
// column. outer == inner == 1 with block_size == axis_dim is per-tensor quantization.
struct BlockLayout {
  int64_t outer = 1;
  int64_t axis_dim = 1;
  int64_t inner = 1;
  int64_t block_size = 1;

  int64_t num_blocks() const { return (axis_dim + block_size - 1) / block_size; }
  int64_t num_elements() const { return outer * axis_dim * inner; }
  // Number of scales (and zero points): outer * num_blocks() * inner.
  int64_t num_params() const { return outer * num_blocks() * inner; }

  // Ok when all sizes are positive and the element count fits comfortably in int64.
  absl::Status Validate() const;

  // Layout of a tensor of shape `dims` blocked along `axis` (negative counts from the back).
  // block_size <= 0 means the whole axis is one block. A scalar (rank 0) is [1, 1, 1].
  static absl::StatusOr<BlockLayout> FromShape(absl::Span<const int64_t> dims, int64_t axis,
                                               int64_t block_size);
};

}  // namespace onnx_opt::quant
