// ONNX QuantizeLinear / DequantizeLinear (opset 21) on raw tensor bytes.
//
//   QuantizeLinear:   y = saturate(round_half_even(x / y_scale) + y_zero_point)
//   DequantizeLinear: y = (x - x_zero_point) * x_scale
//
// Granularity follows the shape of the scale exactly as opset 21 defines it:
//   per-tensor  scale is a scalar (or a single-element 1-D tensor) and block_size is 0;
//   per-axis    scale is 1-D with x.shape[axis] elements and block_size is 0;
//   blocked     block_size > 0, scale has x's rank, equal dims except on `axis`, where it has
//               ceil(x.shape[axis] / block_size) (the last block may be shorter).
// Zero points have the scale's shape and the quantized type; absent means 0.
//
// Data is in ONNX raw_data layout: little-endian, 4-bit types packed two per byte with the first
// element in the low nibble. Inputs and scales may be float32, float16 or bfloat16. Arithmetic is
// done in float32 (16-bit values widen exactly), as ONNX Runtime's CPU kernels do; a 16-bit
// DequantizeLinear output is rounded to nearest even from that float32 result. NaN quantizes to
// the type's minimum, +-infinity saturates.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "quant/types.h"

namespace onnx_opt::quant {

enum class QdqGranularity { kPerTensor, kPerAxis, kBlocked };

// x viewed as [outer, axis_dim, inner] around the quantization axis, plus how scales map onto it.
struct QdqLayout {
  QdqGranularity granularity = QdqGranularity::kPerTensor;
  int64_t outer = 1;
  int64_t axis_dim = 1;
  int64_t inner = 1;
  int64_t block_size = 0;  // blocked only

  int64_t num_elements() const { return outer * axis_dim * inner; }
  // Number of scale / zero point elements.
  int64_t num_params() const;
};

// Validates shapes and attributes as opset 21 does and derives the layout. `axis` may be
// negative; it is ignored for per-tensor scales.
absl::StatusOr<QdqLayout> MakeQdqLayout(absl::Span<const int64_t> x_shape,
                                        absl::Span<const int64_t> scale_shape, int64_t axis,
                                        int64_t block_size);

// A floating-point tensor's raw_data bytes and element type.
struct FloatBytes {
  FloatType type = FloatType::kFloat32;
  absl::Span<const uint8_t> bytes;

  static FloatBytes Of(absl::Span<const float> values) {
    return {FloatType::kFloat32,
            absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()),
                                      values.size() * sizeof(float))};
  }
};

// QuantizeLinear. `zero_point` holds layout.num_params() elements of `qtype` in raw_data layout,
// or is empty. Returns the packed raw_data of y (same shape as x).
absl::StatusOr<std::vector<uint8_t>> QuantizeLinear(const QdqLayout& layout, FloatBytes x,
                                                    FloatBytes scale, QType qtype,
                                                    absl::Span<const uint8_t> zero_point = {});

// DequantizeLinear. Returns raw_data bytes of y in the scale's float type.
absl::StatusOr<std::vector<uint8_t>> DequantizeLinear(const QdqLayout& layout, QType qtype,
                                                      absl::Span<const uint8_t> x, FloatBytes scale,
                                                      absl::Span<const uint8_t> zero_point = {});

// DequantizeLinear with float32 scales, returning float32 values.
absl::StatusOr<std::vector<float>> DequantizeLinearFloat(const QdqLayout& layout, QType qtype,
                                                         absl::Span<const uint8_t> x,
                                                         absl::Span<const float> scale,
                                                         absl::Span<const uint8_t> zero_point = {});

}  // namespace onnx_opt::quant
