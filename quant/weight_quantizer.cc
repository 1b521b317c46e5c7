#include "quant/weight_quantizer.h"

#ifdef __linux__
#include <sys/mman.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "quant/block_kernels.h"
#include "quant/float16.h"
#include "quant/packing.h"
#include "quant/parallel.h"

namespace onnx_opt::quant {
namespace {

using internal::BlockConfig;
using internal::ErrorAccumulator;
using internal::QTraits;

// Resizes a vector about to be filled. Fresh multi-megabyte buffers are costly in a virtual
// machine: every 4 KiB page costs a fault and, on its first access, a page-table fill by the
// hypervisor. Transparent huge pages (where the kernel allows them on request) cut both 512-fold
// for the 2 MiB-aligned part; the pages are populated and first written up front, 2 MiB at a
// time on the worker pool, so that the zero-fill of resize() below runs on pages that are ready.
template <typename T>
void ResizeWithHugePages(std::vector<T>& v, size_t count) {
  v.reserve(count);
#ifdef __linux__
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const uintptr_t start = reinterpret_cast<uintptr_t>(v.data());
  const uintptr_t stop = start + count * sizeof(T);
  const uintptr_t begin = (start + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = stop & ~(kHugePage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  if (count * sizeof(T) >= (size_t{64} << 10)) {
    // Pieces end on huge page boundaries, so no huge page is split between two workers.
    constexpr uintptr_t kPage = 4096;
    const uintptr_t base = start & ~(kHugePage - 1);
    const int64_t pieces = static_cast<int64_t>((stop - 1 - base) / kHugePage + 1);
    ParallelFor(pieces, [&](int, int64_t i) {
      const uintptr_t piece_begin = std::max(start, base + static_cast<uintptr_t>(i) * kHugePage);
      const uintptr_t piece_end = std::min(stop, base + static_cast<uintptr_t>(i + 1) * kHugePage);
      if (piece_end <= piece_begin) return;
#ifdef MADV_POPULATE_WRITE
      // One call instead of a fault per page.
      const uintptr_t first = (piece_begin + kPage - 1) & ~(kPage - 1);
      const uintptr_t last = piece_end & ~(kPage - 1);
      if (last > first) {
        madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE);
      }
#endif
      // The first write to each page here, on this worker, rather than in resize() below: that
      // zero-fill then runs on pages that are ready (a store per 4 KiB page suffices; the
      // storage is reserved, of an implicit-lifetime type, and zero-filled by resize()).
      for (uintptr_t page = piece_begin; page < piece_end; page = (page | (kPage - 1)) + 1) {
        *reinterpret_cast<volatile uint8_t*>(page) = 0;
      }
    });
  }
#endif
  v.resize(count);
}

// Stores a run of n 4-bit codes starting at element e of zero-initialised packed output. Bytes
// wholly inside the run belong to this caller alone and get plain stores; a half-owned byte at
// either end may be shared with a run handled by another thread, so its nibble is OR-ed in
// atomically.
inline void StoreNibbleRun(uint8_t* out, int64_t e, const int32_t* codes, int64_t n) {
  int64_t i = 0;
  if ((e & 1) && n > 0) {
    std::atomic_ref<uint8_t>(out[e >> 1])
        .fetch_or(static_cast<uint8_t>((codes[0] & 0xF) << 4), std::memory_order_relaxed);
    i = 1;
  }
  const int64_t pairs = (n - i) / 2;
  uint8_t* dst = out + ((e + i) >> 1);
  const int32_t* src = codes + i;
#pragma omp simd
  for (int64_t p = 0; p < pairs; ++p) {
    dst[p] = static_cast<uint8_t>((src[2 * p] & 0xF) | ((src[2 * p + 1] & 0xF) << 4));
  }
  if ((n - i) & 1) {
    std::atomic_ref<uint8_t>(out[(e + n - 1) >> 1])
        .fetch_or(static_cast<uint8_t>(codes[n - 1] & 0xF), std::memory_order_relaxed);
  }
}

template <QType Q>
absl::StatusOr<QuantizedWeight> QuantizeWeightTyped(internal::FloatSource weight,
                                                    const BlockLayout& L,
                                                    const WeightQuantOptions& options) {
  using Storage = typename QTraits<Q>::Storage;
  constexpr bool kFourBit = QTypeBits(Q) == 4;
  const int64_t n = L.num_elements();
  QuantizedWeight result;
  result.qtype = Q;
  result.layout = L;
  ResizeWithHugePages(result.scales, L.num_params());
  const bool stores_zero_points = !options.symmetric || !QTraits<Q>::kSigned;
  // Every entry is written by the kernel: no zero-filling.
  std::unique_ptr<int32_t[]> zero_points(stores_zero_points ? new int32_t[L.num_params()]
                                                            : nullptr);
  // Zero-filled: 4-bit runs OR their edge nibbles in.
  ResizeWithHugePages(result.data, PackedByteSize(Q, n));
  uint8_t* out = result.data.data();
  const int64_t D = L.axis_dim;
  const int64_t inner = L.inner;
  auto sink = [out, D, inner](int64_t o, int64_t d_begin, int64_t rows, int64_t j0, int64_t width,
                              const int32_t* codes) {
    // Whole rows form one contiguous run (always so when inner == 1).
    const bool whole_rows = width == inner;
    const int64_t runs = whole_rows ? 1 : rows;
    const int64_t length = whole_rows ? rows * width : width;
    for (int64_t r = 0; r < runs; ++r) {
      const int64_t e = (o * D + d_begin + r) * inner + j0;
      const int32_t* src = codes + r * length;
      if constexpr (kFourBit) {
        StoreNibbleRun(out, e, src, length);
      } else {
        Storage* dst = reinterpret_cast<Storage*>(out) + e;
#pragma omp simd
        for (int64_t j = 0; j < length; ++j) dst[j] = static_cast<Storage>(src[j]);
      }
    }
  };
  const BlockConfig config{options.symmetric, options.search, options.scale_type,
                           options.error_type};
  const ErrorAccumulator acc =
      internal::QuantizeBlocks<Q>(weight, L, config, result.scales.data(), zero_points.get(), sink);
  if (!std::isfinite(acc.signal)) {
    return absl::InvalidArgumentError("weight contains NaN or infinite values");
  }
  if (stores_zero_points) {
    result.zero_points = PackCodes(Q, absl::MakeConstSpan(zero_points.get(), L.num_params()));
  }
  result.stats.sum_squared_error = acc.sse;
  result.stats.sum_squared_signal = acc.signal;
  result.stats.max_abs_error = acc.max_abs;
  result.stats.count = n;
  return result;
}

template <QType Q>
void DequantizeTyped(const QuantizedWeight& q, float* out) {
  const BlockLayout& L = q.layout;
  const int64_t nb = L.num_blocks();
  const int64_t D = L.axis_dim;
  const int64_t B = L.block_size;
  const int64_t inner = L.inner;
  const uint8_t* data = q.data.data();
  const bool has_zp = !q.zero_points.empty();
  const int64_t units = L.outer * nb;
#pragma omp parallel if (L.num_elements() >= (int64_t{1} << 16))
  {
    std::vector<int32_t> zp(inner, 0);
#pragma omp for schedule(static)
    for (int64_t ob = 0; ob < units; ++ob) {
      const int64_t o = ob / nb;
      const int64_t d0 = (ob % nb) * B;
      const int64_t len = std::min(B, D - d0);
      const float* scale = q.scales.data() + ob * inner;
      if (has_zp) {
        for (int64_t j = 0; j < inner; ++j)
          zp[j] = ReadCode(Q, q.zero_points.data(), ob * inner + j);
      }
      for (int64_t r = 0; r < len; ++r) {
        const int64_t e0 = (o * D + d0 + r) * inner;
        float* dst = out + e0;
        if constexpr (QTypeBits(Q) == 4) {
          for (int64_t j = 0; j < inner; ++j) {
            dst[j] = static_cast<float>(ReadCode(Q, data, e0 + j) - zp[j]) * scale[j];
          }
        } else {
          using Storage = typename QTraits<Q>::Storage;
          const uint8_t* src = data + e0 * sizeof(Storage);
#pragma omp simd
          for (int64_t j = 0; j < inner; ++j) {
            Storage v;
            std::memcpy(&v, src + j * sizeof(Storage), sizeof(Storage));
            // Integer subtraction first, as ONNX does, then one rounding in the multiply.
            dst[j] = static_cast<float>(static_cast<int32_t>(v) - zp[j]) * scale[j];
          }
        }
      }
    }
  }
}

}  // namespace

double ErrorStats::RelativeError() const {
  if (sum_squared_signal == 0) return sum_squared_error == 0 ? 0.0 : std::sqrt(sum_squared_error);
  return std::sqrt(sum_squared_error / sum_squared_signal);
}

double ErrorStats::SqnrDb() const {
  if (sum_squared_error == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sum_squared_signal / sum_squared_error);
}

absl::StatusOr<QuantizedWeight> QuantizeWeight(absl::Span<const float> weight,
                                               const BlockLayout& layout,
                                               const WeightQuantOptions& options) {
  return QuantizeWeightBytes(
      FloatType::kFloat32,
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(weight.data()), weight.size() * 4),
      layout, options);
}

namespace {

absl::StatusOr<QuantizedWeight> QuantizeSource(const internal::FloatSource& weight, size_t size,
                                               const BlockLayout& layout,
                                               const WeightQuantOptions& options) {
  if (absl::Status s = layout.Validate(); !s.ok()) return s;
  const size_t width = FloatTypeBytes(weight.type);
  if (size % width != 0 || static_cast<int64_t>(size / width) != layout.num_elements()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weight has ", size / width, " values but the layout has ", layout.num_elements()));
  }
  // A reader copies the bytes out: the mapping is not touched, so there is nothing to prefault.
  if (weight.reader == nullptr) internal::PrefaultForReading(weight.bytes, size);
  return VisitQType(options.qtype, [&](auto t) {
    return QuantizeWeightTyped<decltype(t)::value>(weight, layout, options);
  });
}

}  // namespace

absl::StatusOr<QuantizedWeight> QuantizeWeightBytes(FloatType type, absl::Span<const uint8_t> bytes,
                                                    const BlockLayout& layout,
                                                    const WeightQuantOptions& options) {
  return QuantizeSource({bytes.data(), type}, bytes.size(), layout, options);
}

absl::StatusOr<QuantizedWeight> QuantizeWeightBytes(
    FloatType type, absl::Span<const uint8_t> bytes, const BlockLayout& layout,
    const WeightQuantOptions& options,
    absl::FunctionRef<void(int64_t offset, int64_t size, uint8_t* dst)> read) {
  return QuantizeSource({bytes.data(), type, &read}, bytes.size(), layout, options);
}

absl::StatusOr<std::vector<float>> DequantizeWeight(const QuantizedWeight& q) {
  const BlockLayout& L = q.layout;
  if (absl::Status s = L.Validate(); !s.ok()) return s;
  if (static_cast<int64_t>(q.data.size()) != PackedByteSize(q.qtype, L.num_elements()) ||
      static_cast<int64_t>(q.scales.size()) != L.num_params() ||
      (!q.zero_points.empty() &&
       static_cast<int64_t>(q.zero_points.size()) != PackedByteSize(q.qtype, L.num_params()))) {
    return absl::InvalidArgumentError("quantized weight buffers do not match its layout");
  }
  std::vector<float> out(L.num_elements());
  switch (q.qtype) {
    case QType::kInt4:
      DequantizeTyped<QType::kInt4>(q, out.data());
      break;
    case QType::kUint4:
      DequantizeTyped<QType::kUint4>(q, out.data());
      break;
    case QType::kInt8:
      DequantizeTyped<QType::kInt8>(q, out.data());
      break;
    case QType::kUint8:
      DequantizeTyped<QType::kUint8>(q, out.data());
      break;
    case QType::kInt16:
      DequantizeTyped<QType::kInt16>(q, out.data());
      break;
    case QType::kUint16:
      DequantizeTyped<QType::kUint16>(q, out.data());
      break;
  }
  return out;
}

ErrorStats ComputeErrorStats(absl::Span<const float> original, absl::Span<const float> approx) {
  ErrorStats stats;
  const int64_t n = static_cast<int64_t>(std::min(original.size(), approx.size()));
  double sse = 0;
  double signal = 0;
  double max_abs = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = static_cast<double>(approx[i]) - original[i];
    sse += e * e;
    signal += static_cast<double>(original[i]) * original[i];
    max_abs = std::max(max_abs, std::fabs(e));
  }
  stats.sum_squared_error = sse;
  stats.sum_squared_signal = signal;
  stats.max_abs_error = max_abs;
  stats.count = n;
  return stats;
}

std::vector<uint8_t> EncodeFloats(absl::Span<const float> scales, FloatType type) {
  std::vector<uint8_t> bytes;
  ResizeWithHugePages(bytes, scales.size() * FloatTypeBytes(type));
  if (type == FloatType::kFloat32) {
    if (!scales.empty()) std::memcpy(bytes.data(), scales.data(), bytes.size());
    return bytes;
  }
  for (size_t i = 0; i < scales.size(); ++i) {
    const uint16_t h =
        type == FloatType::kFloat16 ? FloatToHalf(scales[i]) : FloatToBFloat16(scales[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  return bytes;
}

absl::StatusOr<std::vector<float>> DecodeFloats(FloatType type, absl::Span<const uint8_t> bytes) {
  const size_t width = FloatTypeBytes(type);
  if (bytes.size() % width != 0) {
    return absl::InvalidArgumentError(absl::StrCat(bytes.size(), " bytes is not a whole number of ",
                                                   FloatTypeName(type), " values"));
  }
  std::vector<float> values(bytes.size() / width);
  for (size_t i = 0; i < values.size(); ++i) {
    if (type == FloatType::kFloat32) {
      std::memcpy(&values[i], bytes.data() + 4 * i, 4);
      continue;
    }
    uint16_t h;
    std::memcpy(&h, bytes.data() + 2 * i, 2);
    values[i] = type == FloatType::kFloat16 ? HalfToFloat(h) : BFloat16ToFloat(h);
  }
  return values;
}

}  // namespace onnx_opt::quant
