#include "quant/gptq.h"

#include <cmath>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/packing.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant {
namespace {

std::vector<float> RandomWeight(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(n);
  for (float& v : w) v = normal(rng);
  return w;
}

Hessian Identity(int64_t k) {
  Hessian h = Hessian::Zero(k);
  for (int64_t i = 0; i < k; ++i) h.values[i * k + i] = 1;
  return h;
}

// H = X^T X for `samples` activation vectors that mix a few shared factors, so neighbouring
// inputs are strongly correlated (as in real layers) and the scales of inputs differ.
Hessian CorrelatedHessian(int64_t k, int samples, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  constexpr int kFactors = 6;
  std::vector<double> mixing(kFactors * k);
  for (double& m : mixing) m = normal(rng);
  Hessian h = Hessian::Zero(k);
  std::vector<double> x(k);
  for (int s = 0; s < samples; ++s) {
    double f[kFactors];
    for (double& v : f) v = normal(rng);
    for (int64_t i = 0; i < k; ++i) {
      double v = 0.1 * normal(rng);
      for (int j = 0; j < kFactors; ++j) v += f[j] * mixing[j * k + i];
      x[i] = v * (1.0 + (i % 7));
    }
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) h.values[i * k + j] += x[i] * x[j];
  }
  return h;
}

// sum over rows of d H d^T, computed naively from the layout definition.
double NaiveProxy(const std::vector<float>& d, const BlockLayout& l, const std::vector<Hessian>& hs,
                  const std::vector<int32_t>& map) {
  double total = 0;
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t in = 0; in < l.inner; ++in) {
      const int64_t row = o * l.inner + in;
      const Hessian& h = hs[map.empty() ? 0 : map[row]];
      for (int64_t a = 0; a < l.axis_dim; ++a) {
        for (int64_t b = 0; b < l.axis_dim; ++b) {
          total += static_cast<double>(d[(o * l.axis_dim + a) * l.inner + in]) * h.at(a, b) *
                   d[(o * l.axis_dim + b) * l.inner + in];
        }
      }
    }
  }
  return total;
}

std::vector<float> Difference(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

struct Config {
  QType qtype;
  bool symmetric;
  ScaleSearch search;
  BlockLayout layout;
};

class GptqIdentityTest : public ::testing::TestWithParam<Config> {};

// With H = identity the columns do not interact: GPTQ must be plain rounding, bit for bit.
TEST_P(GptqIdentityTest, IdentityHessianGivesPlainRounding) {
  const Config& c = GetParam();
  const std::vector<float> w = RandomWeight(c.layout.num_elements(), 7);
  WeightQuantOptions options;
  options.qtype = c.qtype;
  options.symmetric = c.symmetric;
  options.search = c.search;
  absl::StatusOr<QuantizedWeight> rtn = QuantizeWeight(w, c.layout, options);
  ASSERT_TRUE(rtn.ok()) << rtn.status();
  const std::vector<Hessian> hs = {Identity(c.layout.axis_dim)};
  absl::StatusOr<GptqResult> g = QuantizeWeightGptq(w, c.layout, options, hs, {});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->weight.data, rtn->data);
  EXPECT_EQ(g->weight.scales, rtn->scales);
  EXPECT_EQ(g->weight.zero_points, rtn->zero_points);
  EXPECT_EQ(g->weight.qtype, rtn->qtype);
  // Same values, summed in another order.
  EXPECT_NEAR(g->weight.stats.sum_squared_error, rtn->stats.sum_squared_error,
              1e-12 * rtn->stats.sum_squared_error);
  EXPECT_DOUBLE_EQ(g->proxy_error_gptq, g->proxy_error_rtn);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, GptqIdentityTest,
    ::testing::Values(Config{QType::kInt4, true, ScaleSearch::kMinMax, {8, 64, 1, 32}},
                      Config{QType::kInt4, false, ScaleSearch::kMinMax, {1, 40, 12, 16}},
                      Config{QType::kUint4, true, ScaleSearch::kMinMax, {3, 50, 5, 16}},
                      Config{QType::kInt8, false, ScaleSearch::kMinMax, {6, 300, 1, 64}},
                      Config{QType::kUint8, false, ScaleSearch::kMse, {2, 70, 3, 32}},
                      Config{QType::kInt4, false, ScaleSearch::kHqq, {4, 96, 1, 32}},
                      Config{QType::kInt4, true, ScaleSearch::kMinMax, {5, 300, 1, 300}}));

// A plain, non-batched GPTQ (explicit inverse, explicit Cholesky, every update applied at once),
// to check the lazy-batch implementation against.
std::vector<double> Cholesky(const std::vector<double>& a, int64_t n) {  // lower L, L L^T = a
  std::vector<double> l(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double s = a[i * n + j];
      for (int64_t k = 0; k < j; ++k) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i == j ? std::sqrt(s) : s / l[j * n + j];
    }
  }
  return l;
}

std::vector<double> Inverse(std::vector<double> a, int64_t n) {  // Gauss-Jordan, SPD input
  std::vector<double> inv(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) inv[i * n + i] = 1;
  for (int64_t c = 0; c < n; ++c) {
    const double p = a[c * n + c];
    for (int64_t j = 0; j < n; ++j) {
      a[c * n + j] /= p;
      inv[c * n + j] /= p;
    }
    for (int64_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r * n + c];
      for (int64_t j = 0; j < n; ++j) {
        a[r * n + j] -= f * a[c * n + j];
        inv[r * n + j] -= f * inv[c * n + j];
      }
    }
  }
  return inv;
}

// Dequantized values of reference GPTQ, symmetric int4, one row layout [rows, k, 1].
std::vector<float> ReferenceGptqInt4(const std::vector<float>& w, int64_t rows, int64_t k,
                                     int64_t block, const Hessian& h, double damp) {
  std::vector<double> hd = h.values;
  double mean = 0;
  for (int64_t i = 0; i < k; ++i) mean += hd[i * k + i] / k;
  for (int64_t i = 0; i < k; ++i) hd[i * k + i] += damp * mean;
  const std::vector<double> l = Cholesky(Inverse(hd, k), k);  // U = L^T
  auto u = [&](int64_t i, int64_t j) { return l[j * k + i]; };
  std::vector<float> out(rows * k);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> row(w.begin() + r * k, w.begin() + (r + 1) * k);
    float scale = 1;
    for (int64_t col = 0; col < k; ++col) {
      if (col % block == 0) {
        double amax = 0;
        for (int64_t c = col; c < std::min(k, col + block); ++c)
          amax = std::max(amax, std::fabs(static_cast<double>(static_cast<float>(row[c]))));
        scale = amax == 0 ? 1.0f : static_cast<float>(amax / 7);
      }
      const float v = std::clamp(static_cast<float>(row[col]) / scale, -8.0f, 7.0f);
      const float dq = std::nearbyint(v) * scale;
      out[r * k + col] = dq;
      const double err = (row[col] - dq) / u(col, col);
      for (int64_t j = col + 1; j < k; ++j) row[j] -= err * u(col, j);
    }
  }
  return out;
}

TEST(GptqTest, MatchesUnbatchedReference) {
  for (int64_t block : {32, 200}) {  // batches of 128 columns; a block longer than a batch
    const int64_t rows = 6, k = 200;
    const BlockLayout layout{rows, k, 1, block};
    const std::vector<float> w = RandomWeight(rows * k, 11);
    const std::vector<Hessian> hs = {CorrelatedHessian(k, 400, 5)};
    WeightQuantOptions options;  // int4 symmetric min/max
    absl::StatusOr<GptqResult> g = QuantizeWeightGptq(w, layout, options, hs, {});
    ASSERT_TRUE(g.ok()) << g.status();
    absl::StatusOr<std::vector<float>> dq = DequantizeWeight(g->weight);
    ASSERT_TRUE(dq.ok());
    const std::vector<float> ref = ReferenceGptqInt4(w, rows, k, block, hs[0], 0.01);
    // Summation order differs (GEMM vs one update at a time): allow a rare rounding flip.
    int differ = 0;
    for (int64_t e = 0; e < rows * k; ++e) differ += (*dq)[e] != ref[e];
    EXPECT_LE(differ, rows * k / 100) << "block " << block;
    const double ref_proxy = NaiveProxy(Difference(ref, w), layout, hs, {});
    EXPECT_NEAR(g->proxy_error_gptq, ref_proxy, 0.02 * ref_proxy) << "block " << block;
  }
}

// The point of GPTQ: with correlated inputs its output error is far below plain rounding's.
TEST(GptqTest, CorrelatedActivationsCutProxyError) {
  for (QType qtype : {QType::kInt4, QType::kInt8}) {
    for (bool symmetric : {true, false}) {
      const BlockLayout layout{1, 96, 40, 32};  // MatMul-like [K, N], rows along inner
      const std::vector<float> w = RandomWeight(layout.num_elements(), 3);
      const std::vector<Hessian> hs = {CorrelatedHessian(96, 600, 9)};
      WeightQuantOptions options;
      options.qtype = qtype;
      options.symmetric = symmetric;
      absl::StatusOr<GptqResult> g = QuantizeWeightGptq(w, layout, options, hs, {});
      ASSERT_TRUE(g.ok()) << g.status();
      EXPECT_LT(g->proxy_error_gptq, 0.5 * g->proxy_error_rtn)
          << QTypeName(qtype) << " symmetric " << symmetric;
      // The reported figures are the output error of exactly what DequantizeWeight gives.
      absl::StatusOr<std::vector<float>> dq = DequantizeWeight(g->weight);
      ASSERT_TRUE(dq.ok());
      const double naive = NaiveProxy(Difference(*dq, w), layout, hs, {});
      EXPECT_NEAR(g->proxy_error_gptq, naive, 1e-9 * naive);
      const ErrorStats stats = ComputeErrorStats(w, *dq);
      EXPECT_DOUBLE_EQ(g->weight.stats.sum_squared_error, stats.sum_squared_error);
      EXPECT_NEAR(g->proxy_signal, NaiveProxy(w, layout, hs, {}), 1e-9 * g->proxy_signal);
      absl::StatusOr<QuantizedWeight> rtn = QuantizeWeight(w, layout, options);
      ASSERT_TRUE(rtn.ok());
      absl::StatusOr<std::vector<float>> rtn_dq = DequantizeWeight(*rtn);
      const double naive_rtn = NaiveProxy(Difference(*rtn_dq, w), layout, hs, {});
      EXPECT_NEAR(g->proxy_error_rtn, naive_rtn, 1e-9 * naive_rtn);
      // Codes within the type's range and zero points stored exactly when needed.
      absl::StatusOr<std::vector<int32_t>> codes =
          UnpackCodes(qtype, g->weight.data, layout.num_elements());
      ASSERT_TRUE(codes.ok());
      for (int32_t code : *codes) {
        ASSERT_GE(code, QTypeMin(qtype));
        ASSERT_LE(code, QTypeMax(qtype));
      }
      EXPECT_EQ(g->weight.zero_points.empty(), symmetric);
      EXPECT_EQ(g->weight.scales.size(), static_cast<size_t>(layout.num_params()));
    }
  }
}

TEST(GptqTest, RaggedLastBlockAndDeadInputs) {
  const BlockLayout layout{10, 75, 1, 32};  // blocks 32, 32, 11
  const std::vector<float> w = RandomWeight(layout.num_elements(), 21);
  Hessian h = CorrelatedHessian(75, 300, 4);
  for (int64_t j = 0; j < 75; ++j) {  // input 40 is never non-zero
    h.values[40 * 75 + j] = 0;
    h.values[j * 75 + 40] = 0;
  }
  const std::vector<Hessian> hs = {h};
  WeightQuantOptions options;
  options.symmetric = false;
  absl::StatusOr<GptqResult> g = QuantizeWeightGptq(w, layout, options, hs, {});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->weight.scales.size(), 30u);
  EXPECT_LT(g->proxy_error_gptq, 0.7 * g->proxy_error_rtn);
  absl::StatusOr<std::vector<float>> dq = DequantizeWeight(g->weight);
  ASSERT_TRUE(dq.ok());
  EXPECT_NEAR(g->proxy_error_gptq, NaiveProxy(Difference(*dq, w), layout, hs, {}),
              1e-9 * g->proxy_error_gptq);
}

// Grouped convolution: rows of each group use their own Hessian. A group whose Hessian is the
// identity gets plain rounding; the other gets the same codes as quantized on its own.
TEST(GptqTest, GroupedHessians) {
  const int64_t k = 48;
  const BlockLayout layout{8, k, 1, 16};  // rows 0-3 group 0, rows 4-7 group 1
  const std::vector<float> w = RandomWeight(layout.num_elements(), 31);
  const std::vector<Hessian> hs = {Identity(k), CorrelatedHessian(k, 300, 8)};
  const std::vector<int32_t> map = {0, 0, 0, 0, 1, 1, 1, 1};
  WeightQuantOptions options;
  absl::StatusOr<GptqResult> g = QuantizeWeightGptq(w, layout, options, hs, map);
  ASSERT_TRUE(g.ok()) << g.status();
  absl::StatusOr<QuantizedWeight> rtn = QuantizeWeight(w, layout, options);
  ASSERT_TRUE(rtn.ok());
  absl::StatusOr<std::vector<int32_t>> codes = UnpackCodes(QType::kInt4, g->weight.data, 8 * k);
  absl::StatusOr<std::vector<int32_t>> rtn_codes = UnpackCodes(QType::kInt4, rtn->data, 8 * k);
  ASSERT_TRUE(codes.ok() && rtn_codes.ok());
  EXPECT_TRUE(std::equal(codes->begin(), codes->begin() + 4 * k, rtn_codes->begin()));
  EXPECT_FALSE(std::equal(codes->begin() + 4 * k, codes->end(), rtn_codes->begin() + 4 * k));

  const BlockLayout second{4, k, 1, 16};
  const std::vector<float> w1(w.begin() + 4 * k, w.end());
  const std::vector<Hessian> h1 = {hs[1]};
  absl::StatusOr<GptqResult> alone = QuantizeWeightGptq(w1, second, options, h1, {});
  ASSERT_TRUE(alone.ok());
  absl::StatusOr<std::vector<int32_t>> alone_codes =
      UnpackCodes(QType::kInt4, alone->weight.data, 4 * k);
  EXPECT_TRUE(std::equal(codes->begin() + 4 * k, codes->end(), alone_codes->begin()));
  EXPECT_NEAR(g->proxy_error_gptq,
              NaiveProxy(Difference(*DequantizeWeight(g->weight), w), layout, hs, map),
              1e-9 * g->proxy_error_gptq);
}

// Act-order: with H = I every column has the same energy, the order stays natural, the static
// block parameters are min/max of the original weights and nothing propagates: plain rounding.
TEST(GptqTest, ActOrderWithIdentityIsPlainRounding) {
  const BlockLayout layout{1, 70, 6, 32};
  const std::vector<float> w = RandomWeight(layout.num_elements(), 41);
  WeightQuantOptions options;
  options.symmetric = false;
  const std::vector<Hessian> hs = {Identity(70)};
  GptqOptions gptq;
  gptq.act_order = true;
  absl::StatusOr<GptqResult> g = QuantizeWeightGptq(w, layout, options, hs, {}, gptq);
  absl::StatusOr<QuantizedWeight> rtn = QuantizeWeight(w, layout, options);
  ASSERT_TRUE(g.ok() && rtn.ok());
  EXPECT_EQ(g->weight.data, rtn->data);
  EXPECT_EQ(g->weight.scales, rtn->scales);
  EXPECT_EQ(g->weight.zero_points, rtn->zero_points);
}

// Act-order on correlated inputs with very different energies per input: still far below plain
// rounding, block parameters are those of the original weights (static groups), and the figures
// describe exactly what DequantizeWeight gives.
TEST(GptqTest, ActOrderCutsProxyErrorWithStaticBlocks) {
  const BlockLayout layout{12, 150, 1, 32};  // ragged; batches of 128 cross blocks
  const std::vector<float> w = RandomWeight(layout.num_elements(), 43);
  const std::vector<Hessian> hs = {CorrelatedHessian(150, 500, 12)};
  WeightQuantOptions options;
  options.symmetric = false;
  GptqOptions gptq;
  gptq.act_order = true;
  absl::StatusOr<GptqResult> g = QuantizeWeightGptq(w, layout, options, hs, {}, gptq);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_LT(g->proxy_error_gptq, 0.5 * g->proxy_error_rtn);
  absl::StatusOr<QuantizedWeight> rtn = QuantizeWeight(w, layout, options);
  ASSERT_TRUE(rtn.ok());
  EXPECT_EQ(g->weight.scales, rtn->scales);
  EXPECT_EQ(g->weight.zero_points, rtn->zero_points);
  EXPECT_NE(g->weight.data, rtn->data);
  absl::StatusOr<std::vector<float>> dq = DequantizeWeight(g->weight);
  ASSERT_TRUE(dq.ok());
  EXPECT_NEAR(g->proxy_error_gptq, NaiveProxy(Difference(*dq, w), layout, hs, {}),
              1e-9 * g->proxy_error_gptq);
}

TEST(GptqTest, RejectsBadInputs) {
  const BlockLayout layout{2, 8, 1, 4};
  const std::vector<float> w = RandomWeight(16, 1);
  WeightQuantOptions options;
  const std::vector<Hessian> wrong = {Identity(7)};
  EXPECT_THAT(QuantizeWeightGptq(w, layout, options, wrong, {}).status().message(),
              ::testing::HasSubstr("does not match the reduction axis"));
  const std::vector<Hessian> two = {Identity(8), Identity(8)};
  EXPECT_FALSE(QuantizeWeightGptq(w, layout, options, two, {}).ok());
  const std::vector<int32_t> bad_map = {0, 2};
  EXPECT_THAT(QuantizeWeightGptq(w, layout, options, two, bad_map).status().message(),
              ::testing::HasSubstr("names Hessian 2"));
  std::vector<float> nan = w;
  nan[3] = std::nanf("");
  const std::vector<Hessian> one = {Identity(8)};
  EXPECT_FALSE(QuantizeWeightGptq(nan, layout, options, one, {}).ok());
}

// Per-row 7-bit grids (quantize-activations' weights): codes stay in range, a diagonal H gives
// plain rounding exactly (no column can compensate another), a correlated H lowers the output
// error below plain rounding onto the same grid.
TEST(RowGridGptqTest, StaysOnTheGridAndBeatsPlainRounding) {
  const BlockLayout layout{16, 48, 1, 48};  // 16 output channels, K = 48
  const std::vector<float> w = RandomWeight(layout.num_elements(), 11);
  constexpr int32_t kMaxCode = 63;
  std::vector<float> scales(16);
  for (int64_t r = 0; r < 16; ++r) {
    float m = 0;
    for (int64_t c = 0; c < 48; ++c) m = std::max(m, std::fabs(w[r * 48 + c]));
    scales[r] = m / kMaxCode;
  }
  auto plain_codes = [&] {
    std::vector<int32_t> codes(w.size());
    for (size_t e = 0; e < w.size(); ++e) {
      codes[e] = static_cast<int32_t>(std::nearbyint(w[e] / scales[e / 48]));
    }
    return codes;
  };
  // Output-error proxy of codes on the grid, computed from the layout definition.
  auto proxy = [&](const std::vector<int32_t>& codes, const std::vector<Hessian>& h) {
    std::vector<float> dequantized(w.size());
    for (size_t e = 0; e < w.size(); ++e) dequantized[e] = codes[e] * scales[e / 48];
    return NaiveProxy(Difference(dequantized, w), layout, h, {});
  };
  const std::vector<Hessian> diagonal = {Identity(48)};
  absl::StatusOr<std::vector<int32_t>> same =
      RoundToRowGridGptq(w, layout, scales, kMaxCode, diagonal, {});
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(*same, plain_codes());

  const std::vector<Hessian> correlated = {CorrelatedHessian(48, 200, 5)};
  for (bool act_order : {false, true}) {
    GptqOptions options;
    options.act_order = act_order;
    absl::StatusOr<std::vector<int32_t>> r =
        RoundToRowGridGptq(w, layout, scales, kMaxCode, correlated, {}, options);
    ASSERT_TRUE(r.ok()) << r.status();
    for (int32_t c : *r) {
      EXPECT_GE(c, -kMaxCode);
      EXPECT_LE(c, kMaxCode);
    }
    EXPECT_NE(*r, plain_codes());
    EXPECT_LT(proxy(*r, correlated), 0.8 * proxy(plain_codes(), correlated))
        << "act_order " << act_order;
  }
}

TEST(RowGridGptqTest, RejectsBadGrids) {
  const BlockLayout layout{4, 8, 1, 8};
  const std::vector<float> w = RandomWeight(32, 3);
  const std::vector<Hessian> one = {Identity(8)};
  const std::vector<float> scales(4, 0.01f);
  EXPECT_TRUE(RoundToRowGridGptq(w, layout, scales, 63, one, {}).ok());
  EXPECT_FALSE(RoundToRowGridGptq(w, layout, std::vector<float>(3, 0.01f), 63, one, {}).ok());
  EXPECT_FALSE(RoundToRowGridGptq(w, layout, std::vector<float>(4, 0.0f), 63, one, {}).ok());
  EXPECT_FALSE(RoundToRowGridGptq(w, layout, scales, 128, one, {}).ok());
  EXPECT_FALSE(RoundToRowGridGptq(w, BlockLayout{4, 8, 1, 4}, scales, 63, one, {}).ok());
  std::vector<float> nan = w;
  nan[5] = std::nanf("");
  EXPECT_FALSE(RoundToRowGridGptq(nan, layout, scales, 63, one, {}).ok());
}

}  // namespace
}  // namespace onnx_opt::quant
