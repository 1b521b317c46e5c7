#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant {
namespace {

// Gaussian blocks where about one value in 50 is a 6-10 sigma outlier: the case where clipping
// the range beats min/max.
std::vector<float> GaussianWithOutliers(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) {
    x = gauss(rng);
    if (uniform(rng) < 0.02f) x = (uniform(rng) < 0.5f ? -1.0f : 1.0f) * (6.0f + 4 * uniform(rng));
  }
  return v;
}

struct SearchCase {
  QType qtype;
  bool symmetric;
  int64_t inner;  // 1: contiguous blocks; > 1: blocks strided across columns
};

class ScaleSearchTest : public ::testing::TestWithParam<SearchCase> {};

TEST_P(ScaleSearchTest, SearchesNeverWorseThanMinMaxAndDeterministic) {
  const SearchCase c = GetParam();
  const BlockLayout layout{8, 256, c.inner, 32};
  const std::vector<float> w = GaussianWithOutliers(layout.num_elements(), 42);
  WeightQuantOptions options{c.qtype, c.symmetric};
  absl::StatusOr<QuantizedWeight> minmax = QuantizeWeight(w, layout, options);
  ASSERT_TRUE(minmax.ok());
  for (ScaleSearch search : {ScaleSearch::kMse, ScaleSearch::kHqq}) {
    SCOPED_TRACE(search == ScaleSearch::kMse ? "mse" : "hqq");
    options.search = search;
    absl::StatusOr<QuantizedWeight> a = QuantizeWeight(w, layout, options);
    absl::StatusOr<QuantizedWeight> b = QuantizeWeight(w, layout, options);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_LE(a->stats.sum_squared_error, minmax->stats.sum_squared_error);
    EXPECT_EQ(a->data, b->data);
    EXPECT_EQ(a->scales, b->scales);
    EXPECT_EQ(a->zero_points, b->zero_points);
    EXPECT_EQ(a->stats.sum_squared_error, b->stats.sum_squared_error);
    // The reported error is that of the stored parameters.
    absl::StatusOr<std::vector<float>> back = DequantizeWeight(*a);
    ASSERT_TRUE(back.ok());
    const ErrorStats direct = ComputeErrorStats(w, *back);
    EXPECT_NEAR(a->stats.sum_squared_error, direct.sum_squared_error,
                1e-6 * direct.sum_squared_error);
    if (search == ScaleSearch::kMse && QTypeBits(c.qtype) == 4 && c.symmetric) {
      // Clipping helps a symmetric 4-bit grid clearly (asymmetric min/max already adapts to
      // one-sided outliers, and gains only a little).
      EXPECT_LT(a->stats.sum_squared_error, 0.95 * minmax->stats.sum_squared_error);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, ScaleSearchTest,
    ::testing::Values(SearchCase{QType::kInt4, true, 1}, SearchCase{QType::kInt4, false, 1},
                      SearchCase{QType::kUint4, false, 3}, SearchCase{QType::kUint4, true, 1},
                      SearchCase{QType::kInt8, true, 5}, SearchCase{QType::kUint8, false, 1}));

TEST(ScaleSearch, AllZeroBlocksStayExact) {
  const std::vector<float> w(64, 0.0f);
  for (ScaleSearch search : {ScaleSearch::kMse, ScaleSearch::kHqq}) {
    WeightQuantOptions options{QType::kInt4, false, search};
    absl::StatusOr<QuantizedWeight> q = QuantizeWeight(w, {2, 32, 1, 16}, options);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->stats.sum_squared_error, 0);
    for (float s : q->scales) EXPECT_EQ(s, 1.0f);
  }
}

}  // namespace
}  // namespace onnx_opt::quant
