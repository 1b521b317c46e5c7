// Internal: templated per-block kernels (reading the weight, contiguous and tile loops) and the
// parallel block driver shared by the weight quantizer and the MatMulNBits packer; the scale
// maths is block_scales.h, the CPU checks cpu_features.h. Not part of the public API.
#pragma once

#ifdef __linux__
#include <sys/mman.h>
#endif

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "absl/functional/function_ref.h"
#include "quant/block_scales.h"
#include "quant/cpu_features.h"
#include "quant/float16.h"
#include "quant/parallel.h"
#include "quant/scale_search.h"
#include "quant/types.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant::internal {

// Codes are stored with memcpy/reinterpret_cast into raw_data, which is little-endian.
static_assert(std::endian::native == std::endian::little);

// float16 bits -> float32, exact, branch-free so that loops vectorise (equal to HalfToFloat,
// NaN payloads included).
inline float WidenHalf(uint16_t h) {
  constexpr uint32_t kExponentMask = 0x7C00u << 13;
  uint32_t bits = static_cast<uint32_t>(h & 0x7FFFu) << 13;
  const uint32_t exponent = bits & kExponentMask;
  bits += (127u - 15u) << 23;
  // Infinity or NaN: all-ones exponent in float32 too.
  const uint32_t inf_nan = 0u - static_cast<uint32_t>(exponent == kExponentMask);
  bits += inf_nan & ((128u - 16u) << 23);
  // Subnormal or zero: renormalise through one exact float subtraction.
  const uint32_t subnormal = 0u - static_cast<uint32_t>(exponent == 0);
  const uint32_t renormalised = std::bit_cast<uint32_t>(std::bit_cast<float>(bits + (1u << 23)) -
                                                        std::bit_cast<float>(uint32_t{113} << 23));
  bits = (bits & ~subnormal) | (renormalised & subnormal);
  return std::bit_cast<float>(bits | (static_cast<uint32_t>(h & 0x8000u) << 16));
}

// Maps the pages of a large input range in one call instead of one page fault at a time: weights
// memory-mapped from the model file are otherwise faulted in piecemeal by the kernels, and page
// faults are expensive in virtual machines. Only a hint; failures are ignored.
inline void PrefaultForReading(const uint8_t* bytes, size_t size) {
#if defined(__linux__) && defined(MADV_POPULATE_READ)
  constexpr uintptr_t kPage = 4096;
  if (size < 16 * kPage) return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(bytes) + kPage - 1) & ~(kPage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(bytes) + size) & ~(kPage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
#endif
}

// Copies `size` bytes of a weight, starting `offset` bytes into it, to dst.
using ByteReader = absl::FunctionRef<void(int64_t offset, int64_t size, uint8_t* dst)>;

// Runs shorter than this are copied from memory even when a reader is given (a read call each
// would cost more than it saves).
inline constexpr int64_t kMinReadBytes = 4096;

// The weight as stored: raw_data bytes of float32 (any alignment), float16 or bfloat16. Kernels
// read aligned float32 in place and widen anything else piece by piece into a small buffer, so
// no whole-tensor float copy is ever made. With a reader (a weight mapped from a file, read with
// pread), every run of values goes through the buffer and the mapping itself is never touched.
struct FloatSource {
  const uint8_t* bytes = nullptr;
  FloatType type = FloatType::kFloat32;
  const ByteReader* reader = nullptr;

  static FloatSource Of(const float* values) {
    return {reinterpret_cast<const uint8_t*>(values), FloatType::kFloat32};
  }
  // The values themselves when they can be read as floats in place, else null.
  const float* direct() const {
    return type == FloatType::kFloat32 && reader == nullptr &&
                   reinterpret_cast<uintptr_t>(bytes) % alignof(float) == 0
               ? reinterpret_cast<const float*>(bytes)
               : nullptr;
  }
  // Elements [e, e + n) as float32 into dst. 16-bit values read through the reader land in
  // `staging` first (without one they are read from memory).
  void Load(int64_t e, int64_t n, float* dst, std::vector<uint8_t>* staging = nullptr) const {
    const int64_t width = FloatTypeBytes(type);
    const uint8_t* src = bytes + e * width;
    if (reader != nullptr && n * width >= kMinReadBytes) {
      if (type == FloatType::kFloat32) {
        (*reader)(e * 4, n * 4, reinterpret_cast<uint8_t*>(dst));
        return;
      }
      if (staging != nullptr) {
        if (static_cast<int64_t>(staging->size()) < n * width) staging->resize(n * width);
        (*reader)(e * width, n * width, staging->data());
        src = staging->data();
      }
    }
    switch (type) {
      case FloatType::kFloat32:
        std::memcpy(dst, src, static_cast<size_t>(n) * 4);
        return;
      case FloatType::kFloat16: {
        if (HasF16c()) {
          const int64_t done = WidenHalvesF16c(src, n, dst);
          src += 2 * done;
          dst += done;
          n -= done;
        }
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) {
          uint16_t h;
          std::memcpy(&h, src + 2 * i, 2);
          dst[i] = WidenHalf(h);
        }
        return;
      }
      case FloatType::kBFloat16: {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) {
          uint16_t h;
          std::memcpy(&h, src + 2 * i, 2);
          dst[i] = std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
        }
        return;
      }
    }
  }
};

// Error accumulators of one unit of work.
struct ErrorAccumulator {
  double sse = 0;
  double signal = 0;
  float max_abs = 0;

  void Add(const ErrorAccumulator& o) {
    sse += o.sse;
    signal += o.signal;
    max_abs = std::max(max_abs, o.max_abs);
  }
};

// Quantizes n contiguous values with one scale/zero point into int32 codes and accumulates the
// error of (code - zp) * scale, rounded to V as the runtime computes it, against x.
template <QType Q, FloatType V>
inline void QuantizeContiguous(const float* x, int64_t n, BlockParams p, int32_t* codes,
                               ErrorAccumulator& acc) {
  using T = QTraits<Q>;
  const float scale = p.scale;
  const int32_t zp = p.zero_point;
  const float lo = static_cast<float>(T::kMin - zp);
  const float hi = static_cast<float>(T::kMax - zp);
  double sse = 0;
  double signal = 0;
  float max_abs = acc.max_abs;
#pragma omp simd reduction(+ : sse, signal) reduction(max : max_abs)
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] / scale;
    v = v > lo ? v : lo;  // also maps NaN to lo
    v = v < hi ? v : hi;
    const float r = (v + kRoundMagic) - kRoundMagic;
    codes[i] = static_cast<int32_t>(r) + zp;
    const float e = RoundToType<V>(r * scale) - x[i];
    sse += static_cast<double>(e) * e;
    signal += static_cast<double>(x[i]) * x[i];
    max_abs = std::max(max_abs, std::fabs(e));
  }
  acc.sse += sse;
  acc.signal += signal;
  acc.max_abs = max_abs;
}

inline void MinMax(const float* x, int64_t n, float& min_out, float& max_out) {
  float mn = x[0];
  float mx = x[0];
#pragma omp simd reduction(min : mn) reduction(max : mx)
  for (int64_t i = 0; i < n; ++i) {
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  min_out = mn;
  max_out = mx;
}

// Per-column state of a tile (up to kTileWidth columns) of the strided kernel.
struct TileColumns {
  float min[64], max[64], scale[64], lo[64], hi[64];
  int32_t zp[64];
  double sse[64], signal[64];
  float max_abs[64];
};

// MinMaxParams of the symmetric case (fixed zero point) for the w columns of a tile from their
// min/max, vectorised: one column at a time it was 6% of a 1 GiB run. Equal to MinMaxParams
// (tested), through the same double arithmetic and RoundToType's exact rounding.
template <QType Q, FloatType S>
inline void TileSymmetricScalesAs(TileColumns& c, int64_t w) {
  using T = QTraits<Q>;
  // FinishScale's clamp for S.
  const double lowest = S == FloatType::kFloat16 ? 0x1p-14 : static_cast<double>(FLT_MIN);
  const double highest = S == FloatType::kFloat16    ? 65504.0
                         : S == FloatType::kBFloat16 ? static_cast<double>(BFloat16ToFloat(0x7F7F))
                                                     : static_cast<double>(FLT_MAX);
#pragma omp simd
  for (int64_t j = 0; j < w; ++j) {
    const bool finite = std::fabs(c.min[j]) <= FLT_MAX && std::fabs(c.max[j]) <= FLT_MAX;
    const double amax = std::max(std::fabs(double{c.min[j]}), std::fabs(double{c.max[j]}));
    const double clamped = std::min(std::max(amax / T::kSymmetricRange, lowest), highest);
    const float scale = RoundToType<S>(static_cast<float>(clamped));
    c.scale[j] = finite && amax != 0 ? scale : 1.0f;
    c.zp[j] = T::kSymmetricZeroPoint;
  }
}
template <QType Q>
inline void TileSymmetricScales(TileColumns& c, int64_t w, FloatType scale_type) {
  switch (scale_type) {
    case FloatType::kFloat16:
      return TileSymmetricScalesAs<Q, FloatType::kFloat16>(c, w);
    case FloatType::kBFloat16:
      return TileSymmetricScalesAs<Q, FloatType::kBFloat16>(c, w);
    case FloatType::kFloat32:
      break;
  }
  TileSymmetricScalesAs<Q, FloatType::kFloat32>(c, w);
}

// The two loops of a strided tile, vectorised across its w columns: every column is computed on
// its own lane, so results do not depend on the vector width. They are compiled twice, for
// baseline x86-64 and for AVX2 (twice the lanes), and picked at run time.
[[gnu::always_inline]] inline void TileMinMaxBody(const float* base, int64_t stride, int64_t rows,
                                                  int64_t w, TileColumns& c) {
  for (int64_t j = 0; j < w; ++j) c.min[j] = c.max[j] = base[j];
  for (int64_t r = 1; r < rows; ++r) {
    const float* row = base + r * stride;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      c.min[j] = std::min(c.min[j], row[j]);
      c.max[j] = std::max(c.max[j], row[j]);
    }
  }
}

// Codes of `rows` rows into codes[r * w + j], with the error of each column accumulated.
template <FloatType V>
[[gnu::always_inline]] inline void TileQuantizeBody(const float* base, int64_t stride, int64_t rows,
                                                    int64_t w, TileColumns& c, int32_t* codes) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = base + r * stride;
    int32_t* out = codes + r * w;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      float v = row[j] / c.scale[j];
      v = v > c.lo[j] ? v : c.lo[j];  // also maps NaN to lo
      v = v < c.hi[j] ? v : c.hi[j];
      const float q = (v + kRoundMagic) - kRoundMagic;
      out[j] = static_cast<int32_t>(q) + c.zp[j];
      const float e = RoundToType<V>(q * c.scale[j]) - row[j];
      c.sse[j] += static_cast<double>(e) * e;
      c.signal[j] += static_cast<double>(row[j]) * row[j];
      c.max_abs[j] = std::max(c.max_abs[j], std::fabs(e));
    }
  }
}

inline void TileMinMaxDefault(const float* base, int64_t stride, int64_t rows, int64_t w,
                              TileColumns& c) {
  TileMinMaxBody(base, stride, rows, w, c);
}
template <FloatType V>
void TileQuantizeDefault(const float* base, int64_t stride, int64_t rows, int64_t w, TileColumns& c,
                         int32_t* codes) {
  TileQuantizeBody<V>(base, stride, rows, w, c, codes);
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) inline void TileMinMaxAvx2(const float* base, int64_t stride,
                                                           int64_t rows, int64_t w,
                                                           TileColumns& c) {
  TileMinMaxBody(base, stride, rows, w, c);
}
template <FloatType V>
__attribute__((target("avx2"))) void TileQuantizeAvx2(const float* base, int64_t stride,
                                                      int64_t rows, int64_t w, TileColumns& c,
                                                      int32_t* codes) {
  TileQuantizeBody<V>(base, stride, rows, w, c, codes);
}
#endif

inline void TileMinMax(const float* base, int64_t stride, int64_t rows, int64_t w, TileColumns& c) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (HasAvx2()) return TileMinMaxAvx2(base, stride, rows, w, c);
#endif
  TileMinMaxDefault(base, stride, rows, w, c);
}
template <FloatType V>
void TileQuantize(const float* base, int64_t stride, int64_t rows, int64_t w, TileColumns& c,
                  int32_t* codes) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (HasAvx2()) return TileQuantizeAvx2<V>(base, stride, rows, w, c, codes);
#endif
  TileQuantizeDefault<V>(base, stride, rows, w, c, codes);
}

// Columns handled together when the blocked axis is not the innermost one.
inline constexpr int64_t kTileWidth = 64;
static_assert(kTileWidth == sizeof(TileColumns::min) / sizeof(float));
// int32 codes buffered per unit before they are handed to the sink.
inline constexpr int64_t kCodeBuffer = 8192;
// Values loaded per piece of work when the weight is not read in place: enough that reads are
// few and long, few enough to stay in a core's L2 cache (512 KiB of float32).
inline constexpr int64_t kPieceValues = int64_t{1} << 17;
// Pieces a weight is cut into at least (when it has that many block rows), so that small
// weights still spread over the workers.
inline constexpr int64_t kMinPieces = 16;

// Per-thread buffers for the values of a piece, kept for the thread's lifetime: fresh pages for
// every weight cost more (page faults in a virtual machine) than quantizing a small weight.
struct PieceBuffers {
  std::vector<float> loaded;     // the piece's values when x is not read in place
  std::vector<uint8_t> staging;  // 16-bit values read through x.reader, before widening
};
inline PieceBuffers& ThreadPieceBuffers() {
  thread_local PieceBuffers buffers;
  return buffers;
}

// Quantizes every block of x (layout L) and returns the error totals, measured on dequantized
// values rounded to V (config.error_type). Scales and zero points are
// written at [outer, num_blocks, inner] positions of `scales` / `zero_points` (which may be null).
// Codes are handed to
//   sink(o, d_begin, rows, j0, width, codes)
// meaning codes[r * width + j] belongs to element (o, d_begin + r, j0 + j). Every element is
// handed over exactly once; distinct calls may run on different threads concurrently, and all
// the codes of one block (o, b, j) come from calls made by one thread.
template <QType Q, FloatType V, typename Sink>
ErrorAccumulator QuantizeBlocksAs(FloatSource x, const BlockLayout& L, const BlockConfig& config,
                                  float* scales, int32_t* zero_points, const Sink& sink) {
  const int64_t nb = L.num_blocks();
  const int64_t D = L.axis_dim;
  const int64_t B = L.block_size;
  const int64_t inner = L.inner;
  const bool contiguous = inner == 1;
  const int64_t tiles = contiguous ? 1 : (inner + kTileWidth - 1) / kTileWidth;
  // A block row is one block of the axis across all inner columns: (o, b), B * inner values
  // that are contiguous in memory, as are consecutive block rows. The work is cut into pieces of
  // whole block rows when a block row fits in kPieceValues, else into pieces of a few column
  // tiles of one block row. Pieces depend on the layout only and their partial sums are added in
  // order, so the statistics do not depend on the thread count or on scheduling.
  const int64_t block_rows = L.outer * nb;
  const bool whole_rows = B * inner <= kPieceValues;
  const int64_t rows_per_piece =
      whole_rows ? std::clamp(std::min(kPieceValues / (B * inner),
                                       (block_rows + kMinPieces - 1) / kMinPieces),
                              int64_t{1}, block_rows)
                 : 1;
  const int64_t tiles_per_piece =
      whole_rows ? tiles : std::clamp(kPieceValues / (B * kTileWidth), int64_t{1}, tiles);
  const int64_t pieces_per_row = (tiles + tiles_per_piece - 1) / tiles_per_piece;
  const int64_t pieces =
      whole_rows ? (block_rows + rows_per_piece - 1) / rows_per_piece : block_rows * pieces_per_row;
  std::vector<ErrorAccumulator> partial(pieces);
  const bool parallel = L.num_elements() >= (int64_t{1} << 15) && pieces > 1;

  // Per-thread scratch, indexed by ParallelFor's worker.
  struct Scratch {
    std::vector<int32_t> codes = std::vector<int32_t>(kCodeBuffer);
    std::vector<float> column;  // a gathered column block, for searches on strided layouts
    TileColumns tile;
  };
  std::vector<Scratch> scratch(parallel ? MaxWorkers() : 1);
  const float* const direct = x.direct();

  // Quantizes the block (o, b) of columns [j0, j0 + w); element (o, d, j) is at
  // base[(d - d0) * stride + (j - j0)].
  auto run_unit = [&](Scratch& s, int64_t o, int64_t b, int64_t j0, int64_t w, const float* base,
                      int64_t stride, ErrorAccumulator& acc) {
    const int64_t ob = o * nb + b;
    const int64_t d0 = b * B;
    const int64_t len = std::min(B, D - d0);
    std::vector<int32_t>& codes = s.codes;
    if (contiguous) {
      float mn, mx;
      MinMax(base, len, mn, mx);
      const BlockParams p = ChooseParams<Q>(base, len, mn, mx, config);
      scales[ob] = p.scale;
      if (zero_points != nullptr) zero_points[ob] = p.zero_point;
      for (int64_t r0 = 0; r0 < len; r0 += kCodeBuffer) {
        const int64_t rows = std::min(kCodeBuffer, len - r0);
        QuantizeContiguous<Q, V>(base + r0, rows, p, codes.data(), acc);
        sink(o, d0 + r0, rows, int64_t{0}, int64_t{1}, codes.data());
      }
      return;
    }
    // Strided: a tile of up to kTileWidth columns, vectorised across columns.
    using T = QTraits<Q>;
    TileColumns& c = s.tile;
    TileMinMax(base, stride, len, w, c);
    if (config.search == ScaleSearch::kMinMax && config.symmetric) {
      TileSymmetricScales<Q>(c, w, config.scale_type);
    } else {
      for (int64_t j = 0; j < w; ++j) {
        BlockParams p;
        if (config.search == ScaleSearch::kMinMax) {
          p = MinMaxParams<Q>(c.min[j], c.max[j], config.symmetric, config.scale_type);
        } else {
          s.column.resize(len);
          for (int64_t r = 0; r < len; ++r) s.column[r] = base[r * stride + j];
          p = SearchParams<Q>(s.column.data(), len, c.min[j], c.max[j], config);
        }
        c.scale[j] = p.scale;
        c.zp[j] = p.zero_point;
      }
    }
    for (int64_t j = 0; j < w; ++j) {
      c.lo[j] = static_cast<float>(T::kMin - c.zp[j]);
      c.hi[j] = static_cast<float>(T::kMax - c.zp[j]);
      c.sse[j] = 0;
      c.signal[j] = 0;
      c.max_abs[j] = 0;
      scales[ob * inner + j0 + j] = c.scale[j];
      if (zero_points != nullptr) zero_points[ob * inner + j0 + j] = c.zp[j];
    }
    const int64_t chunk_rows = std::max<int64_t>(1, kCodeBuffer / w);
    for (int64_t r0 = 0; r0 < len; r0 += chunk_rows) {
      const int64_t rows = std::min(chunk_rows, len - r0);
      TileQuantize<V>(base + r0 * stride, stride, rows, w, c, codes.data());
      sink(o, d0 + r0, rows, j0, w, codes.data());
    }
    for (int64_t j = 0; j < w; ++j) {
      acc.sse += c.sse[j];
      acc.signal += c.signal[j];
      acc.max_abs = std::max(acc.max_abs, c.max_abs[j]);
    }
  };

  auto run_piece = [&](int worker, int64_t piece) {
    Scratch& s = scratch[worker];
    const int64_t ob_begin = whole_rows ? piece * rows_per_piece : piece / pieces_per_row;
    const int64_t ob_end =
        whole_rows ? std::min(ob_begin + rows_per_piece, block_rows) : ob_begin + 1;
    const int64_t t_begin = whole_rows ? 0 : (piece % pieces_per_row) * tiles_per_piece;
    const int64_t t_end = whole_rows ? tiles : std::min(t_begin + tiles_per_piece, tiles);
    // Axis rows (o * D + d) and columns of the piece.
    auto first_row = [&](int64_t ob) { return (ob / nb) * D + (ob % nb) * B; };
    const int64_t row_begin = first_row(ob_begin);
    const int64_t row_end = first_row(ob_end - 1) + std::min(B, D - ((ob_end - 1) % nb) * B);
    const int64_t col_begin = t_begin * kTileWidth;
    const int64_t col_end = std::min(t_end * kTileWidth, inner);
    // Element (row, j) of the piece is at origin[(row - row_begin) * stride + j - col_begin].
    const float* origin;
    int64_t stride;
    if (direct != nullptr) {
      origin = direct + row_begin * inner + col_begin;
      stride = inner;
    } else {
      const int64_t width = col_end - col_begin;
      const int64_t rows = row_end - row_begin;
      PieceBuffers& buffers = ThreadPieceBuffers();
      // Pieces beyond the usual size (very long blocks) do not stay allocated.
      if (buffers.loaded.capacity() > 4 * kPieceValues) buffers.loaded = {};
      if (buffers.staging.capacity() > 8 * kPieceValues) buffers.staging = {};
      if (static_cast<int64_t>(buffers.loaded.size()) < rows * width) {
        buffers.loaded.resize(rows * width);
      }
      if (width == inner) {  // whole rows: one contiguous range
        x.Load(row_begin * inner, rows * inner, buffers.loaded.data(), &buffers.staging);
      } else {
        for (int64_t r = 0; r < rows; ++r) {
          x.Load((row_begin + r) * inner + col_begin, width, buffers.loaded.data() + r * width,
                 &buffers.staging);
        }
      }
      origin = buffers.loaded.data();
      stride = width;
    }
    ErrorAccumulator acc;
    for (int64_t ob = ob_begin; ob < ob_end; ++ob) {
      const int64_t row_offset = (first_row(ob) - row_begin) * stride;
      for (int64_t t = t_begin; t < t_end; ++t) {
        const int64_t j0 = t * kTileWidth;
        const int64_t w = std::min(kTileWidth, inner - j0);
        run_unit(s, ob / nb, ob % nb, j0, w, origin + row_offset + (j0 - col_begin), stride, acc);
      }
    }
    partial[piece] = acc;
  };
  if (parallel) {
    ParallelFor(pieces, run_piece);
  } else {
    for (int64_t piece = 0; piece < pieces; ++piece) run_piece(0, piece);
  }
  ErrorAccumulator total;
  for (const ErrorAccumulator& p : partial) total.Add(p);
  return total;
}

template <QType Q, typename Sink>
ErrorAccumulator QuantizeBlocks(FloatSource x, const BlockLayout& L, const BlockConfig& config,
                                float* scales, int32_t* zero_points, const Sink& sink) {
  switch (config.error_type) {
    case FloatType::kFloat16:
      return QuantizeBlocksAs<Q, FloatType::kFloat16>(x, L, config, scales, zero_points, sink);
    case FloatType::kBFloat16:
      return QuantizeBlocksAs<Q, FloatType::kBFloat16>(x, L, config, scales, zero_points, sink);
    case FloatType::kFloat32:
      break;
  }
  return QuantizeBlocksAs<Q, FloatType::kFloat32>(x, L, config, scales, zero_points, sink);
}

}  // namespace onnx_opt::quant::internal
