#include "passes/core/utils.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace onnx_opt {
namespace {

using ::testing::HasSubstr;

TensorPtr FloatTensor(std::vector<int64_t> dims, std::vector<float> values) {
  return std::make_shared<const Tensor>(
      Tensor::FromValues<float>(DataType::kFloat, std::move(dims), values));
}

TEST(GetConstantTensorTest, InitializersAndConstantNodes) {
  Graph graph;
  Value* w = graph.AddInitializer("w", FloatTensor({2}, {1, 2}));
  EXPECT_EQ(GetConstantTensor(w), w->initializer());

  Node* c = graph.CreateNode("Constant", {}, 1);
  c->SetAttribute(Attribute::TensorValue("value", FloatTensor({1}, {3})));
  TensorPtr t = GetConstantTensor(c->output(0));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->CopyValues<float>(), std::vector<float>{3});

  Node* cf = graph.CreateNode("Constant", {}, 1);
  cf->SetAttribute(Attribute::Float("value_float", 2.5f));
  t = GetConstantTensor(cf->output(0));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->rank(), 0);
  EXPECT_EQ(t->CopyValues<float>(), std::vector<float>{2.5f});

  Node* ci = graph.CreateNode("Constant", {}, 1);
  ci->SetAttribute(Attribute::Ints("value_ints", {4, 5, 6}));
  t = GetConstantTensor(ci->output(0));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type(), DataType::kInt64);
  EXPECT_EQ(t->dims(), std::vector<int64_t>{3});
  EXPECT_EQ(t->CopyValues<int64_t>(), (std::vector<int64_t>{4, 5, 6}));

  Node* cfs = graph.CreateNode("Constant", {}, 1);
  cfs->SetAttribute(Attribute::Floats("value_floats", {1.5f, -1}));
  t = GetConstantTensor(cfs->output(0));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->CopyValues<float>(), (std::vector<float>{1.5f, -1}));

  Node* civ = graph.CreateNode("Constant", {}, 1);
  civ->SetAttribute(Attribute::Int("value_int", 7));
  t = GetConstantTensor(civ->output(0));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->CopyValues<int64_t>(), std::vector<int64_t>{7});

  Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kFloat));
  EXPECT_EQ(GetConstantTensor(x), nullptr);
  Node* neg = graph.CreateNode("Neg", {w}, 1);
  EXPECT_EQ(GetConstantTensor(neg->output(0)), nullptr);
  Node* custom = graph.CreateNode("Constant", {}, 1, nullptr, "com.example");
  custom->SetAttribute(Attribute::Float("value_float", 1));
  EXPECT_EQ(GetConstantTensor(custom->output(0)), nullptr);
}

TEST(StableTopologicalOrderTest, KeepsSortedOrderAndFixesUnsorted) {
  Graph graph;
  Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kFloat));
  Node* a = graph.CreateNode("Neg", {x}, 1);
  Node* b = graph.CreateNode("Abs", {x}, 1);
  Node* c = graph.CreateNode("Add", {a->output(0), b->output(0)}, 1);
  auto order = StableTopologicalOrder(graph);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(*order, (std::vector<Node*>{a, b, c}));
  graph.MoveBefore(c, a);  // c, a, b
  order = StableTopologicalOrder(graph);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(*order, (std::vector<Node*>{a, b, c}));
  graph.MoveBefore(b, a);  // b, a, c: valid, kept as is
  order = StableTopologicalOrder(graph);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(*order, (std::vector<Node*>{b, a, c}));
}

TEST(StableTopologicalOrderTest, CycleNamesANodeOnIt) {
  Graph graph;
  Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kFloat));
  Node* free = graph.CreateNode("Abs", {x}, 1);
  free->name = "free";
  Node* a = graph.CreateNode("Neg", {x}, 1);
  a->name = "a";
  Node* b = graph.CreateNode("Neg", {a->output(0)}, 1);
  b->name = "b";
  Node* tail = graph.CreateNode("Neg", {b->output(0)}, 1);
  tail->name = "tail";
  a->SetInput(0, b->output(0));  // a <-> b
  auto order = StableTopologicalOrder(graph);
  ASSERT_FALSE(order.ok());
  EXPECT_THAT(order.status().message(), HasSubstr("main graph has a cycle through Neg '"));
  EXPECT_THAT(order.status().message(), ::testing::Not(HasSubstr("tail")));
}

TEST(StableTopologicalOrderTest, CapturesOrderTheOwningNode) {
  Graph graph;
  Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kBool));
  Node* if_node = graph.CreateNode("If", {x}, 1);
  Node* producer = graph.CreateNode("Neg", {x}, 1);  // used only inside the branch
  auto body = std::make_unique<Graph>();
  Graph* raw = body.get();
  if_node->SetAttribute(Attribute::GraphValue("then_branch", std::move(body)));
  Node* inner = raw->CreateNode("Abs", {producer->output(0)}, 1);
  raw->AddOutput(inner->output(0));
  EXPECT_EQ(CapturedValues(*if_node), std::vector<Value*>{producer->output(0)});
  auto order = StableTopologicalOrder(graph);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(*order, (std::vector<Node*>{producer, if_node}));
  EXPECT_EQ(GraphDebugName(*raw), "graph '' of If (output 'If_out0')");
}

}  // namespace
}  // namespace onnx_opt
