#include "quant/packing.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onnx_opt::quant {
namespace {

using ::testing::ElementsAre;

TEST(Packing, Int4LowNibbleFirstOddCountPadded) {
  const std::vector<uint8_t> bytes = PackCodes(QType::kInt4, {1, -2, 7, -8, 3});
  EXPECT_THAT(bytes, ElementsAre(0xE1, 0x87, 0x03));
  absl::StatusOr<std::vector<int32_t>> codes = UnpackCodes(QType::kInt4, bytes, 5);
  ASSERT_TRUE(codes.ok());
  EXPECT_THAT(*codes, ElementsAre(1, -2, 7, -8, 3));
}

TEST(Packing, Uint4AndSixteenBitLittleEndian) {
  EXPECT_THAT(PackCodes(QType::kUint4, {0, 1, 2, 3, 4}), ElementsAre(0x10, 0x32, 0x04));
  EXPECT_THAT(PackCodes(QType::kUint16, {0x1234, 65535}), ElementsAre(0x34, 0x12, 0xFF, 0xFF));
  EXPECT_THAT(PackCodes(QType::kInt16, {-2}), ElementsAre(0xFE, 0xFF));
  absl::StatusOr<std::vector<int32_t>> codes =
      UnpackCodes(QType::kInt16, std::vector<uint8_t>{0xFE, 0xFF, 0x00, 0x80}, 2);
  ASSERT_TRUE(codes.ok());
  EXPECT_THAT(*codes, ElementsAre(-2, -32768));
}

TEST(Packing, SaturatesOutOfRangeCodes) {
  EXPECT_THAT(PackCodes(QType::kInt8, {200, -300}), ElementsAre(127, 0x80));
  EXPECT_THAT(PackCodes(QType::kUint4, {-1, 16}), ElementsAre(0xF0));
}

TEST(Packing, RejectsWrongByteCount) {
  EXPECT_FALSE(UnpackCodes(QType::kInt4, std::vector<uint8_t>{1, 2}, 5).ok());
  EXPECT_FALSE(UnpackCodes(QType::kUint16, std::vector<uint8_t>{1, 2, 3}, 2).ok());
}

}  // namespace
}  // namespace onnx_opt::quant
