#include "quant/matmul_nbits.h"

#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/packing.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::FloatEq;
using ::testing::Pointwise;

// Hand-worked 4-bit symmetric case: K = 20, N = 2, block 16 -> k_blocks 2 (second block holds 4
// real rows and 12 padding rows), blob_size 8.
TEST(MatMulNBits, FourBitSymmetricLayoutHandWorked) {
  const int64_t K = 20, N = 2;
  std::vector<float> b(K * N, 0.0f);
  auto at = [&](int64_t k, int64_t n) -> float& { return b[k * N + n]; };
  // Column 0, block 0: 0.5 * (k - 7) for k < 15, and 0 at k = 15 -> scale 3.5 / 7 = 0.5,
  // codes k - 7 + 8 = k + 1, and 8 at k = 15.
  for (int64_t k = 0; k < 15; ++k) at(k, 0) = 0.5f * (k - 7);
  // Column 0, block 1: {1, -1, 0, 0.25} -> scale 1/7, codes 15, 1, 8, round(1.75) + 8 = 10.
  at(16, 0) = 1;
  at(17, 0) = -1;
  at(19, 0) = 0.25f;
  // Column 1: block 0 all zero (scale 1, codes 8); block 1 {-7, 3, 0, 0} -> scale 1, codes 1, 11.
  at(16, 1) = -7;
  at(17, 1) = 3;

  absl::StatusOr<MatMulNBitsWeight> w = QuantizeMatMulNBits(b, K, N, {4, 16, true});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->k_blocks, 2);
  EXPECT_EQ(w->blob_size, 8);
  EXPECT_TRUE(w->zero_points.empty());
  EXPECT_THAT(w->scales, Pointwise(FloatEq(), std::vector<float>{0.5f, 1.0f / 7, 1.0f, 1.0f}));
  EXPECT_THAT(w->b, ElementsAreArray<uint8_t>({// n = 0, block 0
                                               0x21, 0x43, 0x65, 0x87, 0xA9, 0xCB, 0xED, 0x8F,
                                               // n = 0, block 1: 15, 1, 8, 10, then padding code 8
                                               0x1F, 0xA8, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88,
                                               // n = 1, block 0
                                               0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88,
                                               // n = 1, block 1: 1, 11, 8, 8, padding
                                               0xB1, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88}));
  absl::StatusOr<std::vector<float>> back = DequantizeMatMulNBits(*w);
  ASSERT_TRUE(back.ok());
  std::vector<float> expected = b;
  expected[19 * N + 0] = 2.0f / 7;  // 0.25 -> code 10 -> 2 * (1/7)
  EXPECT_THAT(*back, Pointwise(FloatEq(), expected));
}

// Hand-worked 4-bit asymmetric case with an odd k_blocks, so each column's zero point row ends in
// a padding nibble: K = 48, N = 2, block 16 -> 3 blocks, 2 zero point bytes per column.
TEST(MatMulNBits, FourBitAsymmetricZeroPointPacking) {
  const int64_t K = 48, N = 2;
  std::vector<float> b(K * N, 0.0f);
  // Block patterns {lo, hi, 0...}: range [lo, hi] spans 3 -> scale 0.2, zero point -lo / 0.2.
  const float patterns[3][2] = {{-1.0f, 2.0f}, {-2.0f, 1.0f}, {-0.4f, 2.6f}};  // zp 5, 10, 2
  const int order[2][3] = {{0, 1, 2}, {1, 2, 0}};
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t blk = 0; blk < 3; ++blk) {
      b[(blk * 16) * N + n] = patterns[order[n][blk]][0];
      b[(blk * 16 + 1) * N + n] = patterns[order[n][blk]][1];
    }
  }
  absl::StatusOr<MatMulNBitsWeight> w = QuantizeMatMulNBits(b, K, N, {4, 16, false});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->zero_point_row_bytes(), 2);
  EXPECT_THAT(w->zero_points, ElementsAre(0xA5, 0x02, 0x2A, 0x05));
  for (float s : w->scales) EXPECT_FLOAT_EQ(s, 0.2f);
  // Column 0, block 0: codes 0 (= -1 / 0.2 + 5), 15, then 5s.
  EXPECT_THAT(std::vector<uint8_t>(w->b.begin(), w->b.begin() + 8),
              ElementsAre(0xF0, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55));
  absl::StatusOr<std::vector<float>> back = DequantizeMatMulNBits(*w);
  ASSERT_TRUE(back.ok());
  for (size_t i = 0; i < b.size(); ++i) EXPECT_NEAR((*back)[i], b[i], 1e-6) << i;
}

TEST(MatMulNBits, EightBitAsymmetric) {
  std::vector<float> b(16, 0.0f);
  b[0] = -1.0f;
  b[1] = 4.1f;
  absl::StatusOr<MatMulNBitsWeight> w = QuantizeMatMulNBits(b, 16, 1, {8, 16, false});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->blob_size, 16);
  EXPECT_THAT(w->zero_points, ElementsAre(50));
  EXPECT_THAT(w->scales, Pointwise(FloatEq(), std::vector<float>{0.02f}));
  EXPECT_EQ(w->b[0], 0);
  EXPECT_EQ(w->b[1], 255);
  for (int i = 2; i < 16; ++i) EXPECT_EQ(w->b[i], 50);
}

// MatMulNBits must carry exactly the codes, scales and zero points of the generic blocked
// quantizer on B [K, N] along K (uint4/uint8), only transposed to [N, k_blocks].
TEST(MatMulNBits, MatchesGenericBlockedQuantizerTransposed) {
  const int64_t K = 200, N = 70;  // ragged last block, more than one column tile
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> b(K * N);
  for (float& x : b) x = dist(rng);
  for (int bits : {4, 8}) {
    for (bool symmetric : {true, false}) {
      SCOPED_TRACE(testing::Message() << "bits=" << bits << " symmetric=" << symmetric);
      const MatMulNBitsOptions options{bits, 32, symmetric};
      absl::StatusOr<MatMulNBitsWeight> w = QuantizeMatMulNBits(b, K, N, options);
      ASSERT_TRUE(w.ok());
      const QType qt = bits == 4 ? QType::kUint4 : QType::kUint8;
      const BlockLayout layout{1, K, N, 32};
      absl::StatusOr<QuantizedWeight> g = QuantizeWeight(b, layout, {qt, symmetric});
      ASSERT_TRUE(g.ok());
      const int64_t kb = w->k_blocks;
      const std::vector<int32_t> codes = *UnpackCodes(qt, g->data, K * N);
      const std::vector<int32_t> zps = *UnpackCodes(qt, g->zero_points, kb * N);
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t blk = 0; blk < kb; ++blk) {
          ASSERT_EQ(w->scales[n * kb + blk], g->scales[blk * N + n]);
          int32_t zp = 1 << (bits - 1);
          if (!symmetric) {
            const uint8_t byte =
                w->zero_points[n * w->zero_point_row_bytes() + (bits == 4 ? blk / 2 : blk)];
            zp = bits == 4 ? (byte >> (blk % 2 * 4)) & 0xF : byte;
          }
          ASSERT_EQ(zp, zps[blk * N + n]);
          for (int64_t kk = 0; kk < 32 && blk * 32 + kk < K; ++kk) {
            const uint8_t* blob = w->b.data() + (n * kb + blk) * w->blob_size;
            const int32_t code = bits == 4 ? (blob[kk / 2] >> (kk % 2 * 4)) & 0xF : blob[kk];
            ASSERT_EQ(code, codes[(blk * 32 + kk) * N + n]);
          }
        }
      }
      EXPECT_DOUBLE_EQ(w->stats.sum_squared_error, g->stats.sum_squared_error);
      absl::StatusOr<std::vector<float>> back = DequantizeMatMulNBits(*w);
      absl::StatusOr<std::vector<float>> gback = DequantizeWeight(*g);
      ASSERT_TRUE(back.ok() && gback.ok());
      EXPECT_EQ(*back, *gback);
    }
  }
}

// PackMatMulNBits (pre-quantized codes, as a blocked DequantizeLinear holds them) packs what
// DequantizeMatMulNBits reads back as (code - zero point) * scale, for 4 and 8 bits, a ragged K
// (40 = 32 + 8: the tail of the last block holds its zero point) and stored or default zero
// points; and QuantizeMatMulNBits' own output packs back to the same bytes from its codes.
TEST(MatMulNBits, PackPrequantizedCodes) {
  for (int bits : {4, 8}) {
    for (bool store_zp : {true, false}) {
      const int64_t K = 40, N = 3, block = 32, kb = 2;
      std::mt19937 rng(bits * 7 + store_zp);
      std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
      std::vector<uint8_t> codes(K * N);
      for (uint8_t& c : codes) c = static_cast<uint8_t>(code(rng));
      std::vector<float> scales(kb * N);
      std::vector<int32_t> zps(kb * N, 1 << (bits - 1));
      for (int64_t i = 0; i < kb * N; ++i) {
        scales[i] = 0.01f * static_cast<float>(i + 1);
        if (store_zp) zps[i] = code(rng);
      }
      absl::StatusOr<MatMulNBitsWeight> w =
          PackMatMulNBits(bits, block, K, N, codes, scales, zps, store_zp);
      ASSERT_TRUE(w.ok()) << w.status();
      EXPECT_EQ(w->zero_points.empty(), !store_zp);
      absl::StatusOr<std::vector<float>> deq = DequantizeMatMulNBits(*w);
      ASSERT_TRUE(deq.ok());
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t n = 0; n < N; ++n) {
          const int64_t p = (k / block) * N + n;
          EXPECT_FLOAT_EQ((*deq)[k * N + n], (codes[k * N + n] - zps[p]) * scales[p])
              << "bits " << bits << " k " << k << " n " << n;
        }
      }
      // Padding past K in the last block is that block's zero point code.
      const uint8_t* last = w->b.data() + (0 * kb + 1) * w->blob_size;
      const int32_t pad = bits == 4 ? (last[5] & 0xF) : last[10];  // position 10 of the block
      EXPECT_EQ(pad, zps[1 * N + 0]);
    }
  }
  std::vector<uint8_t> too_big(32 * 2, 16);
  EXPECT_FALSE(PackMatMulNBits(4, 32, 32, 2, too_big, std::vector<float>(2, 1.0f),
                               std::vector<int32_t>(2, 8), false)
                   .ok());
  EXPECT_FALSE(PackMatMulNBits(4, 8, 32, 2, std::vector<uint8_t>(64, 1),
                               std::vector<float>(8, 1.0f), std::vector<int32_t>(8, 8), false)
                   .ok());
}

TEST(MatMulNBits, RejectsBadOptions) {
  const std::vector<float> b(64, 1.0f);
  EXPECT_FALSE(QuantizeMatMulNBits(b, 16, 4, {3, 16, true}).ok());
  EXPECT_FALSE(QuantizeMatMulNBits(b, 16, 4, {4, 24, true}).ok());
  EXPECT_FALSE(QuantizeMatMulNBits(b, 16, 4, {4, 8, true}).ok());
  EXPECT_FALSE(QuantizeMatMulNBits(b, 16, 5, {4, 16, true}).ok());
}

}  // namespace
}  // namespace onnx_opt::quant
