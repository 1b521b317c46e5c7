#include "ir/text/tensor_gen.h"

#include <bit>
#include <cmath>

#include "gtest/gtest.h"

namespace onnx_opt::textgen {
namespace {

TEST(SplitMix64Test, MatchesPublishedSequenceForSeedZero) {
  SplitMix64 rng(0);
  EXPECT_EQ(rng.Next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(rng.Next(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(rng.Next(), 0x06C45D188009454FULL);
}

TEST(DeterministicLogTest, AgreesWithLibmToTheLastBitsAndIsExactAtOne) {
  EXPECT_EQ(DeterministicLog(1.0), 0.0);
  for (double x : {1e-300, 1e-10, 0.001, 0.3, 0.5, 0.70710678, 0.9999, 2.0, 12345.678}) {
    EXPECT_NEAR(DeterministicLog(x), std::log(x), 4e-16 * std::max(1.0, std::fabs(std::log(x))))
        << x;
  }
}

TEST(HalfTest, RoundsToNearestEven) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(0.1f), 0x2E66);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7C00);  // the tie rounds to even: infinity
  EXPECT_EQ(FloatToHalf(0x1.0p-24f), 0x0001);
  EXPECT_EQ(FloatToHalf(0x1.0p-25f), 0x0000);         // tie between 0 and the smallest subnormal
  EXPECT_EQ(FloatToHalf(0x1.8p-24f), 0x0002);         // tie between 1 and 2 units: even
  EXPECT_EQ(FloatToHalf(1.0f + 0x1.0p-11f), 0x3C00);  // tie: mantissa stays even
  EXPECT_EQ(FloatToHalf(1.0f + 0x3.0p-11f), 0x3C02);  // tie: rounds up to even
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(INFINITY), 0x7C00);
  EXPECT_EQ(FloatToHalf(NAN) & 0x7E00, 0x7E00);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
}

TEST(BFloat16Test, RoundsToNearestEven) {
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3F80);
  EXPECT_EQ(FloatToBFloat16(0.1f), 0x3DCD);
  EXPECT_EQ(FloatToBFloat16(std::bit_cast<float>(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(FloatToBFloat16(std::bit_cast<float>(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(FloatToBFloat16(std::bit_cast<float>(0x3F808001u)), 0x3F81);
  EXPECT_EQ(BFloat16ToFloat(0xC040), -3.0f);
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(NAN))));
}

// Reference values computed independently (a Python transcription of the documented formulas).
TEST(GenerateTest, RandnSeed7) {
  std::vector<double> v = GenerateValues({GenKind::kRandn, 7, 0.0, 0.05}, 6);
  const uint32_t expected[] = {0xbb08c754, 0xbc15fab4, 0x3d3380df,
                               0x3c149484, 0xbc7aab00, 0xbda51610};
  ASSERT_EQ(v.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(std::bit_cast<uint32_t>(static_cast<float>(v[i])), expected[i]) << i;
  }
}

TEST(GenerateTest, UniformSeed3) {
  std::vector<double> v = GenerateValues({GenKind::kUniform, 3, -1.0, 2.0}, 3);
  EXPECT_EQ(std::bit_cast<uint32_t>(static_cast<float>(v[0])), 0xbf28dec1u);
  EXPECT_EQ(std::bit_cast<uint32_t>(static_cast<float>(v[1])), 0x3f8ce9a7u);
  EXPECT_EQ(std::bit_cast<uint32_t>(static_cast<float>(v[2])), 0x3f56c3bau);
}

TEST(GenerateTest, RandnStatisticsAreSane) {
  std::vector<double> v = GenerateValues({GenKind::kRandn, 1, 2.0, 3.0}, 20001);
  ASSERT_EQ(v.size(), 20001u);
  double sum = 0, sq = 0;
  for (double x : v) sum += x;
  double mean = sum / v.size();
  for (double x : v) sq += (x - mean) * (x - mean);
  EXPECT_NEAR(mean, 2.0, 0.1);
  EXPECT_NEAR(std::sqrt(sq / v.size()), 3.0, 0.1);
}

TEST(EncodeTest, PacksInt4LowNibbleFirstAndChecksRanges) {
  std::vector<double> values = {-8, 7, -1};
  auto bytes = EncodeValues(DataType::kInt4, values);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, (std::vector<uint8_t>{0x78, 0x0F}));
  std::vector<double> bad = {8};
  EXPECT_FALSE(EncodeValues(DataType::kInt4, bad).ok());
  std::vector<double> fraction = {1.5};
  EXPECT_FALSE(EncodeValues(DataType::kInt32, fraction).ok());
  EXPECT_FALSE(EncodeValues(DataType::kFloat8E4M3FN, values).ok());
}

}  // namespace
}  // namespace onnx_opt::textgen
