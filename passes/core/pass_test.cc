#include "passes/core/pass.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "passes/core/registry.h"

namespace onnx_opt {
namespace {

using ::testing::HasSubstr;

class OptionsPass : public Pass {
 public:
  OptionsPass() {
    bits.Range(2, 8);
    ratio.Range(0.0, 1.0);
  }
  std::string_view name() const override { return "options-pass"; }
  std::string_view summary() const override { return "test pass"; }

  PassOption<bool> flag{this, "flag", "a flag", false};
  PassOption<int64_t> bits{this, "bits", "bit width", 8};
  PassOption<double> ratio{this, "ratio", "a ratio", 0.5};
  PassOption<std::string> format{this, "format", "output format", "qdq", {"qdq", "matmulnbits"}};
  PassOption<std::string> free_text{this, "text", "any text", ""};
  PassOption<std::vector<std::string>> ops{
      this, "ops", "op types", {"MatMul"}, {"MatMul", "Gemm", "Conv"}};
  PassStatistic counter{this, "counter", "things counted"};
};

TEST(PassOptionTest, ParsesEachType) {
  OptionsPass pass;
  ASSERT_TRUE(pass.flag.Parse("true").ok());
  EXPECT_TRUE(pass.flag.value());
  ASSERT_TRUE(pass.flag.Parse("0").ok());
  EXPECT_FALSE(pass.flag.value());
  ASSERT_TRUE(pass.bits.Parse("4").ok());
  EXPECT_EQ(pass.bits.value(), 4);
  ASSERT_TRUE(pass.ratio.Parse("0.25").ok());
  EXPECT_DOUBLE_EQ(pass.ratio.value(), 0.25);
  ASSERT_TRUE(pass.format.Parse("matmulnbits").ok());
  EXPECT_EQ(pass.format.value(), "matmulnbits");
  ASSERT_TRUE(pass.ops.Parse("Conv,Gemm").ok());
  EXPECT_EQ(pass.ops.value(), (std::vector<std::string>{"Conv", "Gemm"}));
  EXPECT_TRUE(pass.ops.is_set());
  EXPECT_FALSE(pass.free_text.is_set());
}

TEST(PassOptionTest, ErrorsNamePassOptionAndAcceptedValues) {
  OptionsPass pass;
  absl::Status s = pass.bits.Parse("9");
  EXPECT_THAT(s.message(), HasSubstr("options-pass: option 'bits'"));
  EXPECT_THAT(s.message(), HasSubstr("[2, 8]"));
  EXPECT_THAT(s.message(), HasSubstr("'9'"));
  EXPECT_FALSE(pass.bits.Parse("four").ok());
  EXPECT_EQ(pass.bits.value(), 8);  // unchanged after a failed parse
  s = pass.flag.Parse("yes");
  EXPECT_THAT(s.message(), HasSubstr("true or false"));
  s = pass.format.Parse("int4");
  EXPECT_THAT(s.message(), HasSubstr("qdq, matmulnbits"));
  s = pass.ops.Parse("MatMul,Relu");
  EXPECT_THAT(s.message(), HasSubstr("'Relu'"));
  EXPECT_THAT(s.message(), HasSubstr("MatMul, Gemm, Conv"));
  EXPECT_FALSE(pass.ratio.Parse("1.5").ok());
  EXPECT_FALSE(pass.ratio.Parse("nan").ok());
  s = pass.bits.ParseItems({"4", "5"});
  EXPECT_THAT(s.message(), HasSubstr("takes one value"));
}

TEST(PassOptionTest, TextRoundTrips) {
  OptionsPass pass;
  EXPECT_EQ(pass.ratio.DefaultText(), "0.5");
  ASSERT_TRUE(pass.ratio.Parse("0.1").ok());
  EXPECT_EQ(pass.ratio.ValueText(), "0.1");
  pass.ratio.set_value(1.0 / 3.0);
  std::string text = pass.ratio.ValueText();
  OptionsPass other;
  ASSERT_TRUE(other.ratio.Parse(text).ok());
  EXPECT_EQ(other.ratio.value(), 1.0 / 3.0);
  EXPECT_EQ(pass.ops.DefaultText(), "MatMul");
  EXPECT_EQ(pass.bits.TypeName(), "int in [2, 8]");
  EXPECT_EQ(pass.format.TypeName(), "qdq|matmulnbits");
  EXPECT_EQ(pass.ops.TypeName(), "list of MatMul|Gemm|Conv");
}

TEST(PassTest, RegistersOptionsAndStatisticsInOrder) {
  OptionsPass pass;
  ASSERT_EQ(pass.options().size(), 6u);
  EXPECT_EQ(pass.options()[0]->name(), "flag");
  EXPECT_EQ(pass.options()[5]->name(), "ops");
  EXPECT_EQ(pass.FindOption("bits"), &pass.bits);
  EXPECT_EQ(pass.FindOption("nope"), nullptr);
  ASSERT_EQ(pass.statistics().size(), 1u);
  ++pass.counter;
  pass.counter += 2;
  EXPECT_EQ(pass.statistics()[0]->value(), 3);
}

class CountGraphsPass : public Pass {
 public:
  std::string_view name() const override { return "count-graphs"; }
  std::string_view summary() const override { return "counts graphs"; }
  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    visited.push_back(graph.name);
    return absl::OkStatus();
  }
  std::vector<std::string> visited;
};

TEST(PassTest, DefaultRunOnModelVisitsSubgraphsAndFunctions) {
  Model model;
  model.graph = std::make_unique<Graph>();
  model.graph->name = "main";
  Value* cond = model.graph->AddInput("cond", ValueType::Tensor(DataType::kBool));
  Node* if_node = model.graph->CreateNode("If", {cond}, 1);
  auto then_graph = std::make_unique<Graph>();
  then_graph->name = "then";
  if_node->SetAttribute(Attribute::GraphValue("then_branch", std::move(then_graph)));
  Function function;
  function.body = std::make_unique<Graph>();
  function.body->name = "fn";
  model.functions.push_back(std::move(function));

  CountGraphsPass pass;
  ASSERT_TRUE(pass.RunOnModel(model).ok());
  EXPECT_EQ(pass.visited, (std::vector<std::string>{"main", "then", "fn"}));
}

TEST(PassRegistryTest, CreatesByNameAndListsValidNamesOnError) {
  PassRegistry registry;
  ASSERT_TRUE(registry.Register([] { return std::make_unique<OptionsPass>(); }).ok());
  ASSERT_TRUE(registry.Register([] { return std::make_unique<CountGraphsPass>(); }).ok());
  EXPECT_FALSE(registry.Register([] { return std::make_unique<CountGraphsPass>(); }).ok());
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"options-pass", "count-graphs"}));
  EXPECT_EQ(registry.entries()[1].summary, "counts graphs");
  auto pass = registry.Create("count-graphs");
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ((*pass)->name(), "count-graphs");
  auto missing = registry.Create("cse");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr("unknown pass 'cse'; valid passes: options-pass, count-graphs"));
}

TEST(PassRegistryTest, BuiltInPassesAreRegistered) {
  PassRegistry registry = MakeDefaultPassRegistry();
  for (const char* name : {"dce", "constants-to-initializers", "dedup-initializers", "topo-sort"}) {
    EXPECT_TRUE(registry.Contains(name)) << name;
  }
  for (const auto& entry : registry.entries()) {
    EXPECT_FALSE(entry.summary.empty()) << entry.name;
  }
}

}  // namespace
}  // namespace onnx_opt
