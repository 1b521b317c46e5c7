#include "passes/quantize/weight_layout.h"

#include <gtest/gtest.h>

namespace onnx_opt {
namespace {

// A one-node graph so roles can read attributes.
class WeightRoleTest : public ::testing::Test {
 protected:
  Node* MakeNode(std::string_view op) {
    Value* a = graph_.AddInput("a", ValueType::Tensor(DataType::kFloat));
    Value* b = graph_.AddInput("b", ValueType::Tensor(DataType::kFloat));
    return graph_.CreateNode(op, {a, b}, 1);
  }
  Graph graph_;
};

TEST_F(WeightRoleTest, ConvFlattensEverythingAfterOutputChannels) {
  Node* conv = MakeNode("Conv");
  auto role = FindWeightRole(*conv, 1, 4);
  ASSERT_TRUE(role.has_value());
  EXPECT_EQ(role->axis, 1);
  EXPECT_TRUE(role->flatten_trailing);
  WeightView view = ViewOf({8, 3, 3, 3}, *role);
  EXPECT_EQ(view.outer, 8);
  EXPECT_EQ(view.reduce, 27);
  EXPECT_EQ(view.inner, 1);
  EXPECT_FALSE(FindWeightRole(*conv, 0, 4).has_value());  // data input
  EXPECT_FALSE(FindWeightRole(*conv, 2, 1).has_value());  // bias
}

TEST_F(WeightRoleTest, ConvTransposeReducesOverInputChannels) {
  Node* deconv = MakeNode("ConvTranspose");
  auto role = FindWeightRole(*deconv, 1, 4);
  ASSERT_TRUE(role.has_value());
  WeightView view = ViewOf({16, 4, 3, 3}, *role);
  EXPECT_EQ(view.outer, 1);
  EXPECT_EQ(view.reduce, 16);
  EXPECT_EQ(view.inner, 36);
  EXPECT_EQ(role->channel_axis, 1);
}

TEST_F(WeightRoleTest, MatMulRightIsKByNLeftIsMByK) {
  Node* mm = MakeNode("MatMul");
  auto right = FindWeightRole(*mm, 1, 3);
  ASSERT_TRUE(right.has_value());
  EXPECT_EQ(right->axis, 1);  // batched [b, K, N] reduces over -2
  WeightView view = ViewOf({2, 64, 10}, *right);
  EXPECT_EQ(view.outer, 2);
  EXPECT_EQ(view.reduce, 64);
  EXPECT_EQ(view.inner, 10);
  auto left = FindWeightRole(*mm, 0, 2);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(left->axis, 1);
  EXPECT_EQ(left->channel_axis, 0);
  EXPECT_FALSE(FindWeightRole(*mm, 1, 1).has_value());
}

TEST_F(WeightRoleTest, GemmHonoursTransposes) {
  Node* gemm = MakeNode("Gemm");
  EXPECT_EQ(FindWeightRole(*gemm, 1, 2)->axis, 0);
  gemm->SetAttribute(Attribute::Int("transB", 1));
  EXPECT_EQ(FindWeightRole(*gemm, 1, 2)->axis, 1);
  EXPECT_EQ(FindWeightRole(*gemm, 0, 2)->axis, 1);
  gemm->SetAttribute(Attribute::Int("transA", 1));
  EXPECT_EQ(FindWeightRole(*gemm, 0, 2)->axis, 0);
  EXPECT_FALSE(FindWeightRole(*gemm, 2, 2).has_value());  // C is a bias
}

TEST(WeightLayoutTest, LargestDivisor) {
  EXPECT_EQ(LargestDivisorAtMost(96, 32), 32);
  EXPECT_EQ(LargestDivisorAtMost(27, 32), 27);
  EXPECT_EQ(LargestDivisorAtMost(100, 32), 25);
  EXPECT_EQ(LargestDivisorAtMost(37, 32), 1);
  EXPECT_EQ(LargestDivisorAtMost(9, 4), 3);
}

TEST(WeightLayoutTest, RaggedPolicies) {
  WeightRole role{.axis = 0, .channel_axis = 1};
  std::string reason;
  auto allow =
      ChooseGeometry({100, 8}, role, Granularity::kBlock, 32, RaggedPolicy::kAllow, &reason);
  ASSERT_TRUE(allow.has_value());
  EXPECT_EQ(allow->block, 32);
  EXPECT_EQ(allow->num_blocks(), 4);
  EXPECT_TRUE(allow->ragged());
  auto divisor =
      ChooseGeometry({100, 8}, role, Granularity::kBlock, 32, RaggedPolicy::kDivisor, &reason);
  ASSERT_TRUE(divisor.has_value());
  EXPECT_EQ(divisor->block, 25);
  EXPECT_FALSE(divisor->ragged());
  EXPECT_FALSE(
      ChooseGeometry({100, 8}, role, Granularity::kBlock, 32, RaggedPolicy::kSkip, &reason));
  EXPECT_EQ(reason, "ragged");
  EXPECT_FALSE(
      ChooseGeometry({37, 8}, role, Granularity::kBlock, 32, RaggedPolicy::kDivisor, &reason));
  EXPECT_EQ(reason, "no-divisor");
  // A multiple of the block is never ragged, whatever the policy.
  EXPECT_TRUE(ChooseGeometry({64, 8}, role, Granularity::kBlock, 32, RaggedPolicy::kSkip, &reason));
}

TEST(WeightLayoutTest, ChannelAndTensorGranularity) {
  WeightRole role{.axis = 0, .channel_axis = 1};
  std::string reason;
  auto channel =
      ChooseGeometry({100, 8}, role, Granularity::kChannel, 32, RaggedPolicy::kSkip, &reason);
  ASSERT_TRUE(channel.has_value());
  EXPECT_EQ(channel->block, 100);
  EXPECT_EQ(channel->num_blocks(), 1);
  auto tensor =
      ChooseGeometry({100, 8}, role, Granularity::kTensor, 32, RaggedPolicy::kSkip, &reason);
  ASSERT_TRUE(tensor.has_value());
  EXPECT_EQ(tensor->view.reduce, 800);
  EXPECT_EQ(tensor->view.outer * tensor->view.inner, 1);
  EXPECT_EQ(tensor->num_blocks(), 1);
}

}  // namespace
}  // namespace onnx_opt
