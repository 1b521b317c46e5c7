// Use lists and graph edits of the IR.
#include <algorithm>

#include "gtest/gtest.h"
#include "ir/ir.h"

namespace onnx_opt {
namespace {

bool HasUse(const Value* v, const Node* node, int index) {
  return std::find(v->uses().begin(), v->uses().end(), Use{const_cast<Node*>(node), index}) !=
         v->uses().end();
}

TEST(IrMutation, SetInputMaintainsUseLists) {
  Graph g;
  Value* a = g.AddInput("a", ValueType::Tensor(DataType::kFloat));
  Value* b = g.AddInput("b", ValueType::Tensor(DataType::kFloat));
  Node* add = g.CreateNode("Add", {a, a}, 1);
  EXPECT_EQ(a->uses().size(), 2u);
  add->SetInput(1, b);
  EXPECT_EQ(a->uses().size(), 1u);
  EXPECT_TRUE(HasUse(a, add, 0));
  EXPECT_TRUE(HasUse(b, add, 1));
  add->SetInput(3, a);  // grows with an absent input in slot 2
  ASSERT_EQ(add->inputs().size(), 4u);
  EXPECT_EQ(add->input(2), nullptr);
  EXPECT_TRUE(HasUse(a, add, 3));
  add->RemoveInput(1);  // later inputs shift down, their uses follow
  EXPECT_FALSE(b->has_uses());
  EXPECT_TRUE(HasUse(a, add, 2));
  EXPECT_FALSE(HasUse(a, add, 3));
}

TEST(IrMutation, ReplaceAllUsesWithMovesUsesAndGraphOutputs) {
  Graph g;
  Value* x = g.AddInput("x", ValueType::Tensor(DataType::kFloat));
  Node* relu = g.CreateNode("Relu", {x}, 1);
  Node* neg = g.CreateNode("Neg", {relu->output(0)}, 1);
  Node* abs = g.CreateNode("Abs", {relu->output(0)}, 1);
  g.AddOutput(relu->output(0));
  relu->output(0)->ReplaceAllUsesWith(x);
  EXPECT_FALSE(relu->output(0)->has_uses());
  EXPECT_EQ(neg->input(0), x);
  EXPECT_EQ(abs->input(0), x);
  EXPECT_EQ(g.outputs()[0], x);
  EXPECT_EQ(x->uses().size(), 3u);
}

TEST(IrMutation, EraseNodeRefusesUsedOutputsAndRemovesValues) {
  Graph g;
  Value* x = g.AddInput("x", ValueType::Tensor(DataType::kFloat));
  Node* relu = g.CreateNode("Relu", {x}, 1, nullptr, "", {"r"});
  relu->name = "relu";
  Node* neg = g.CreateNode("Neg", {relu->output(0)}, 1);
  absl::Status refused = g.EraseNode(relu);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(), "Relu 'relu': cannot erase, output 'r' is still used");
  ASSERT_TRUE(g.EraseNode(neg).ok());
  ASSERT_TRUE(g.EraseNode(relu).ok());
  EXPECT_EQ(g.num_nodes(), 0u);
  EXPECT_FALSE(x->has_uses());
  EXPECT_EQ(g.FindValue("r"), nullptr);
}

TEST(IrMutation, SubgraphUsesOfOuterValuesAreRecordedAndDropped) {
  Graph g;
  Value* cond = g.AddInput("cond", ValueType::Tensor(DataType::kBool));
  Value* x = g.AddInput("x", ValueType::Tensor(DataType::kFloat));
  Node* if_node = g.CreateNode("If", {cond}, 1);
  auto branch = std::make_unique<Graph>();
  Graph* sub = branch.get();
  if_node->SetAttribute(Attribute::GraphValue("then_branch", std::move(branch)));
  EXPECT_EQ(sub->parent_node(), if_node);
  EXPECT_EQ(sub->parent_graph(), &g);
  EXPECT_EQ(sub->FindValue("x"), x);  // visible through the enclosing graph
  Node* inner = sub->CreateNode("Neg", {x}, 1);
  sub->AddOutput(inner->output(0));
  ASSERT_EQ(x->uses().size(), 1u);
  EXPECT_EQ(x->uses()[0].node, inner);
  // A name of the outer graph is taken inside the subgraph too.
  EXPECT_NE(sub->CreateValue("x")->name(), "x");
  ASSERT_TRUE(if_node->RemoveAttribute("then_branch"));  // destroys the subgraph
  EXPECT_FALSE(x->has_uses());
}

TEST(IrMutation, InitializerThatIsAlsoAnInput) {
  Graph g;
  Value* in = g.AddInput("w", ValueType::Tensor(DataType::kFloat));
  std::vector<float> data = {1, 2};
  auto tensor = std::make_shared<const Tensor>(
      Tensor::FromValues<float>(DataType::kFloat, {2}, std::span<const float>(data)));
  g.SetInputDefault(in, tensor);
  EXPECT_TRUE(in->is_graph_input());
  EXPECT_TRUE(in->is_initializer());
  ASSERT_EQ(g.initializers().size(), 1u);
  EXPECT_EQ(g.initializers()[0], in);
}

}  // namespace
}  // namespace onnx_opt
