#include "passes/core/named_pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/text/text.h"
#include "passes/core/fingerprint.h"
#include "passes/core/pass_manager.h"
#include "passes/core/pipeline.h"
#include "passes/core/registry.h"

namespace onnx_opt {
namespace {

using ::testing::HasSubstr;

// Appends one Neg node per run until `limit` nodes exist: needs several rounds.
class GrowPass : public Pass {
 public:
  std::string_view name() const override { return "grow"; }
  std::string_view summary() const override { return "adds a node per run up to limit"; }
  absl::Status RunOnModel(Model& model) override {
    ++runs;
    Graph& g = *model.graph;
    if (static_cast<int64_t>(g.num_nodes()) >= limit.value()) return absl::OkStatus();
    Value* last = g.outputs()[0];
    Node* neg = g.CreateNode("Neg", {last}, 1);
    g.SetOutput(0, neg->output(0));
    return absl::OkStatus();
  }
  PassOption<int64_t> limit{this, "limit", "node count to reach", 3};
  int runs = 0;
};

// Changes nothing, declared idempotent.
class StillPass : public Pass {
 public:
  std::string_view name() const override { return "still"; }
  std::string_view summary() const override { return "changes nothing"; }
  PassConvergence convergence() const override { return PassConvergence::kIdempotent; }
  absl::Status RunOnModel(Model&) override {
    ++runs;
    return absl::OkStatus();
  }
  int runs = 0;
};

std::unique_ptr<Model> OneNodeModel() {
  auto model = ParseModel(R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[2] x) => (float[2] y) { y = Abs (x) })",
                          "test");
  EXPECT_TRUE(model.ok()) << model.status();
  return *std::move(model);
}

PassRegistry TestRegistry() {
  PassRegistry registry;
  EXPECT_TRUE(registry.Register([] { return std::make_unique<GrowPass>(); }).ok());
  EXPECT_TRUE(registry.Register([] { return std::make_unique<StillPass>(); }).ok());
  return registry;
}

TEST(NamedPipelineTest, RunsRoundsUntilNothingChanges) {
  PassRegistry registry = TestRegistry();
  ASSERT_TRUE(registry.RegisterPipeline("grow-all", "test pipeline", "still,grow{limit=4}").ok());
  auto parsed = ParsePipeline("grow-all", registry);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto* pipeline = dynamic_cast<NamedPipelinePass*>((*parsed)[0].get());
  ASSERT_NE(pipeline, nullptr);
  auto model = OneNodeModel();
  ASSERT_TRUE(PassManager().AddPipeline("grow-all", registry).ok());
  PassManager pm;
  pm.AddPass(std::move((*parsed)[0]));
  ASSERT_TRUE(pm.Run(*model).ok());
  EXPECT_EQ(model->graph->num_nodes(), 4u);
  // Rounds 1-3 grow, round 4 changes nothing; `still` is skipped whenever the model is the one
  // it last produced (it runs in round 1 and after each growth).
  auto* grow = dynamic_cast<GrowPass*>(pipeline->nested_passes()[1].get());
  auto* still = dynamic_cast<StillPass*>(pipeline->nested_passes()[0].get());
  EXPECT_EQ(grow->runs, 4);
  EXPECT_EQ(still->runs, 4);
  EXPECT_EQ(PrintPass(*pipeline), "grow-all");
}

TEST(NamedPipelineTest, SkipsAnIdempotentPassOnItsOwnOutput) {
  PassRegistry registry = TestRegistry();
  ASSERT_TRUE(registry.RegisterPipeline("still-twice", "test", "still,still").ok());
  auto pass = registry.Create("still-twice");
  ASSERT_TRUE(pass.ok());
  auto model = OneNodeModel();
  ASSERT_TRUE((*pass)->RunOnModel(*model).ok());
  auto* pipeline = static_cast<NamedPipelinePass*>(pass->get());
  // Round 1 runs both (the second sees the first one's output, not its own); round 2 skips both.
  EXPECT_EQ(static_cast<StillPass*>(pipeline->nested_passes()[0].get())->runs, 1);
  EXPECT_EQ(static_cast<StillPass*>(pipeline->nested_passes()[1].get())->runs, 1);
}

TEST(NamedPipelineTest, FailsWithoutAFixpoint) {
  PassRegistry registry = TestRegistry();
  ASSERT_TRUE(registry.RegisterPipeline("grow-far", "test", "grow{limit=100}").ok());
  PassManager pm;
  ASSERT_TRUE(pm.AddPipeline("grow-far{max-iterations=3}", registry).ok());
  auto model = OneNodeModel();
  absl::Status s = pm.Run(*model);
  EXPECT_THAT(s.message(), HasSubstr("grow-far: no fixpoint after 3 rounds of 'grow{limit=100}'"));
}

TEST(NamedPipelineTest, RegistrationChecksThePipeline) {
  PassRegistry registry = TestRegistry();
  absl::Status unknown = registry.RegisterPipeline("bad", "test", "still,nope");
  EXPECT_THAT(unknown.message(), HasSubstr("pipeline 'bad': unknown pass 'nope'"));
  EXPECT_FALSE(registry.Contains("bad"));
  // A pipeline cannot name itself: it is not registered while its text is parsed.
  EXPECT_FALSE(registry.RegisterPipeline("loop", "test", "loop").ok());
  EXPECT_TRUE(MakeDefaultPassRegistry().Contains("simplify"));
}

TEST(NamedPipelineTest, NestedFailureNamesThePipelineAndPass) {
  PassRegistry registry = TestRegistry();
  ASSERT_TRUE(registry.RegisterPipeline("p", "test", "grow").ok());
  PassManagerOptions options;
  options.verifier = [](const Model& m) {
    return m.graph->num_nodes() > 1 ? absl::InvalidArgumentError("too many nodes")
                                    : absl::OkStatus();
  };
  PassManager pm(options);
  ASSERT_TRUE(pm.AddPipeline("p", registry).ok());
  auto model = OneNodeModel();
  EXPECT_EQ(pm.Run(*model).message(), "p/grow: produced an invalid model: too many nodes");
}

TEST(FingerprintTest, SeesStructureAttributesAndTensorsButNotRebuilds) {
  auto model = OneNodeModel();
  const uint64_t base = ModelFingerprint(*model);
  EXPECT_EQ(ModelFingerprint(*model), base);
  Node* abs = model->graph->nodes().front().get();
  abs->SetAttribute(Attribute::Int("unused", 1));
  const uint64_t with_attr = ModelFingerprint(*model);
  EXPECT_NE(with_attr, base);
  abs->SetAttribute(Attribute::Int("unused", 2));
  EXPECT_NE(ModelFingerprint(*model), with_attr);
  abs->RemoveAttribute("unused");
  EXPECT_EQ(ModelFingerprint(*model), base);
  model->graph->AddInitializer("w", std::make_shared<const Tensor>(Tensor::FromValues<float>(
                                        DataType::kFloat, {1}, std::vector<float>{1.0f})));
  EXPECT_NE(ModelFingerprint(*model), base);
}

}  // namespace
}  // namespace onnx_opt
