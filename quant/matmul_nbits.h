// Packing of a constant MatMul weight for ONNX Runtime's com.microsoft.MatMulNBits.
//
// For Y = A x B with B a float32 constant [K, N] (row-major), MatMulNBits takes attributes
// K, N, bits, block_size and these inputs:
//   B            uint8 [N, k_blocks, blob_size], k_blocks = ceil(K / block_size),
//                blob_size = block_size * bits / 8. Column n of B is quantized along K in blocks of
//                block_size; 4-bit codes are packed two per byte, even k in the low nibble. The
//                tail of the last block (K not a multiple of block_size) holds the block's zero
//                point code, i.e. padding dequantizes to 0.
//   scales       [N * k_blocks] in A's float type (here float32 values, exactly representable in
//                options.scale_type).
//   zero_points  optional uint8. For 4 bits packed [N, ceil(k_blocks / 2)] (two per byte, even
//                block in the low nibble, an unused last high nibble is 0); for 8 bits
//                [N, k_blocks]. When absent ORT uses 2^(bits-1).
// Dequantized: B[k][n] = (code - zero_point) * scale of block (n, k / block_size).
//
// symmetric = true: no zero_points input; scale = max|x| / (2^(bits-1) - 1) and codes lie in
// [1, 2^bits - 1] around the implicit 2^(bits-1) (ORT's own quantizer instead maps the extreme to
// code 0 with a possibly negative scale; any scale is legal for the kernel). symmetric = false:
// [min, max] widened to include 0, unsigned codes with a stored zero point. Codes are
// round-half-even(x / scale) + zero_point, saturated, from the scale as stored.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "quant/types.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant {

struct MatMulNBitsOptions {
  int bits = 4;             // 4 or 8
  int64_t block_size = 32;  // power of two, >= 16
  bool symmetric = true;
  ScaleSearch search = ScaleSearch::kMinMax;
  FloatType scale_type = FloatType::kFloat32;
  // Type the runtime dequantizes to; the error statistics are measured after rounding to it.
  FloatType error_type = FloatType::kFloat32;
};

struct MatMulNBitsWeight {
  int64_t k = 0;
  int64_t n = 0;
  int bits = 4;
  int64_t block_size = 32;
  int64_t k_blocks = 0;              // ceil(k / block_size)
  int64_t blob_size = 0;             // block_size * bits / 8
  std::vector<uint8_t> b;            // [n, k_blocks, blob_size]
  std::vector<float> scales;         // [n * k_blocks]
  std::vector<uint8_t> zero_points;  // [n, zero_point_row_bytes()], empty when symmetric
  ErrorStats stats;

  // Bytes of zero points per column n: ceil(k_blocks * bits / 8).
  int64_t zero_point_row_bytes() const { return (k_blocks * bits + 7) / 8; }
};

// Quantizes B [k, n] (row-major float32) into MatMulNBits inputs. Fails on bad sizes or options
// or NaN/infinite weights.
absl::StatusOr<MatMulNBitsWeight> QuantizeMatMulNBits(absl::Span<const float> b, int64_t k,
                                                      int64_t n, const MatMulNBitsOptions& options);

// The same from the raw_data bytes of a float32 (any alignment), float16 or bfloat16 B, read in
// place (16-bit values widened block by block).
absl::StatusOr<MatMulNBitsWeight> QuantizeMatMulNBitsBytes(FloatType type,
                                                           absl::Span<const uint8_t> b, int64_t k,
                                                           int64_t n,
                                                           const MatMulNBitsOptions& options);

// Packs a B that is already quantized (DequantizeLinear codes blocked along K): `codes` [k, n]
// row-major, unsigned (0 .. 2^bits - 1); `scales` and `zero_points` [k_blocks, n], the zero
// points unsigned codes too. They are stored only when `store_zero_points` (else ORT's default
// 2^(bits-1) must be every block's). Shares the layout code of QuantizeMatMulNBits; `stats` stay
// zero but for the count.
absl::StatusOr<MatMulNBitsWeight> PackMatMulNBits(int bits, int64_t block_size, int64_t k,
                                                  int64_t n, absl::Span<const uint8_t> codes,
                                                  absl::Span<const float> scales,
                                                  absl::Span<const int32_t> zero_points,
                                                  bool store_zero_points);

// The float32 B [k, n] that MatMulNBits computes with (zero point 2^(bits-1) when absent).
absl::StatusOr<std::vector<float>> DequantizeMatMulNBits(const MatMulNBitsWeight& w);

}  // namespace onnx_opt::quant
