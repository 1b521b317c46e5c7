#include "passes/simplify/affine_fold.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace onnx_opt::simplify {
namespace {

using ::testing::ElementsAre;

TEST(AffineFoldTest, ConvTransposeGroupsMapColumnsToOutputChannels) {
  // W [C=2, M/g=1, 1, 1] with 2 groups: input channel c feeds output channel c.
  WeightLayout layout{WeightedOp::kConvTranspose, {2, 1, 1, 1}, 2};
  ASSERT_TRUE(layout.valid());
  EXPECT_EQ(layout.out_channels(), 2);
  EXPECT_THAT(ScaleOutputChannels(layout, {1, 1}, {2, 3}), ElementsAre(2, 3));
  // One group: W [2, 2, 1, 1], column j is output j for both input channels.
  WeightLayout one{WeightedOp::kConvTranspose, {2, 2, 1, 1}, 1};
  EXPECT_THAT(ScaleOutputChannels(one, {1, 1, 1, 1}, {2, 3}), ElementsAre(2, 3, 2, 3));
}

TEST(AffineFoldTest, GroupedConvScalesItsGroupsInputs) {
  // W [M=2, C/g=1, 1, 1], 2 groups: output m reads input channel m.
  WeightLayout layout{WeightedOp::kConv, {2, 1, 1, 1}, 2};
  EXPECT_EQ(layout.in_channels(), 2);
  EXPECT_THAT(ScaleInputChannels(layout, {1, 1}, {5, 7}), ElementsAre(5, 7));
  EXPECT_THAT(BiasOfInputShift(layout, {2, 3}, {1, 10}), ElementsAre(2, 30));
  EXPECT_THAT(ScaleOutputChannels(layout, {1, 1}, {5, 7}), ElementsAre(5, 7));
}

TEST(AffineFoldTest, GemmLayouts) {
  // B [K=2, N=3].
  WeightLayout b{WeightedOp::kGemmB, {2, 3}, 1};
  EXPECT_THAT(ScaleOutputChannels(b, {1, 1, 1, 1, 1, 1}, {1, 2, 3}), ElementsAre(1, 2, 3, 1, 2, 3));
  EXPECT_THAT(ScaleInputChannels(b, {1, 1, 1, 1, 1, 1}, {2, 3}), ElementsAre(2, 2, 2, 3, 3, 3));
  EXPECT_THAT(BiasOfInputShift(b, {1, 2, 3, 4, 5, 6}, {1, 1}), ElementsAre(5, 7, 9));
  // B^T [N=3, K=2].
  WeightLayout bt{WeightedOp::kGemmBTransposed, {3, 2}, 1};
  EXPECT_THAT(ScaleOutputChannels(bt, {1, 1, 1, 1, 1, 1}, {1, 2, 3}),
              ElementsAre(1, 1, 2, 2, 3, 3));
  EXPECT_THAT(BiasOfInputShift(bt, {1, 2, 3, 4, 5, 6}, {1, 1}), ElementsAre(3, 7, 11));
}

TEST(AffineFoldTest, RejectsLayoutsThatDoNotFit) {
  EXPECT_FALSE((WeightLayout{WeightedOp::kConv, {3, 1, 1, 1}, 2}.valid()));  // 3 % 2
  EXPECT_FALSE((WeightLayout{WeightedOp::kGemmB, {2, 3, 1}, 1}.valid()));
  EXPECT_FALSE((WeightLayout{WeightedOp::kConv, {2, 1}, 1}.valid()));
}

}  // namespace
}  // namespace onnx_opt::simplify
