#include "quant/weight_quantizer.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/float16.h"
#include "quant/packing.h"
#include "quant/qdq.h"

namespace onnx_opt::quant {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::Pointwise;

constexpr QType kAllTypes[] = {QType::kInt4,  QType::kUint4, QType::kInt8,
                               QType::kUint8, QType::kInt16, QType::kUint16};

std::vector<float> Gaussian(int64_t n, uint32_t seed, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Hand-worked int4 symmetric: [2, 5] blocked along axis 1 in blocks of 2 (last block 1 wide),
// second row has all-zero blocks.
TEST(QuantizeWeight, Int4SymmetricRaggedHandWorked) {
  const std::vector<float> w = {0.7f, -2.1f, 3.5f, 0.5f, -2.0f, 0, 0, 0, 0, 6.3f};
  const BlockLayout layout{2, 5, 1, 2};
  absl::StatusOr<QuantizedWeight> q = QuantizeWeight(w, layout, {QType::kInt4, true});
  ASSERT_TRUE(q.ok()) << q.status();
  // Scales max|x| / 7; all-zero blocks get scale 1.
  EXPECT_THAT(q->scales,
              Pointwise(FloatEq(), std::vector<float>{0.3f, 0.5f, 2.0f / 7, 1.0f, 1.0f, 0.9f}));
  EXPECT_TRUE(q->zero_points.empty());
  // Codes 2, -7, 7, 1, -7, 0, 0, 0, 0, 7 packed low nibble first.
  EXPECT_THAT(q->data, ElementsAre(0x92, 0x17, 0x09, 0x00, 0x70));
  absl::StatusOr<std::vector<float>> back = DequantizeWeight(*q);
  ASSERT_TRUE(back.ok());
  EXPECT_THAT(*back, Pointwise(FloatEq(), std::vector<float>{0.6f, -2.1f, 3.5f, 0.5f, -2.0f, 0, 0,
                                                             0, 0, 6.3f}));
  EXPECT_NEAR(q->stats.sum_squared_error, 0.01, 1e-6);
  EXPECT_EQ(q->stats.count, 10);
}

TEST(QuantizeWeight, Uint8AsymmetricHandWorked) {
  // Range [-1, 4.1]: scale 5.1 / 255 = 0.02, zero point 0 - (-1) / 0.02 = 50.
  const std::vector<float> w = {-1.0f, 0.0f, 2.0f, 4.1f};
  absl::StatusOr<QuantizedWeight> q =
      QuantizeWeight(w, {1, 4, 1, 4}, {QType::kUint8, /*symmetric=*/false});
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_THAT(q->scales, Pointwise(FloatEq(), std::vector<float>{0.02f}));
  EXPECT_THAT(q->zero_points, ElementsAre(50));
  EXPECT_THAT(q->data, ElementsAre(0, 50, 150, 255));
}

TEST(QuantizeWeight, UnsignedSymmetricStoresMidpointZeroPoint) {
  const std::vector<float> w = {-1.4f, 0.2f, 0.66f, 1.4f};
  absl::StatusOr<QuantizedWeight> q = QuantizeWeight(w, {1, 4, 1, 4}, {QType::kUint4, true});
  ASSERT_TRUE(q.ok());
  EXPECT_THAT(q->scales, Pointwise(FloatEq(), std::vector<float>{0.2f}));
  EXPECT_THAT(q->zero_points, ElementsAre(0x08));
  // Codes 8 + {-7, 1, 3.3 -> 3, 7}.
  EXPECT_THAT(*UnpackCodes(QType::kUint4, q->data, 4), ElementsAre(1, 9, 11, 15));
}

TEST(QuantizeWeight, DegenerateBlocksHaveFiniteScalesAndExactZeros) {
  const std::vector<float> w = {0, 0, 0, 0, 3, 3, 3, 3, -0.0f, 0, 0, 0};
  for (QType t : kAllTypes) {
    for (bool symmetric : {true, false}) {
      absl::StatusOr<QuantizedWeight> q = QuantizeWeight(w, {3, 4, 1, 4}, {t, symmetric});
      ASSERT_TRUE(q.ok());
      for (float s : q->scales) {
        EXPECT_TRUE(std::isfinite(s) && s > 0) << QTypeName(t);
      }
      absl::StatusOr<std::vector<float>> back = DequantizeWeight(*q);
      ASSERT_TRUE(back.ok());
      for (int i : {0, 1, 2, 3, 8, 9, 10, 11}) EXPECT_EQ((*back)[i], 0.0f) << QTypeName(t);
      for (int i = 4; i < 8; ++i) EXPECT_NEAR((*back)[i], 3.0f, 3.0 / 7 / 2 + 1e-6);
      EXPECT_FALSE(std::isnan(q->stats.SqnrDb()));  // +inf when exact
    }
  }
}

// The outputs must be exactly what ONNX QuantizeLinear / DequantizeLinear produce from the stored
// scales and zero points, for every type, both modes, contiguous and strided layouts, ragged
// blocks. Checked through the independent qdq implementation.
TEST(QuantizeWeight, ConsistentWithOnnxQdqForAllTypesAndLayouts) {
  struct Case {
    std::vector<int64_t> dims;
    int64_t axis;
    int64_t block;
  };
  const Case cases[] = {{{6, 70}, 1, 32},      // contiguous, ragged last block
                        {{70, 3}, 0, 16},      // strided (inner 3), ragged
                        {{4, 37, 130}, 1, 8},  // strided with inner > tile width
                        {{5, 9}, 1, 9},        // one block per row
                        // Large enough to run threaded, with odd rows and blocks so that runs of
                        // different threads share packed 4-bit bytes.
                        {{301, 111}, 1, 10},
                        {{3, 101, 111}, 1, 7}};
  uint32_t seed = 1;
  for (const Case& c : cases) {
    absl::StatusOr<BlockLayout> layout = BlockLayout::FromShape(c.dims, c.axis, c.block);
    ASSERT_TRUE(layout.ok());
    const std::vector<float> w = Gaussian(layout->num_elements(), seed++, 0.3f);
    std::vector<int64_t> scale_dims = c.dims;
    scale_dims[c.axis] = layout->num_blocks();
    absl::StatusOr<QdqLayout> qdq = MakeQdqLayout(c.dims, scale_dims, c.axis, c.block);
    ASSERT_TRUE(qdq.ok()) << qdq.status();
    for (QType t : kAllTypes) {
      for (bool symmetric : {true, false}) {
        SCOPED_TRACE(testing::Message()
                     << QTypeName(t) << " symmetric=" << symmetric << " dims[0]=" << c.dims[0]);
        absl::StatusOr<QuantizedWeight> q = QuantizeWeight(w, *layout, {t, symmetric});
        ASSERT_TRUE(q.ok()) << q.status();
        EXPECT_EQ(q->zero_points.empty(), symmetric && QTypeIsSigned(t));
        absl::StatusOr<std::vector<uint8_t>> requant =
            QuantizeLinear(*qdq, FloatBytes::Of(w), FloatBytes::Of(q->scales), t, q->zero_points);
        ASSERT_TRUE(requant.ok());
        EXPECT_EQ(*requant, q->data);
        absl::StatusOr<std::vector<float>> dq =
            DequantizeLinearFloat(*qdq, t, q->data, q->scales, q->zero_points);
        absl::StatusOr<std::vector<float>> back = DequantizeWeight(*q);
        ASSERT_TRUE(dq.ok() && back.ok());
        EXPECT_EQ(*dq, *back);
        const ErrorStats direct = ComputeErrorStats(w, *back);
        EXPECT_NEAR(q->stats.sum_squared_error, direct.sum_squared_error,
                    1e-9 + 1e-6 * direct.sum_squared_error);
        EXPECT_NEAR(q->stats.sum_squared_signal, direct.sum_squared_signal,
                    1e-6 * direct.sum_squared_signal);
        EXPECT_FLOAT_EQ(q->stats.max_abs_error, direct.max_abs_error);
        // Min/max scales never clip, so every error is at most half a step (plus float32
        // rounding of the division and the multiply).
        for (size_t i = 0; i < w.size(); ++i) {
          const int64_t o = i / (layout->axis_dim * layout->inner);
          const int64_t d = (i / layout->inner) % layout->axis_dim;
          const int64_t j = i % layout->inner;
          const float s = q->scales[(o * layout->num_blocks() + d / c.block) * layout->inner + j];
          ASSERT_LE(std::fabs((*back)[i] - w[i]), s * 0.5f * (1 + 1e-5f) + 1e-6f * std::fabs(w[i]))
              << i;
        }
      }
    }
  }
}

TEST(QuantizeWeight, MoreBitsMeansLessError) {
  const std::vector<float> w = Gaussian(64 * 256, 7);
  double previous = std::numeric_limits<double>::infinity();
  for (QType t : {QType::kInt4, QType::kInt8, QType::kInt16}) {
    absl::StatusOr<QuantizedWeight> q = QuantizeWeight(w, {64, 256, 1, 32}, {t, true});
    ASSERT_TRUE(q.ok());
    EXPECT_LT(q->stats.RelativeError(), previous);
    previous = q->stats.RelativeError();
  }
  // int4 blocks of 32 on gaussian data: SQNR around 19-20 dB.
  absl::StatusOr<QuantizedWeight> q4 = QuantizeWeight(w, {64, 256, 1, 32}, {QType::kInt4, true});
  EXPECT_GT(q4->stats.SqnrDb(), 15);
  EXPECT_LT(q4->stats.SqnrDb(), 25);
}

TEST(QuantizeWeight, Float16ScalesAreRepresentableAndUsed) {
  const std::vector<float> w = Gaussian(4 * 96, 3, 1e-3f);
  const BlockLayout layout{4, 96, 1, 32};
  WeightQuantOptions options{QType::kInt8, false};
  options.scale_type = FloatType::kFloat16;
  absl::StatusOr<QuantizedWeight> q = QuantizeWeight(w, layout, options);
  ASSERT_TRUE(q.ok());
  for (float s : q->scales) EXPECT_EQ(RoundToHalf(s), s);
  const std::vector<uint8_t> encoded = EncodeScales(q->scales, FloatType::kFloat16);
  ASSERT_EQ(encoded.size(), q->scales.size() * 2);
  EXPECT_EQ(encoded[0] | (encoded[1] << 8), FloatToHalf(q->scales[0]));
  // Tiny weights: the scale clamps to the smallest normal half instead of underflowing.
  absl::StatusOr<QuantizedWeight> tiny =
      QuantizeWeight(std::vector<float>{1e-9f, -1e-9f}, {1, 2, 1, 2}, options);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->scales[0], 0x1p-14f);
}

TEST(FloatBytes, EncodeDecodeRoundTrip) {
  const std::vector<float> values = {1.0f, -2.5f, 0.1f, 65504.0f};
  const std::vector<uint8_t> half = EncodeFloats(values, FloatType::kFloat16);
  EXPECT_THAT(half, ElementsAre(0x00, 0x3C, 0x00, 0xC1, 0x66, 0x2E, 0xFF, 0x7B));
  absl::StatusOr<std::vector<float>> back = DecodeFloats(FloatType::kFloat16, half);
  ASSERT_TRUE(back.ok());
  EXPECT_THAT(*back, ElementsAre(1.0f, -2.5f, HalfToFloat(0x2E66), 65504.0f));
  const std::vector<uint8_t> bf16 = EncodeFloats(values, FloatType::kBFloat16);
  EXPECT_THAT(std::vector<uint8_t>(bf16.begin(), bf16.begin() + 4),
              ElementsAre(0x80, 0x3F, 0x20, 0xC0));
  absl::StatusOr<std::vector<float>> f32 =
      DecodeFloats(FloatType::kFloat32, EncodeFloats(values, FloatType::kFloat32));
  ASSERT_TRUE(f32.ok());
  EXPECT_EQ(*f32, values);
  EXPECT_FALSE(DecodeFloats(FloatType::kFloat16, std::vector<uint8_t>{1, 2, 3}).ok());
}

TEST(QuantizeWeight, DeterministicAcrossRuns) {
  const std::vector<float> w = Gaussian(256 * 300, 11);
  const BlockLayout layout{1, 256, 300, 64};
  absl::StatusOr<QuantizedWeight> a = QuantizeWeight(w, layout, {QType::kUint4, false});
  absl::StatusOr<QuantizedWeight> b = QuantizeWeight(w, layout, {QType::kUint4, false});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->data, b->data);
  EXPECT_EQ(a->scales, b->scales);
  EXPECT_EQ(a->zero_points, b->zero_points);
  EXPECT_EQ(a->stats.sum_squared_error, b->stats.sum_squared_error);
}

TEST(QuantizeWeight, RejectsBadInput) {
  const std::vector<float> w = {1, 2, 3, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_FALSE(QuantizeWeight(w, {1, 4, 1, 2}, {}).ok());
  const std::vector<float> inf = {1, std::numeric_limits<float>::infinity()};
  EXPECT_FALSE(QuantizeWeight(inf, {1, 2, 1, 2}, {}).ok());
  for (ScaleSearch search : {ScaleSearch::kMinMax, ScaleSearch::kMse, ScaleSearch::kHqq}) {
    EXPECT_FALSE(QuantizeWeight(w, {1, 4, 1, 2}, {QType::kUint8, false, search}).ok());
    EXPECT_FALSE(QuantizeWeight(inf, {1, 2, 1, 2}, {QType::kInt4, false, search}).ok());
  }
  EXPECT_FALSE(QuantizeWeight(std::vector<float>{1, 2, 3}, {1, 4, 1, 2}, {}).ok());
  EXPECT_FALSE(QuantizeWeight(std::vector<float>{1, 2}, {1, 2, 1, 0}, {}).ok());
}

// Quantizing from raw bytes: unaligned float32 gives exactly the aligned result; float16 and
// bfloat16 give the result of quantizing their widened values, with the error measured after
// rounding the dequantized values to the weight's type (as the runtime computes).
TEST(QuantizeWeightBytes, MatchesWidenedValuesForAllSourceTypes) {
  const std::vector<float> w = Gaussian(96 * 80, 11, 0.05f);
  for (const BlockLayout& layout : {BlockLayout{1, 96, 80, 32}, BlockLayout{80, 96, 1, 32}}) {
    for (FloatType type : {FloatType::kFloat32, FloatType::kFloat16, FloatType::kBFloat16}) {
      const std::vector<uint8_t> encoded = EncodeFloats(w, type);
      // One byte of offset makes every element misaligned.
      std::vector<uint8_t> shifted(encoded.size() + 1);
      std::copy(encoded.begin(), encoded.end(), shifted.begin() + 1);
      absl::StatusOr<std::vector<float>> widened = DecodeFloats(type, encoded);
      ASSERT_TRUE(widened.ok());
      WeightQuantOptions options{QType::kInt4, true};
      options.scale_type = type;
      absl::StatusOr<QuantizedWeight> expected = QuantizeWeight(*widened, layout, options);
      options.error_type = type;
      absl::StatusOr<QuantizedWeight> q =
          QuantizeWeightBytes(type, absl::MakeConstSpan(shifted).subspan(1), layout, options);
      ASSERT_TRUE(expected.ok() && q.ok()) << q.status();
      EXPECT_EQ(q->data, expected->data);
      EXPECT_EQ(q->scales, expected->scales);
      absl::StatusOr<std::vector<float>> dequantized = DequantizeWeight(*q);
      ASSERT_TRUE(dequantized.ok());
      for (float& v : *dequantized) {
        v = type == FloatType::kFloat16    ? RoundToHalf(v)
            : type == FloatType::kBFloat16 ? RoundToBFloat16(v)
                                           : v;
      }
      const ErrorStats reference = ComputeErrorStats(*widened, *dequantized);
      EXPECT_NEAR(q->stats.sum_squared_error, reference.sum_squared_error,
                  1e-6 * reference.sum_squared_error);
      EXPECT_NEAR(q->stats.sum_squared_signal, reference.sum_squared_signal,
                  1e-9 * reference.sum_squared_signal);
      EXPECT_FLOAT_EQ(q->stats.max_abs_error, reference.max_abs_error);
      if (type != FloatType::kFloat32) {
        // Rounding to the 16-bit type changes the error: the statistic really is measured so.
        EXPECT_NE(q->stats.sum_squared_error, expected->stats.sum_squared_error);
      }
    }
  }
  EXPECT_FALSE(
      QuantizeWeightBytes(FloatType::kFloat16, absl::Span<const uint8_t>(), {1, 4, 1, 4}, {}).ok());
}

TEST(BlockLayout, FromShape) {
  absl::StatusOr<BlockLayout> l = BlockLayout::FromShape({8, 3, 5, 5}, 1, 2);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->outer, 8);
  EXPECT_EQ(l->axis_dim, 3);
  EXPECT_EQ(l->inner, 25);
  EXPECT_EQ(l->num_blocks(), 2);
  EXPECT_EQ(l->num_params(), 8 * 2 * 25);
  absl::StatusOr<BlockLayout> whole = BlockLayout::FromShape({4, 6}, -1, 0);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->block_size, 6);
  EXPECT_EQ(whole->num_params(), 4);
  EXPECT_FALSE(BlockLayout::FromShape({4, 6}, 2, 0).ok());
  EXPECT_FALSE(BlockLayout::FromShape({4, 0}, 0, 0).ok());
}

}  // namespace
}  // namespace onnx_opt::quant
