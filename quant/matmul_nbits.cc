#include "quant/matmul_nbits.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "quant/block_kernels.h"

namespace onnx_opt::quant {
namespace {

using internal::BlockConfig;
using internal::ErrorAccumulator;

// Code `code` at position kk of a block's blob: 4-bit codes two per byte, even kk low nibble.
template <int kBits>
inline void StoreCode(uint8_t* blob, int64_t kk, uint8_t code) {
  if constexpr (kBits == 4) {
    blob[kk >> 1] |= static_cast<uint8_t>(code << ((kk & 1) * 4));
  } else {
    blob[kk] = code;
  }
}

// Completes `w` once its codes are in w.b: the tail of a ragged last block gets the block's zero
// point code (dequantizes to 0), and the parameters ([k_blocks, N]) are transposed to [N, k_blocks]
// (zero points packed, and only when `store_zero_points`).
template <int kBits>
void FinishPackingTyped(MatMulNBitsWeight& w, const std::vector<float>& scales,
                        const std::vector<int32_t>& zps, bool store_zero_points) {
  const int64_t kb = w.k_blocks;
  const int64_t n = w.n;
  const int64_t block = w.block_size;
  const int64_t tail = w.k - (kb - 1) * block;
  if (tail < block) {
    for (int64_t j = 0; j < n; ++j) {
      uint8_t* dst = w.b.data() + (j * kb + kb - 1) * w.blob_size;
      const uint8_t code = static_cast<uint8_t>(zps[(kb - 1) * n + j]);
      for (int64_t kk = tail; kk < block; ++kk) StoreCode<kBits>(dst, kk, code);
    }
  }
  w.scales.resize(n * kb);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t blk = 0; blk < kb; ++blk) w.scales[j * kb + blk] = scales[blk * n + j];
  }
  if (!store_zero_points) return;
  const int64_t row_bytes = w.zero_point_row_bytes();
  w.zero_points.assign(n * row_bytes, 0);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t blk = 0; blk < kb; ++blk) {
      StoreCode<kBits>(w.zero_points.data() + j * row_bytes, blk,
                       static_cast<uint8_t>(zps[blk * n + j]));
    }
  }
}

void FinishPacking(MatMulNBitsWeight& w, const std::vector<float>& scales,
                   const std::vector<int32_t>& zps, bool store_zero_points) {
  if (w.bits == 4) {
    FinishPackingTyped<4>(w, scales, zps, store_zero_points);
  } else {
    FinishPackingTyped<8>(w, scales, zps, store_zero_points);
  }
}

MatMulNBitsWeight EmptyWeight(int bits, int64_t block_size, int64_t k, int64_t n) {
  MatMulNBitsWeight w;
  w.k = k;
  w.n = n;
  w.bits = bits;
  w.block_size = block_size;
  w.k_blocks = (k + block_size - 1) / block_size;
  w.blob_size = block_size * bits / 8;
  w.b.assign(n * w.k_blocks * w.blob_size, 0);
  return w;
}

absl::Status CheckGeometry(int bits, int64_t block_size, int64_t k, int64_t n) {
  if (bits != 4 && bits != 8) {
    return absl::InvalidArgumentError(absl::StrCat("MatMulNBits bits must be 4 or 8, got ", bits));
  }
  if (block_size < 16 || (block_size & (block_size - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("MatMulNBits block_size must be a power of two >= 16, got ", block_size));
  }
  if (k <= 0 || n <= 0 || k > (int64_t{1} << 40) / n) {
    return absl::InvalidArgumentError(absl::StrCat("invalid MatMulNBits shape K=", k, " N=", n));
  }
  return absl::OkStatus();
}

template <QType Q>
absl::StatusOr<MatMulNBitsWeight> QuantizeTyped(internal::FloatSource b, int64_t k, int64_t n,
                                                const MatMulNBitsOptions& options) {
  constexpr int kBits = QTypeBits(Q);
  MatMulNBitsWeight w = EmptyWeight(kBits, options.block_size, k, n);
  const int64_t kb = w.k_blocks;
  const int64_t blob = w.blob_size;
  const int64_t block = w.block_size;

  // B [K, N] blocked along K: outer 1, axis K, inner N. Parameters come out as [k_blocks, N].
  const BlockLayout layout{1, k, n, block};
  std::vector<float> scales(kb * n);
  std::vector<int32_t> zps(kb * n);
  uint8_t* out = w.b.data();
  // Each (column, block) blob belongs to one unit of work, so writes never race.
  auto sink = [out, kb, blob, block](int64_t, int64_t d_begin, int64_t rows, int64_t j0,
                                     int64_t width, const int32_t* codes) {
    const int64_t blk = d_begin / block;
    const int64_t k0 = d_begin - blk * block;
    for (int64_t j = 0; j < width; ++j) {
      uint8_t* dst = out + ((j0 + j) * kb + blk) * blob;
      for (int64_t r = 0; r < rows; ++r) {
        StoreCode<kBits>(dst, k0 + r, static_cast<uint8_t>(codes[r * width + j]));
      }
    }
  };
  const BlockConfig config{options.symmetric, options.search, options.scale_type,
                           options.error_type};
  const ErrorAccumulator acc =
      internal::QuantizeBlocks<Q>(b, layout, config, scales.data(), zps.data(), sink);
  if (!std::isfinite(acc.signal)) {
    return absl::InvalidArgumentError("weight contains NaN or infinite values");
  }

  FinishPacking(w, scales, zps, !options.symmetric);
  w.stats.sum_squared_error = acc.sse;
  w.stats.sum_squared_signal = acc.signal;
  w.stats.max_abs_error = acc.max_abs;
  w.stats.count = k * n;
  return w;
}

}  // namespace

absl::StatusOr<MatMulNBitsWeight> QuantizeMatMulNBits(absl::Span<const float> b, int64_t k,
                                                      int64_t n,
                                                      const MatMulNBitsOptions& options) {
  return QuantizeMatMulNBitsBytes(
      FloatType::kFloat32,
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(b.data()), b.size() * 4), k, n, options);
}

absl::StatusOr<MatMulNBitsWeight> QuantizeMatMulNBitsBytes(FloatType type,
                                                           absl::Span<const uint8_t> b, int64_t k,
                                                           int64_t n,
                                                           const MatMulNBitsOptions& options) {
  if (absl::Status s = CheckGeometry(options.bits, options.block_size, k, n); !s.ok()) return s;
  const size_t width = FloatTypeBytes(type);
  if (b.size() % width != 0 || static_cast<int64_t>(b.size() / width) != k * n) {
    return absl::InvalidArgumentError(
        absl::StrCat("B has ", b.size() / width, " values, expected K*N = ", k * n));
  }
  internal::PrefaultForReading(b.data(), b.size());
  const internal::FloatSource source{b.data(), type};
  if (options.bits == 4) return QuantizeTyped<QType::kUint4>(source, k, n, options);
  return QuantizeTyped<QType::kUint8>(source, k, n, options);
}

absl::StatusOr<MatMulNBitsWeight> PackMatMulNBits(int bits, int64_t block_size, int64_t k,
                                                  int64_t n, absl::Span<const uint8_t> codes,
                                                  absl::Span<const float> scales,
                                                  absl::Span<const int32_t> zero_points,
                                                  bool store_zero_points) {
  if (absl::Status s = CheckGeometry(bits, block_size, k, n); !s.ok()) return s;
  MatMulNBitsWeight w = EmptyWeight(bits, block_size, k, n);
  const int64_t params = w.k_blocks * n;
  if (static_cast<int64_t>(codes.size()) != k * n ||
      static_cast<int64_t>(scales.size()) != params ||
      static_cast<int64_t>(zero_points.size()) != params) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MatMulNBits packing expects ", k * n, " codes and ", params, " scales and zero points"));
  }
  const int max_code = (1 << bits) - 1;
  for (uint8_t c : codes) {
    if (c > max_code) return absl::InvalidArgumentError("code out of range for the bit width");
  }
  for (int32_t z : zero_points) {
    if (z < 0 || z > max_code) return absl::InvalidArgumentError("zero point out of range");
  }
  for (int64_t kk = 0; kk < k; ++kk) {
    const int64_t blk = kk / block_size;
    const int64_t pos = kk - blk * block_size;
    for (int64_t j = 0; j < n; ++j) {
      uint8_t* dst = w.b.data() + (j * w.k_blocks + blk) * w.blob_size;
      if (bits == 4) {
        StoreCode<4>(dst, pos, codes[kk * n + j]);
      } else {
        StoreCode<8>(dst, pos, codes[kk * n + j]);
      }
    }
  }
  FinishPacking(w, std::vector<float>(scales.begin(), scales.end()),
                std::vector<int32_t>(zero_points.begin(), zero_points.end()), store_zero_points);
  w.stats.count = k * n;
  return w;
}

absl::StatusOr<std::vector<float>> DequantizeMatMulNBits(const MatMulNBitsWeight& w) {
  if ((w.bits != 4 && w.bits != 8) || w.k <= 0 || w.n <= 0 || w.block_size <= 0 ||
      w.k_blocks != (w.k + w.block_size - 1) / w.block_size ||
      w.blob_size != w.block_size * w.bits / 8 ||
      static_cast<int64_t>(w.b.size()) != w.n * w.k_blocks * w.blob_size ||
      static_cast<int64_t>(w.scales.size()) != w.n * w.k_blocks ||
      (!w.zero_points.empty() &&
       static_cast<int64_t>(w.zero_points.size()) != w.n * w.zero_point_row_bytes())) {
    return absl::InvalidArgumentError("inconsistent MatMulNBits weight");
  }
  std::vector<float> out(w.k * w.n);
  const int32_t default_zp = 1 << (w.bits - 1);
  const int64_t row_bytes = w.zero_point_row_bytes();
#pragma omp parallel for schedule(static) if (w.k * w.n >= (int64_t{1} << 16))
  for (int64_t j = 0; j < w.n; ++j) {
    for (int64_t blk = 0; blk < w.k_blocks; ++blk) {
      int32_t zp = default_zp;
      if (!w.zero_points.empty()) {
        const uint8_t byte = w.zero_points[j * row_bytes + (w.bits == 4 ? blk >> 1 : blk)];
        zp = w.bits == 4 ? (byte >> ((blk & 1) * 4)) & 0xF : byte;
      }
      const float scale = w.scales[j * w.k_blocks + blk];
      const uint8_t* blob = w.b.data() + (j * w.k_blocks + blk) * w.blob_size;
      const int64_t k0 = blk * w.block_size;
      const int64_t len = std::min(w.block_size, w.k - k0);
      for (int64_t kk = 0; kk < len; ++kk) {
        const int32_t code = w.bits == 4 ? (blob[kk >> 1] >> ((kk & 1) * 4)) & 0xF : blob[kk];
        out[(k0 + kk) * w.n + j] = static_cast<float>(code - zp) * scale;
      }
    }
  }
  return out;
}

}  // namespace onnx_opt::quant
