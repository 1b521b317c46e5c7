#include "passes/integer/act_ranges.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace onnx_opt {
namespace {

// Stats as onnx-opt-calibrate records them: 2048 bins over [-range, range].
CalibTensorStats Histogram(const std::vector<double>& values, double range) {
  CalibTensorStats s;
  s.histogram.assign(2048, 0);
  s.histogram_range = range;
  s.min = values.empty() ? 0 : values[0];
  s.max = s.min;
  for (double v : values) {
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    auto bin = static_cast<size_t>((v + range) / (2 * range) * 2048);
    s.histogram[std::min<size_t>(bin, 2047)] += 1;
    ++s.count;
  }
  return s;
}

// A million normal values plus one far outlier, as HardSwish outputs have.
std::vector<double> WithOutlier() {
  std::mt19937 gen(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> v;
  for (int i = 0; i < 1000000; ++i) v.push_back(normal(gen));
  v.push_back(30.0);
  return v;
}

TEST(ActRanges, ParseMethod) {
  EXPECT_EQ(ParseRangeMethod("minmax"), RangeMethod::kMinMax);
  EXPECT_EQ(ParseRangeMethod("mse"), RangeMethod::kMse);
  EXPECT_EQ(ParseRangeMethod("entropy"), RangeMethod::kEntropy);
  EXPECT_EQ(ParseRangeMethod("max"), std::nullopt);
}

TEST(ActRanges, MinMaxIncludesZero) {
  CalibTensorStats s = Histogram({1.0, 3.0}, 4);
  FloatRange r = ChooseRange(s, RangeMethod::kMinMax, 99.99, false);
  EXPECT_EQ(r.lo, 0.0);
  EXPECT_EQ(r.hi, 3.0);
}

TEST(ActRanges, Uint8ParamsRepresentZeroExactly) {
  QuantParams p = ActivationParams({-1.0, 3.0}, false);
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255);
  EXPECT_EQ(p.zero_point, 64);  // round(1 / (4/255)) = round(63.75)
  FloatRange back = RepresentedRange(p);
  EXPECT_NEAR(back.lo, -64 * 4.0 / 255, 1e-6);
  EXPECT_NEAR(back.hi, 191 * 4.0 / 255, 1e-6);
}

TEST(ActRanges, Int8ParamsAreSymmetric) {
  QuantParams p = ActivationParams({-1.0, 3.0}, true);
  EXPECT_FLOAT_EQ(p.scale, 3.0f / 127);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_EQ(ActivationParams({0, 0}, true).scale, 1.0f);
  EXPECT_EQ(ActivationParams({0, 0}, false).scale, 1.0f);
}

TEST(ActRanges, PercentileAndSearchesClipOutliers) {
  CalibTensorStats s = Histogram(WithOutlier(), 32);
  FloatRange mm = ChooseRange(s, RangeMethod::kMinMax, 99.99, false);
  EXPECT_NEAR(mm.hi, 30.0, 1e-9);
  FloatRange pc = ChooseRange(s, RangeMethod::kPercentile, 99.99, false);
  EXPECT_GT(pc.hi, 3.4);  // the 99.99th percentile of N(0, 1) is 3.72
  EXPECT_LT(pc.hi, 4.0);
  EXPECT_LT(pc.lo, -3.4);
  EXPECT_GT(pc.lo, -4.0);
  // Rounding a million values on a grid 7x coarser costs more than clipping one at 30.
  FloatRange mse = ChooseRange(s, RangeMethod::kMse, 99.99, false);
  EXPECT_LT(mse.hi, 15.0);
  EXPECT_GT(mse.hi, 3.0);
  EXPECT_GT(HistogramSqnrDb(s, ActivationParams(mse, false)),
            HistogramSqnrDb(s, ActivationParams(mm, false)) + 3);
  FloatRange kl = ChooseRange(s, RangeMethod::kEntropy, 99.99, false);
  EXPECT_LT(kl.hi, 15.0);
  EXPECT_GT(kl.hi, 2.0);
  EXPECT_LT(kl.lo, -2.0);  // the negative side has no outlier to clip
}

TEST(ActRanges, MseKeepsOutliersThatCarryTheSignal) {
  // Five values at 60 in 100000 normal ones: clipping them costs more than coarse rounding.
  std::vector<double> v = WithOutlier();
  v.resize(100000);
  for (int i = 0; i < 5; ++i) v.push_back(60.0);
  CalibTensorStats s = Histogram(v, 64);
  EXPECT_GT(ChooseRange(s, RangeMethod::kMse, 99.99, false).hi, 50.0);
}

TEST(ActRanges, SqnrOfUniformValuesIsAbout48dB) {
  // Uniform in [0, 1) on a 256-level grid: signal 1/3, noise s^2 / 12 with s = 1/255.
  std::vector<double> v;
  for (int i = 0; i < 100000; ++i) v.push_back((i + 0.5) / 100000);
  CalibTensorStats s = Histogram(v, 1);
  double expected = 10 * std::log10((1.0 / 3) / (1.0 / (255.0 * 255.0 * 12)));
  EXPECT_NEAR(HistogramSqnrDb(s, ActivationParams({0, 1}, false)), expected, 0.5);
  // Clipping at 0.5 costs far more than rounding.
  EXPECT_LT(HistogramSqnrDb(s, ActivationParams({0, 0.5}, false)), 15.0);
}

TEST(ActRanges, PerChannelWeightsUseTheReducedRange) {
  // [2 channels, 3]: channel 0 max |w| 2, channel 1 max |w| 0.5.
  std::vector<float> w = {2.0f, -1.2f, 0.5f, 0.5f, -0.3f, 0.0f};
  ChannelQuantized q7 = QuantizePerChannel(w, {2, 3}, 0, 7, 0);
  EXPECT_FLOAT_EQ(q7.scales[0], 2.0f / 63);
  EXPECT_FLOAT_EQ(q7.scales[1], 0.5f / 63);
  EXPECT_EQ(q7.values, (std::vector<int32_t>{63, -38, 16, 63, -38, 0}));
  ChannelQuantized q8 = QuantizePerChannel(w, {2, 3}, 0, 8, 128);
  EXPECT_EQ(q8.values[0], 127 + 128);
  EXPECT_EQ(q8.values[4], -76 + 128);  // -0.3 / (0.5 / 127) = -76.2
  // Axis 1 of [3, 2] (MatMul B): the channels are the columns.
  ChannelQuantized cols =
      QuantizePerChannel({1.0f, 4.0f, -2.0f, 1.0f, 0.0f, 0.0f}, {3, 2}, 1, 8, 0);
  EXPECT_FLOAT_EQ(cols.scales[0], 2.0f / 127);
  EXPECT_FLOAT_EQ(cols.scales[1], 4.0f / 127);
  // An all-zero channel gets scale 1, not 0 (DequantizeLinear needs a finite scale).
  EXPECT_EQ(QuantizePerChannel({0.0f, 0.0f}, {2, 1}, 0, 8, 0).scales[0], 1.0f);
}

TEST(ActRanges, BiasScaleIsInputTimesWeightScale) {
  std::vector<int32_t> b = QuantizeBias({1.0f, -0.5f, 1e30f}, 0.01f, {0.1f, 0.05f, 1.0f});
  EXPECT_EQ(b[0], 1000);
  EXPECT_EQ(b[1], -1000);
  EXPECT_EQ(b[2], 2147483647);  // saturated
}

}  // namespace
}  // namespace onnx_opt
