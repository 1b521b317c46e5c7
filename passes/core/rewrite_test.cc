#include "passes/core/rewrite.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace onnx_opt {
namespace {

using ::testing::HasSubstr;

// Identity(x) -> x.
class RemoveIdentity : public RewritePattern {
 public:
  std::string_view name() const override { return "remove-identity"; }
  std::string_view root_op_type() const override { return "Identity"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (node.output(0)->is_graph_output()) return false;
    rewriter.ReplaceAllUsesWith(node.output(0), node.input(0));
    if (absl::Status s = rewriter.EraseNode(&node); !s.ok()) return s;
    return true;
  }
};

// Neg(Neg(x)) -> Identity(x): creates a node that the other pattern then removes.
class DoubleNegToIdentity : public RewritePattern {
 public:
  std::string_view name() const override { return "double-neg"; }
  std::string_view root_op_type() const override { return "Neg"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    Node* inner = node.input(0)->producer();
    if (inner == nullptr || !inner->Is("Neg")) return false;
    Node* identity = rewriter.CreateNodeBefore(&node, "Identity", {inner->input(0)}, 1);
    rewriter.ReplaceAllUsesWith(node.output(0), identity->output(0));
    if (absl::Status s = rewriter.EraseNode(&node); !s.ok()) return s;
    if (!inner->output(0)->has_uses()) {
      if (absl::Status s = rewriter.EraseNode(inner); !s.ok()) return s;
    }
    return true;
  }
};

// Flips an attribute forever: never converges.
class Flip : public RewritePattern {
 public:
  std::string_view name() const override { return "flip"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    node.SetAttribute(Attribute::Int("flag", 1 - node.GetInt("flag").value_or(0)));
    rewriter.NotifyChanged(&node);
    return true;
  }
};

class Failing : public RewritePattern {
 public:
  std::string_view name() const override { return "failing"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter&) override {
    return absl::InvalidArgumentError("bad node");
  }
};

std::vector<std::unique_ptr<RewritePattern>> Patterns() {
  std::vector<std::unique_ptr<RewritePattern>> patterns;
  patterns.push_back(std::make_unique<RemoveIdentity>());
  patterns.push_back(std::make_unique<DoubleNegToIdentity>());
  return patterns;
}

TEST(RewriteTest, ReachesFixpointThroughCreatedNodes) {
  Graph graph;
  Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kFloat));
  Node* n1 = graph.CreateNode("Neg", {x}, 1);
  Node* n2 = graph.CreateNode("Neg", {n1->output(0)}, 1);
  Node* n3 = graph.CreateNode("Neg", {n2->output(0)}, 1);
  Node* n4 = graph.CreateNode("Neg", {n3->output(0)}, 1);
  Node* abs = graph.CreateNode("Abs", {n4->output(0)}, 1);
  graph.AddOutput(abs->output(0));
  auto changed = ApplyPatternsGreedily(graph, Patterns());
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  ASSERT_EQ(graph.num_nodes(), 1u);
  EXPECT_EQ(graph.nodes().front()->op_type, "Abs");
  EXPECT_EQ(graph.nodes().front()->input(0), x);

  auto again = ApplyPatternsGreedily(graph, Patterns());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST(RewriteTest, VisitsSubgraphs) {
  Graph graph;
  Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kFloat));
  Node* loop = graph.CreateNode("If", {x}, 1);
  auto body = std::make_unique<Graph>();
  Graph* raw_body = body.get();
  loop->SetAttribute(Attribute::GraphValue("then_branch", std::move(body)));
  Node* id = raw_body->CreateNode("Identity", {x}, 1);
  Node* abs = raw_body->CreateNode("Abs", {id->output(0)}, 1);
  raw_body->AddOutput(abs->output(0));
  graph.AddOutput(loop->output(0));
  auto changed = ApplyPatternsGreedily(graph, Patterns());
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  ASSERT_EQ(raw_body->num_nodes(), 1u);
  EXPECT_EQ(raw_body->nodes().front()->input(0), x);
}

TEST(RewriteTest, CapIsAnError) {
  Graph graph;
  Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kFloat));
  graph.AddOutput(graph.CreateNode("Abs", {x}, 1)->output(0));
  std::vector<std::unique_ptr<RewritePattern>> patterns;
  patterns.push_back(std::make_unique<Flip>());
  GreedyRewriteConfig config;
  config.max_rewrites = 50;
  auto result = ApplyPatternsGreedily(graph, patterns, config);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("exceeded 50 rewrites"));
}

TEST(RewriteTest, PatternErrorNamesPatternAndNode) {
  Graph graph;
  Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kFloat));
  Node* abs = graph.CreateNode("Abs", {x}, 1);
  abs->name = "a1";
  graph.AddOutput(abs->output(0));
  std::vector<std::unique_ptr<RewritePattern>> patterns;
  patterns.push_back(std::make_unique<Failing>());
  auto result = ApplyPatternsGreedily(graph, patterns);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "pattern 'failing' on Abs 'a1': bad node");
}

}  // namespace
}  // namespace onnx_opt

namespace onnx_opt {
namespace {

TEST(RewriteTest, ErasesDeadNodesOnlyWhenAsked) {
  for (bool erase : {false, true}) {
    Graph graph;
    Value* x = graph.AddInput("x", ValueType::Tensor(DataType::kFloat));
    Node* dead1 = graph.CreateNode("Neg", {x}, 1);
    graph.CreateNode("Neg", {dead1->output(0)}, 1);  // dead, and makes dead1 dead once gone
    Node* live = graph.CreateNode("Abs", {x}, 1);
    graph.AddOutput(live->output(0));
    GreedyRewriteConfig config;
    config.erase_dead_nodes = erase;
    std::vector<std::unique_ptr<RewritePattern>> none;
    auto changed = ApplyPatternsGreedily(graph, none, config);
    ASSERT_TRUE(changed.ok()) << changed.status();
    EXPECT_EQ(*changed, erase);
    EXPECT_EQ(graph.num_nodes(), erase ? 1u : 3u);
  }
}

}  // namespace
}  // namespace onnx_opt
