// QuantizeLinear / DequantizeLinear against the ONNX backend conformance cases (values from the
// onnx repository's onnx/backend/test/case/node/{quantize,dequantize}linear.py, written out here
// as literals) and against hand-worked int4 blocked cases with a ragged last block.
#include "quant/qdq.h"

#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/float16.h"
#include "quant/packing.h"

namespace onnx_opt::quant {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

QdqLayout Layout(std::vector<int64_t> x_shape, std::vector<int64_t> scale_shape, int64_t axis,
                 int64_t block_size) {
  absl::StatusOr<QdqLayout> layout = MakeQdqLayout(x_shape, scale_shape, axis, block_size);
  EXPECT_TRUE(layout.ok()) << layout.status();
  return layout.ok() ? *layout : QdqLayout{};
}

std::vector<int32_t> Quantize(const QdqLayout& layout, const std::vector<float>& x,
                              const std::vector<float>& scale, QType q,
                              const std::vector<int32_t>& zero_point) {
  const std::vector<uint8_t> zp =
      zero_point.empty() ? std::vector<uint8_t>{} : PackCodes(q, zero_point);
  absl::StatusOr<std::vector<uint8_t>> y =
      QuantizeLinear(layout, FloatBytes::Of(x), FloatBytes::Of(scale), q, zp);
  EXPECT_TRUE(y.ok()) << y.status();
  if (!y.ok()) return {};
  return *UnpackCodes(q, *y, layout.num_elements());
}

std::vector<float> Dequantize(const QdqLayout& layout, QType q, const std::vector<int32_t>& x,
                              const std::vector<float>& scale,
                              const std::vector<int32_t>& zero_point) {
  const std::vector<uint8_t> zp =
      zero_point.empty() ? std::vector<uint8_t>{} : PackCodes(q, zero_point);
  absl::StatusOr<std::vector<float>> y =
      DequantizeLinearFloat(layout, q, PackCodes(q, x), scale, zp);
  EXPECT_TRUE(y.ok()) << y.status();
  return y.ok() ? *y : std::vector<float>{};
}

TEST(QuantizeLinear, OnnxPerTensorUint8) {  // test_quantizelinear
  EXPECT_THAT(
      Quantize(Layout({6}, {}, 1, 0), {0, 2, 3, 1000, -254, -1000}, {2}, QType::kUint8, {128}),
      ElementsAre(128, 129, 130, 255, 1, 0));
}

TEST(QuantizeLinear, OnnxPerAxisUint8) {  // test_quantizelinear_axis
  const std::vector<float> x = {-162, 10, -100, 232, -20,  -50,  -76,  0,    0,
                                252,  32, -44,  245, -485, -960, -270, -375, -470};
  EXPECT_THAT(
      Quantize(Layout({1, 3, 3, 2}, {3}, 1, 0), x, {2, 4, 5}, QType::kUint8, {84, 24, 196}),
      ElementsAre(3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102));
}

TEST(QuantizeLinear, OnnxUint16AndInt16) {  // test_quantizelinear_uint16 / _int16
  EXPECT_THAT(
      Quantize(Layout({12}, {}, 1, 0),
               {0.0f, -128.0f, 3.0f, -3.0f, 2.9f, -2.9f, 3.1f, -3.1f, 65536.0f, -65534.0f, 70000.0f,
                -70000.0f},
               {2}, QType::kUint16, {32767}),
      ElementsAre(32767, 32703, 32769, 32765, 32768, 32766, 32769, 32765, 65535, 0, 65535, 0));
  EXPECT_THAT(Quantize(Layout({16}, {}, 1, 0),
                       {0.0f, -514.0f, 3.0f, -3.0f, 2.9f, -2.9f, 3.1f, -3.1f, 65022.0f, -66046.0f,
                        65023.0f, -66047.0f, 65024.0f, -66048.0f, 70000.0f, -70000.0f},
                       {2}, QType::kInt16, {256}),
              ElementsAre(256, -1, 258, 254, 257, 255, 258, 254, 32767, -32767, 32767, -32768,
                          32767, -32768, 32767, -32768));
}

TEST(QuantizeLinear, OnnxInt4AndUint4PerAxis) {  // test_quantizelinear_int4 / _uint4
  const std::vector<float> x = {0.0f, 2.5f, 4.8f, 8.6f, -30, -20, 6, 9, 12, 15, 16, 40};
  const QdqLayout layout = Layout({3, 4}, {3}, 0, 0);
  EXPECT_THAT(Quantize(layout, x, {2, 3, 4}, QType::kInt4, {1, 1, 1}),
              ElementsAre(1, 2, 3, 5, -8, -6, 3, 4, 4, 5, 5, 7));
  EXPECT_THAT(Quantize(layout, x, {2, 3, 4}, QType::kUint4, {1, 1, 1}),
              ElementsAre(1, 2, 3, 5, 0, 0, 3, 4, 4, 5, 5, 11));
}

TEST(QuantizeLinear, OnnxBlockedAsymmetric) {  // test_quantizelinear_blocked_asymmetric
  const std::vector<float> x = {6, 12, 50, 5, 1, 8, 4, 5, 0, 20, 10, 4};
  const std::vector<float> scale = {1.5f, 2.5f, 3.0f, 4.9f, 5.1f, 6.9f};
  EXPECT_THAT(Quantize(Layout({3, 4}, {3, 2}, 1, 2), x, scale, QType::kUint8, {0, 1, 1, 0, 2, 3}),
              ElementsAre(4, 8, 21, 3, 1, 4, 1, 1, 2, 6, 4, 4));
}

TEST(QuantizeLinear, OnnxBlockedSymmetricInt16) {  // test_quantizelinear_blocked_symmetric
  const std::vector<float> x = {6, -8, -10, 5, 1, 8, 4, 5, 0, 20, 10, 4};
  const std::vector<float> scale = {1.5f, 2.5f, 3.0f, 4.9f, 5.1f, 6.9f};
  EXPECT_THAT(Quantize(Layout({3, 4}, {3, 2}, 1, 2), x, scale, QType::kInt16, {}),
              ElementsAre(4, -5, -4, 2, 0, 3, 1, 1, 0, 4, 1, 1));
}

TEST(DequantizeLinear, OnnxPerTensorAndSixteenBit) {
  EXPECT_THAT(Dequantize(Layout({4}, {}, 1, 0), QType::kUint8, {0, 3, 128, 255}, {2}, {128}),
              ElementsAre(-256, -250, 0, 254));  // test_dequantizelinear
  EXPECT_THAT(
      Dequantize(Layout({4}, {}, 1, 0), QType::kUint16, {30000, 31000, 32768, 33000}, {2}, {32767}),
      ElementsAre(-5534, -3534, 2, 466));  // test_dequantizelinear_uint16
  EXPECT_THAT(
      Dequantize(Layout({4}, {}, 1, 0), QType::kInt16, {-300, -30, -1025, 1270}, {2}, {-1024}),
      ElementsAre(1448, 1988, -2, 4588));  // test_dequantizelinear_int16
  EXPECT_THAT(Dequantize(Layout({5}, {1}, 0, 0), QType::kInt4, {0, 1, 7, -4, -8}, {2}, {1}),
              ElementsAre(-2, 0, 12, -10, -18));  // test_dequantizelinear_int4
}

TEST(DequantizeLinear, OnnxPerAxis) {  // test_dequantizelinear_axis
  EXPECT_THAT(Dequantize(Layout({1, 3, 3, 2}, {3}, 1, 0), QType::kUint8,
                         {3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102},
                         {2, 4, 5}, {84, 24, 196}),
              ElementsAre(-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44, 245, -485, -960,
                          -270, -375, -470));
}

TEST(DequantizeLinear, OnnxBlocked) {  // test_dequantizelinear_blocked
  const std::vector<int32_t> x = {3, 89, 34, 200, 74, 59, 5,   24, 24, 87,  32,  13,
                                  5, 12, 12, 33,  65, 42, 245, 99, 4,  142, 121, 102};
  const std::vector<float> scale = {3, 2, 4, 1, 2, 2, 5, 2, 4, 3, 5, 2};
  const std::vector<int32_t> zp = {1, 0, 0, 1, 2, 20, 3, 2, 4, 3, 15, 2};
  EXPECT_THAT(Dequantize(Layout({1, 4, 3, 2}, {1, 2, 3, 2}, 1, 2), QType::kUint8, x, scale, zp),
              ElementsAre(6, 178, 136, 199, 144, 78, 12, 48, 96, 86, 60, -14, 10, 20, 32, 90, 250,
                          80, 1210, 194, 0, 417, 530, 200));
}

// Hand-worked: x [2, 5], axis 1, block 2 -> scale [2, 3] with a 1-wide last block, int4 with zero
// points, odd element count per row (so rows share bytes when packed).
TEST(QuantizeLinear, Int4BlockedRaggedHandWorked) {
  const QdqLayout layout = Layout({2, 5}, {2, 3}, 1, 2);
  const std::vector<float> x = {1.0f, -2.0f, 3.0f, 4.5f, -7.0f, 0.25f, 0.5f, -0.75f, 10.0f, 2.0f};
  const std::vector<float> scale = {0.5f, 1.0f, 2.0f, 0.25f, 0.5f, 0.5f};
  const std::vector<uint8_t> zp = PackCodes(QType::kInt4, {0, 1, -1, 2, 0, -3});
  EXPECT_THAT(zp, ElementsAre(0x10, 0x2F, 0xD0));
  absl::StatusOr<std::vector<uint8_t>> y =
      QuantizeLinear(layout, FloatBytes::Of(x), FloatBytes::Of(scale), QType::kInt4, zp);
  ASSERT_TRUE(y.ok()) << y.status();
  // Codes 2,-4 | 4,5 | -5 ; 3,4 | -2,7 (10 saturates) | 1  (4.5 and -3.5 are ties to even).
  EXPECT_THAT(*y, ElementsAre(0xC2, 0x54, 0x3B, 0xE4, 0x17));
  absl::StatusOr<std::vector<float>> back =
      DequantizeLinearFloat(layout, QType::kInt4, *y, scale, zp);
  ASSERT_TRUE(back.ok());
  EXPECT_THAT(*back, ElementsAre(1.0f, -2.0f, 3.0f, 4.0f, -8.0f, 0.25f, 0.5f, -1.0f, 3.5f, 2.0f));
}

// Blocked along a middle axis with inner > 1 and a ragged block: x [1, 3, 2], axis 1, block 2.
TEST(QuantizeLinear, Uint4BlockedMiddleAxisOddCount) {
  const QdqLayout layout = Layout({1, 3, 2}, {1, 2, 2}, 1, 2);
  const std::vector<float> x = {0, 1, 2, 3, 4, 5};
  // Blocks: rows {0, 1} with scales (1, 0.5), row {2} with scales (2, 0.25); zero points 1.
  const std::vector<float> scale = {1, 0.5f, 2, 0.25f};
  EXPECT_THAT(Quantize(layout, x, scale, QType::kUint4, {1, 1, 1, 1}),
              ElementsAre(1, 3, 3, 7, 3, 15));  // 5 / 0.25 + 1 = 21 saturates to 15
}

TEST(QuantizeLinear, Float16InputAndScale) {
  const std::vector<uint16_t> x = {FloatToHalf(1.5f), FloatToHalf(1.25f), FloatToHalf(-0.5f)};
  const uint16_t scale = FloatToHalf(0.5f);
  absl::StatusOr<QdqLayout> layout = MakeQdqLayout({3}, {}, 0, 0);
  ASSERT_TRUE(layout.ok());
  absl::StatusOr<std::vector<uint8_t>> y = QuantizeLinear(
      *layout, {FloatType::kFloat16, {reinterpret_cast<const uint8_t*>(x.data()), 6}},
      {FloatType::kBFloat16, {reinterpret_cast<const uint8_t*>(&scale), 0}}, QType::kInt8);
  EXPECT_FALSE(y.ok());  // scale byte count wrong
  const uint16_t bscale = FloatToBFloat16(0.5f);
  y = QuantizeLinear(
      *layout, {FloatType::kFloat16, {reinterpret_cast<const uint8_t*>(x.data()), 6}},
      {FloatType::kBFloat16, {reinterpret_cast<const uint8_t*>(&bscale), 2}}, QType::kInt8);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_THAT(*y, ElementsAre(3, 2, 0xFF));  // 3, 2.5 ties to even 2, -1
}

TEST(DequantizeLinear, Float16OutputRoundsToNearestEven) {
  // fp16(0.1) = 0x2E66 = 0.0999755859375; 3 * that = 0.2999267578125 lies exactly halfway between
  // fp16 0x34CC and 0x34CD and must round to the even 0x34CC.
  const uint16_t scale = 0x2E66;
  absl::StatusOr<QdqLayout> layout = MakeQdqLayout({2}, {}, 0, 0);
  ASSERT_TRUE(layout.ok());
  absl::StatusOr<std::vector<uint8_t>> y =
      DequantizeLinear(*layout, QType::kInt8, std::vector<uint8_t>{3, 0xFE},
                       {FloatType::kFloat16, {reinterpret_cast<const uint8_t*>(&scale), 2}});
  ASSERT_TRUE(y.ok()) << y.status();
  ASSERT_EQ(y->size(), 4u);
  uint16_t out[2];
  std::memcpy(out, y->data(), 4);
  EXPECT_EQ(out[0], 0x34CC);
  EXPECT_EQ(out[1], 0xB266);  // -2 * 0.0999755859375 = -0.199951171875, exact in fp16
}

TEST(QuantizeLinear, NanAndInfinitySaturate) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_THAT(Quantize(Layout({3}, {}, 0, 0), {std::nanf(""), inf, -inf}, {1}, QType::kInt8, {}),
              ElementsAre(-128, 127, -128));
}

TEST(MakeQdqLayout, ValidatesShapes) {
  EXPECT_FALSE(MakeQdqLayout({3, 4}, {3, 3}, 1, 2).ok());  // needs ceil(4/2) = 2 on axis 1
  EXPECT_FALSE(MakeQdqLayout({3, 4}, {2, 2}, 1, 2).ok());  // other dims must match
  EXPECT_FALSE(MakeQdqLayout({3, 4}, {4}, 0, 0).ok());     // per-axis count must be dims[axis]
  EXPECT_FALSE(MakeQdqLayout({3, 4}, {3, 2}, 2, 2).ok());  // axis out of range
  EXPECT_TRUE(MakeQdqLayout({3, 4}, {3, 2}, -1, 2).ok());  // negative axis counts from the back
  absl::StatusOr<QdqLayout> ragged = MakeQdqLayout({2, 5, 3}, {2, 2, 3}, 1, 3);
  ASSERT_TRUE(ragged.ok());
  EXPECT_EQ(ragged->granularity, QdqGranularity::kBlocked);
  EXPECT_EQ(ragged->outer, 2);
  EXPECT_EQ(ragged->axis_dim, 5);
  EXPECT_EQ(ragged->inner, 3);
  EXPECT_EQ(ragged->num_params(), 12);
}

}  // namespace
}  // namespace onnx_opt::quant
