// Blockwise weight quantization: the one call the quantize-weights pass makes per weight.
//
// A float32 weight, viewed as [outer, axis_dim, inner] (see BlockLayout), is cut into blocks of
// `block_size` consecutive indices along the axis; each (outer, block, inner) triple gets its own
// scale and, when asymmetric, zero point. The outputs are ready-made ONNX initializers for a
// DequantizeLinear (opset 21) node with `axis` = the blocked axis and `block_size`:
//   x         -> data          (QType, same shape as the weight, raw_data bytes)
//   x_scale   -> scales        (same rank as the weight, ceil(D/B) on the axis; float32 values,
//                               exactly representable in options.scale_type: encode them with
//                               EncodeScales)
//   x_zero_point -> zero_points (same shape as scales, QType raw_data bytes; empty = no input)
// and DequantizeLinear(data, scales, zero_points) reproduces DequantizeWeight() bit for bit.
//
// Scale choice per block (ScaleSearch::kMinMax):
//  * symmetric, signed type:   scale = max|x| / qmax (7, 127, 32767), zero point 0 and not stored,
//                              codes in [-qmax, qmax].
//  * symmetric, unsigned type: ONNX has no implicit mid zero point, so "symmetric" means the zero
//                              point is fixed at 2^(bits-1) (8, 128, 32768) and IS stored;
//                              scale = max|x| / (2^(bits-1) - 1), codes in [1, 2^bits - 1].
//  * asymmetric:               [min, max] widened to include 0, scale = (max - min) / (qmax -
//  qmin),
//                              zero point = round(qmin - min / scale) clamped to [qmin, qmax].
// Scales are rounded to options.scale_type and clamped to its normal range (so never zero,
// denormal or infinite), and codes are computed from that rounded scale. An all-zero block gets
// scale 1 and zero point 0 and dequantizes back to exact zeros. Codes are
// saturate(round_half_even(x / scale) + zero_point), exactly as ONNX QuantizeLinear would produce
// them from the stored scale and zero point.
//
// Blocks are processed in parallel on the worker pool of quant/parallel.h; results do not
// depend on the number of threads.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "quant/types.h"

namespace onnx_opt::quant {

// How each block's scale and zero point are chosen. The searches keep the block's zero point
// rules (fixed for symmetric) and the scale rounding/clamping above, and each block's result is
// checked against the min/max parameters by exact squared error, so per block (hence in total)
// they are never worse than kMinMax. All are deterministic.
enum class ScaleSearch {
  // From the block's min/max (see above); fastest.
  kMinMax,
  // Grid search minimising the block's squared error: 100 shrink ratios of the min/max range
  // (1.0 down to 0.505), refined in steps of 0.0005 around the best, then (asymmetric) the zero
  // point moved by up to +-2.
  kMse,
  // Half-quadratic style: 20 iterations alternating rounding with closed-form least-squares
  // updates of scale (and integer zero point when asymmetric) against the weights minus an l_1/2
  // soft-thresholded residual; the best iterate by squared error is kept.
  kHqq,
};

// Quantization error of a whole tensor, accumulated in double.
struct ErrorStats {
  double sum_squared_error = 0;   // sum (dequantized - original)^2
  double sum_squared_signal = 0;  // sum original^2
  double max_abs_error = 0;
  int64_t count = 0;  // number of elements

  // ||dequantized - original||_F / ||original||_F; 0 for an all-zero original.
  double RelativeError() const;
  // Signal-to-quantization-noise ratio in dB, 10 * log10(signal / error); +inf when exact.
  double SqnrDb() const;
};

struct WeightQuantOptions {
  QType qtype = QType::kInt4;
  bool symmetric = true;
  ScaleSearch search = ScaleSearch::kMinMax;
  // Type the scales will be stored as; they are rounded to it before quantizing.
  FloatType scale_type = FloatType::kFloat32;
  // Type the runtime dequantizes to: ErrorStats measure (code - zero_point) * scale rounded to
  // it (the weight's own type for a float16/bfloat16 weight).
  FloatType error_type = FloatType::kFloat32;
};

struct QuantizedWeight {
  QType qtype = QType::kInt4;
  BlockLayout layout;
  // layout.num_elements() codes in ONNX raw_data layout (4-bit types packed, low nibble first).
  std::vector<uint8_t> data;
  // layout.num_params() scales, laid out [outer, num_blocks, inner].
  std::vector<float> scales;
  // layout.num_params() zero points in raw_data layout of qtype, or empty when there are none
  // (symmetric with a signed type: ONNX's default zero point 0 applies).
  std::vector<uint8_t> zero_points;
  ErrorStats stats;
};

// Quantizes `weight` (layout.num_elements() values, row-major) block by block. Fails on an invalid
// layout, a size mismatch, or a NaN/infinite weight.
absl::StatusOr<QuantizedWeight> QuantizeWeight(absl::Span<const float> weight,
                                               const BlockLayout& layout,
                                               const WeightQuantOptions& options);

// The same from the raw_data bytes of a float32 (any alignment), float16 or bfloat16 weight: read
// in place, 16-bit values widened block by block (no whole-tensor copy). Fails also when the
// byte count is not layout.num_elements() values of `type`.
absl::StatusOr<QuantizedWeight> QuantizeWeightBytes(FloatType type, absl::Span<const uint8_t> bytes,
                                                    const BlockLayout& layout,
                                                    const WeightQuantOptions& options);

// The same for a weight whose bytes are better copied out than read in place, such as a region
// of a memory-mapped file: read(offset, size, dst) copies `size` bytes, starting `offset` bytes
// into the weight, to dst (e.g. with pread(); it may be called from several threads at once).
// The kernels read the weight through it in pieces of up to a few hundred KiB; `bytes` (the same
// bytes in memory) serve only runs too short to be worth a call.
absl::StatusOr<QuantizedWeight> QuantizeWeightBytes(
    FloatType type, absl::Span<const uint8_t> bytes, const BlockLayout& layout,
    const WeightQuantOptions& options,
    absl::FunctionRef<void(int64_t offset, int64_t size, uint8_t* dst)> read);

// The float32 values DequantizeLinear computes from `q`: (code - zero_point) * scale.
absl::StatusOr<std::vector<float>> DequantizeWeight(const QuantizedWeight& q);

// Error statistics of `approx` against `original` (same length).
ErrorStats ComputeErrorStats(absl::Span<const float> original, absl::Span<const float> approx);

// Float values as raw_data bytes of `type` (float32 is copied, 16-bit types round to nearest
// even). Used for scales, and for writing back dequantized weights.
std::vector<uint8_t> EncodeFloats(absl::Span<const float> values, FloatType type);
inline std::vector<uint8_t> EncodeScales(absl::Span<const float> scales, FloatType type) {
  return EncodeFloats(scales, type);
}

// raw_data bytes of `type` as float32 values (exact), e.g. to quantize a float16 weight. Fails
// when the byte count is not a multiple of the element size.
absl::StatusOr<std::vector<float>> DecodeFloats(FloatType type, absl::Span<const uint8_t> bytes);

}  // namespace onnx_opt::quant
