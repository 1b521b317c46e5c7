// The kernel driver: QuantizeWeightBytes with a reader (the path for weights memory-mapped from a
// model file) gives the same results as reading in place, and does not touch the bytes in memory
// when every run is long enough to be read through the reader; the AVX2 tile loops give the same
// results as the baseline ones.
#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "quant/block_kernels.h"
#include "quant/float16.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant {
namespace {

// Raw bytes of n Gaussian values of `type`, placed `offset` bytes into the returned vector.
std::vector<uint8_t> WeightBytes(FloatType type, int64_t n, size_t offset, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const size_t width = FloatTypeBytes(type);
  std::vector<uint8_t> bytes(offset + n * width);
  for (int64_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    uint8_t* dst = bytes.data() + offset + i * width;
    if (type == FloatType::kFloat32) {
      std::memcpy(dst, &v, 4);
    } else {
      const uint16_t h = type == FloatType::kFloat16 ? FloatToHalf(v) : FloatToBFloat16(v);
      std::memcpy(dst, &h, 2);
    }
  }
  return bytes;
}

struct ReadLog {
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> ranges;  // offset, size
};

void ExpectSameResult(const QuantizedWeight& a, const QuantizedWeight& b) {
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.scales, b.scales);
  EXPECT_EQ(a.zero_points, b.zero_points);
  EXPECT_EQ(a.stats.sum_squared_error, b.stats.sum_squared_error);
  EXPECT_EQ(a.stats.sum_squared_signal, b.stats.sum_squared_signal);
  EXPECT_EQ(a.stats.max_abs_error, b.stats.max_abs_error);
  EXPECT_EQ(a.stats.count, b.stats.count);
}

struct Case {
  BlockLayout layout;
  FloatType type;
  WeightQuantOptions options;
  // Every run is long enough (4 KiB) to go through the reader; otherwise short runs are read
  // from memory.
  bool all_read = true;
};

// Layouts that take every path of the kernel driver: contiguous blocks (several block rows per
// piece, ragged), strided whole block rows, strided tiles of a wide block row (with a partial
// last tile), a contiguous block longer than a piece, and runs too short for the reader.
std::vector<Case> Cases() {
  const WeightQuantOptions int4{QType::kInt4, true};
  const WeightQuantOptions uint8_asym{QType::kUint8, false};
  const WeightQuantOptions int4_mse{QType::kInt4, false, ScaleSearch::kMse};
  return {
      {{7, 10000, 1, 128}, FloatType::kFloat32, int4},
      {{1, 512, 1024, 32}, FloatType::kFloat32, int4},
      {{3, 100, 1000, 16}, FloatType::kFloat16, uint8_asym},
      {{1, 64, 6120, 64}, FloatType::kFloat32, uint8_asym},
      {{2, 64, 4096, 64}, FloatType::kBFloat16, int4},
      {{2, 200000, 1, 200000}, FloatType::kFloat32, int4},
      {{1, 96, 1536, 32}, FloatType::kFloat16, int4_mse},
      {{3, 100, 77, 16}, FloatType::kFloat16, uint8_asym, /*all_read=*/false},
      {{1, 64, 4100, 64}, FloatType::kFloat32, int4, /*all_read=*/false},
  };
}

TEST(QuantizeWeightReader, SameResultsAsReadingInPlace) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(testing::Message() << "layout [" << c.layout.outer << ", " << c.layout.axis_dim
                                    << ", " << c.layout.inner << "] block " << c.layout.block_size
                                    << " type " << FloatTypeName(c.type));
    // Offset 1: float32 at an odd address, as raw_data in a mapped protobuf file usually is.
    const std::vector<uint8_t> storage = WeightBytes(c.type, c.layout.num_elements(), 1, 7);
    const absl::Span<const uint8_t> bytes(storage.data() + 1, storage.size() - 1);
    absl::StatusOr<QuantizedWeight> in_place =
        QuantizeWeightBytes(c.type, bytes, c.layout, c.options);
    ASSERT_TRUE(in_place.ok()) << in_place.status();
    ReadLog log;
    absl::StatusOr<QuantizedWeight> read = QuantizeWeightBytes(
        c.type, bytes, c.layout, c.options, [&](int64_t offset, int64_t size, uint8_t* dst) {
          ASSERT_GE(offset, 0);
          ASSERT_LE(offset + size, static_cast<int64_t>(bytes.size()));
          std::memcpy(dst, bytes.data() + offset, size);
          std::lock_guard<std::mutex> lock(log.mu);
          log.ranges.emplace_back(offset, size);
        });
    ASSERT_TRUE(read.ok()) << read.status();
    ExpectSameResult(*in_place, *read);
    if (!c.all_read) {
      EXPECT_FALSE(log.ranges.empty());
      continue;
    }
    // Every byte was read through the reader exactly once, in runs of at least 4 KiB.
    std::sort(log.ranges.begin(), log.ranges.end());
    int64_t covered = 0;
    for (const auto& [offset, size] : log.ranges) {
      EXPECT_EQ(offset, covered);
      EXPECT_GE(size, 4096);
      covered = offset + size;
    }
    EXPECT_EQ(covered, static_cast<int64_t>(bytes.size()));
  }
}

// With a reader the bytes in memory are never read: here they are inaccessible (PROT_NONE), and
// any touch would crash the test.
TEST(QuantizeWeightReader, DoesNotTouchTheBytesInMemory) {
  const BlockLayout layout{1, 256, 2048, 32};
  const std::vector<uint8_t> source = WeightBytes(FloatType::kFloat32, layout.num_elements(), 0, 3);
  void* guard = mmap(nullptr, source.size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(guard, MAP_FAILED);
  const absl::Span<const uint8_t> untouchable(static_cast<const uint8_t*>(guard), source.size());
  absl::StatusOr<QuantizedWeight> read =
      QuantizeWeightBytes(FloatType::kFloat32, untouchable, layout, {QType::kInt4, true},
                          [&](int64_t offset, int64_t size, uint8_t* dst) {
                            std::memcpy(dst, source.data() + offset, size);
                          });
  munmap(guard, source.size());
  ASSERT_TRUE(read.ok()) << read.status();
  absl::StatusOr<QuantizedWeight> in_place =
      QuantizeWeightBytes(FloatType::kFloat32, source, layout, {QType::kInt4, true});
  ASSERT_TRUE(in_place.ok()) << in_place.status();
  ExpectSameResult(*in_place, *read);
}

template <QType Q>
void ExpectTileScalesMatchMinMaxParams(FloatType scale_type) {
  SCOPED_TRACE(testing::Message() << "qtype " << static_cast<int>(Q) << " scale type "
                                  << FloatTypeName(scale_type));
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Special ranges first (zero, denormal, huge, overflowing float16, non-finite), then random.
  std::vector<std::pair<float, float>> ranges = {
      {0, 0},        {-0.0f, 0}, {-1e-40f, 1e-41f}, {-1e-6f, 2e-7f}, {-3e38f, 1},    {-1, 3.4e38f},
      {-70000, 5},   {-1, 1e5f}, {-inf, 1},         {-1, inf},       {nan, 1},       {-1, nan},
      {-2.5f, 2.5f}, {-7, 0.5f}, {-1e-5f, 0},       {0, 3e-8f},      {-65504, 65504}};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> exponent(-30, 30);
  while (ranges.size() < 64 * 3) {
    const float a = -std::exp2(exponent(rng)), b = std::exp2(exponent(rng));
    ranges.emplace_back(a, b);
  }
  for (size_t first = 0; first < ranges.size(); first += 64) {
    const int64_t w = std::min<int64_t>(64, ranges.size() - first);
    internal::TileColumns c;
    for (int64_t j = 0; j < w; ++j) std::tie(c.min[j], c.max[j]) = ranges[first + j];
    internal::TileSymmetricScales<Q>(c, w, scale_type);
    for (int64_t j = 0; j < w; ++j) {
      const internal::BlockParams p =
          internal::MinMaxParams<Q>(c.min[j], c.max[j], /*symmetric=*/true, scale_type);
      EXPECT_EQ(std::bit_cast<uint32_t>(c.scale[j]), std::bit_cast<uint32_t>(p.scale))
          << "range [" << c.min[j] << ", " << c.max[j] << "]: " << c.scale[j] << " vs " << p.scale;
      EXPECT_EQ(c.zp[j], p.zero_point);
    }
  }
}

TEST(TileKernels, SymmetricScalesMatchMinMaxParams) {
  for (FloatType t : {FloatType::kFloat32, FloatType::kFloat16, FloatType::kBFloat16}) {
    ExpectTileScalesMatchMinMaxParams<QType::kInt4>(t);
    ExpectTileScalesMatchMinMaxParams<QType::kUint4>(t);
    ExpectTileScalesMatchMinMaxParams<QType::kInt8>(t);
    ExpectTileScalesMatchMinMaxParams<QType::kUint16>(t);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
template <FloatType V>
void ExpectTileKernelsAgree(int64_t w, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "width " << w << " type " << FloatTypeName(V));
  constexpr int64_t kRows = 32;
  const int64_t stride = w + 3;
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> x(kRows * stride);
  for (float& v : x) v = dist(rng);
  internal::TileColumns baseline, avx2;
  internal::TileMinMaxDefault(x.data(), stride, kRows, w, baseline);
  internal::TileMinMaxAvx2(x.data(), stride, kRows, w, avx2);
  for (int64_t j = 0; j < w; ++j) {
    ASSERT_EQ(baseline.min[j], avx2.min[j]);
    ASSERT_EQ(baseline.max[j], avx2.max[j]);
    // int4-like parameters with a zero point, so that clamping happens on both sides.
    const float scale = std::max(std::fabs(baseline.min[j]), baseline.max[j]) / 5;
    for (internal::TileColumns* c : {&baseline, &avx2}) {
      c->scale[j] = scale;
      c->zp[j] = 1;
      c->lo[j] = -8 - 1;
      c->hi[j] = 7 - 1;
      c->sse[j] = c->signal[j] = 0;
      c->max_abs[j] = 0;
    }
  }
  std::vector<int32_t> codes_baseline(kRows * w), codes_avx2(kRows * w);
  internal::TileQuantizeDefault<V>(x.data(), stride, kRows, w, baseline, codes_baseline.data());
  internal::TileQuantizeAvx2<V>(x.data(), stride, kRows, w, avx2, codes_avx2.data());
  EXPECT_EQ(codes_baseline, codes_avx2);
  for (int64_t j = 0; j < w; ++j) {
    EXPECT_EQ(baseline.sse[j], avx2.sse[j]) << j;
    EXPECT_EQ(baseline.signal[j], avx2.signal[j]) << j;
    EXPECT_EQ(baseline.max_abs[j], avx2.max_abs[j]) << j;
  }
}

TEST(TileKernels, Avx2GivesTheBaselineResults) {
  if (!internal::HasAvx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  for (int64_t w : {64, 37, 1}) {
    ExpectTileKernelsAgree<FloatType::kFloat32>(w, 11);
    ExpectTileKernelsAgree<FloatType::kFloat16>(w, 12);
    ExpectTileKernelsAgree<FloatType::kBFloat16>(w, 13);
  }
}
#endif

}  // namespace
}  // namespace onnx_opt::quant
