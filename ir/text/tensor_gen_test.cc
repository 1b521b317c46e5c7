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
