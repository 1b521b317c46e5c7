#include "quant/float16.h"

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "quant/block_kernels.h"

namespace onnx_opt::quant {
namespace {

#if defined(__x86_64__) && defined(__linux__)
// The CPUID check agrees with the kernel's view of the CPU (F16C needs AVX state as well).
TEST(Float16, F16cDetectionMatchesCpuinfo) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool f16c = false, avx = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream flags(line.substr(line.find(':') + 1));
    for (std::string flag; flags >> flag;) {
      f16c |= flag == "f16c";
      avx |= flag == "avx";
    }
    break;
  }
  EXPECT_EQ(internal::HasF16c(), f16c && avx);
}
#endif

bool IsHalfNan(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }

TEST(Float16, KnownValues) {
  EXPECT_EQ(HalfToFloat(0x3C00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xC000), -2.0f);
  EXPECT_EQ(HalfToFloat(0x7BFF), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0001), 0x1p-24f);
  EXPECT_EQ(HalfToFloat(0x03FF), 1023 * 0x1p-24f);
  EXPECT_EQ(HalfToFloat(0x0400), 0x1p-14f);
  EXPECT_EQ(HalfToFloat(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::signbit(HalfToFloat(0x8000)));
  EXPECT_EQ(FloatToHalf(0.1f), 0x2E66);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(1e9f), 0x7C00);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(FloatToHalf(1e-9f), 0x0000);  // far below half the smallest subnormal
  EXPECT_TRUE(IsHalfNan(FloatToHalf(std::numeric_limits<float>::quiet_NaN())));
  // A float NaN whose payload sits only in the low 13 bits must stay NaN, not become infinity.
  EXPECT_TRUE(IsHalfNan(FloatToHalf(std::bit_cast<float>(0x7F800001u))));
}

TEST(Float16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (IsHalfNan(static_cast<uint16_t>(h))) {
      EXPECT_TRUE(std::isnan(f));
      const uint16_t back = FloatToHalf(f);
      EXPECT_TRUE(IsHalfNan(back));
      EXPECT_EQ(back & 0x8000, h & 0x8000);
      continue;
    }
    ASSERT_EQ(FloatToHalf(f), h) << "half 0x" << std::hex << h;
  }
}

// Midpoints between neighbouring halves are exact in float32: they must round to the even one,
// and the floats just beside them to the nearer one. Covers subnormals and overflow to infinity.
TEST(Float16, RoundsToNearestEven) {
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float a = HalfToFloat(static_cast<uint16_t>(h));
    const float b = h == 0x7BFF ? 65536.0f : HalfToFloat(static_cast<uint16_t>(h + 1));
    const float mid = (a + b) / 2;
    ASSERT_EQ(static_cast<double>(mid), (static_cast<double>(a) + b) / 2);
    const uint16_t even = (h % 2 == 0) ? h : h + 1;  // h + 1 == 0x7C00 is infinity
    ASSERT_EQ(FloatToHalf(mid), even) << "half 0x" << std::hex << h;
    ASSERT_EQ(FloatToHalf(std::nextafter(mid, 0.0f)), h);
    ASSERT_EQ(FloatToHalf(std::nextafter(mid, std::numeric_limits<float>::infinity())), h + 1);
    ASSERT_EQ(FloatToHalf(-mid), even | 0x8000);
  }
}

TEST(BFloat16, KnownValues) {
  EXPECT_EQ(BFloat16ToFloat(0x3F80), 1.0f);
  EXPECT_EQ(BFloat16ToFloat(0xC040), -3.0f);
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3F80);
  EXPECT_EQ(FloatToBFloat16(FLT_MAX), 0x7F80);  // rounds up to infinity
  EXPECT_EQ(FloatToBFloat16(0.1f), 0x3DCD);
  const uint16_t nan = FloatToBFloat16(std::bit_cast<float>(0x7F800001u));
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(nan)));
}

TEST(BFloat16, EveryValueRoundTripsAndMidpointsRoundToEven) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float f = BFloat16ToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToBFloat16(f), h);
  }
  for (uint32_t h = 0; h < 0x7F7F; ++h) {
    const float a = BFloat16ToFloat(static_cast<uint16_t>(h));
    const float b = BFloat16ToFloat(static_cast<uint16_t>(h + 1));
    const float mid = std::bit_cast<float>((std::bit_cast<uint32_t>(a) + 0x8000u));
    ASSERT_GT(mid, a);
    ASSERT_LT(mid, b);
    const uint16_t even = (h % 2 == 0) ? h : h + 1;
    ASSERT_EQ(FloatToBFloat16(mid), even);
    ASSERT_EQ(FloatToBFloat16(std::nextafter(mid, 0.0f)), h);
    ASSERT_EQ(FloatToBFloat16(std::nextafter(mid, std::numeric_limits<float>::infinity())), h + 1);
  }
}

// The kernels' branch-free conversions must agree bit for bit with the reference ones above.
TEST(Float16, BranchFreeWideningMatchesEveryHalf) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    ASSERT_EQ(std::bit_cast<uint32_t>(internal::WidenHalf(static_cast<uint16_t>(h))),
              std::bit_cast<uint32_t>(HalfToFloat(static_cast<uint16_t>(h))))
        << std::hex << h;
  }
}

// The kernels' block loader (F16C where the CPU has it, else the branch-free loop) widens every
// finite float16 exactly, at any alignment and length.
TEST(Float16, BlockLoaderWidensEveryHalf) {
  std::vector<uint8_t> bytes(2 * 0x10000 + 1);
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    bytes[1 + 2 * h] = static_cast<uint8_t>(h);
    bytes[2 + 2 * h] = static_cast<uint8_t>(h >> 8);
  }
  const internal::FloatSource source{bytes.data() + 1, FloatType::kFloat16};
  std::vector<float> widened(0x10000);
  for (int64_t start : {0, 3}) {
    source.Load(start, 0x10000 - start - 5, widened.data() + start);
    for (uint32_t h = start; h < 0x10000 - 5; ++h) {
      const float expected = HalfToFloat(static_cast<uint16_t>(h));
      if (std::isnan(expected)) {
        ASSERT_TRUE(std::isnan(widened[h])) << std::hex << h;
      } else {
        ASSERT_EQ(std::bit_cast<uint32_t>(widened[h]), std::bit_cast<uint32_t>(expected))
            << std::hex << h;
      }
    }
  }
}

TEST(Float16, BranchFreeRoundingMatchesReference) {
  auto check = [](float f) {
    ASSERT_EQ(std::bit_cast<uint32_t>(internal::RoundToType<FloatType::kFloat16>(f)),
              std::bit_cast<uint32_t>(RoundToHalf(f)))
        << f;
    ASSERT_EQ(std::bit_cast<uint32_t>(internal::RoundToType<FloatType::kBFloat16>(f)),
              std::bit_cast<uint32_t>(RoundToBFloat16(f)))
        << f;
    ASSERT_EQ(internal::RoundToType<FloatType::kFloat32>(f), f);
  };
  // Every float16 value, the midpoints between neighbours (ties) and their float neighbours,
  // across subnormals, the normal range and the overflow threshold.
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    for (float sign : {1.0f, -1.0f}) {
      const float a = sign * HalfToFloat(static_cast<uint16_t>(h));
      const float b = sign * HalfToFloat(static_cast<uint16_t>(h + 1));  // 65536 past the end
      const float mid = h + 1 == 0x7C00 ? sign * 65520.0f : (a + b) / 2;
      check(a);
      check(mid);
      check(std::nextafter(mid, 0.0f));
      check(std::nextafter(mid, 2 * mid));
    }
  }
  // A stride through every float32 exponent.
  for (uint64_t bits = 0; bits < 0x7F800000u; bits += 997) {
    check(std::bit_cast<float>(static_cast<uint32_t>(bits)));
    check(-std::bit_cast<float>(static_cast<uint32_t>(bits)));
  }
}

}  // namespace
}  // namespace onnx_opt::quant
