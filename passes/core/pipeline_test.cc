#include "passes/core/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/str_cat.h"
#include "passes/core/pass_manager.h"

namespace onnx_opt {
namespace {

using ::testing::HasSubstr;

class QuantLikePass : public Pass {
 public:
  QuantLikePass() { bits.Range(2, 8); }
  std::string_view name() const override { return "quant-like"; }
  std::string_view summary() const override { return "test"; }
  absl::Status ValidateOptions() const override {
    if (format.value() == "qdq-axis" && bits.value() != 8) {
      return absl::InvalidArgumentError("format=qdq-axis needs bits=8");
    }
    return absl::OkStatus();
  }
  PassOption<int64_t> bits{this, "bits", "bits", 8};
  PassOption<std::string> format{this, "format", "format", "qdq", {"qdq", "qdq-axis"}};
  PassOption<std::vector<std::string>> ops{this, "ops", "ops", {}};
  PassOption<std::string> note{this, "note", "free text", ""};
  PassOption<double> scale{this, "scale", "a number", 1.0};
};

class PlainPass : public Pass {
 public:
  std::string_view name() const override { return "plain"; }
  std::string_view summary() const override { return "no options"; }
};

PassRegistry TestRegistry() {
  PassRegistry registry;
  (void)registry.Register([] { return std::make_unique<QuantLikePass>(); });
  (void)registry.Register([] { return std::make_unique<PlainPass>(); });
  return registry;
}

std::string RoundTrip(std::string_view text) {
  PassRegistry registry = TestRegistry();
  auto passes = ParsePipeline(text, registry);
  if (!passes.ok()) return std::string(passes.status().message());
  return PrintPipeline(*passes);
}

TEST(PipelineTest, CanonicalTextRoundTrips) {
  for (const char* text : {
           "plain",
           "plain,plain",
           "quant-like",
           "quant-like{bits=4}",
           "quant-like{bits=8,format=qdq-axis,ops=MatMul,Gemm}",
           "plain,quant-like{ops=Conv,scale=0.125},plain",
           "quant-like{ops=MatMul}",
           "quant-like{note=\"a,b=c {x}\"}",
           "quant-like{note=\"say \\\"hi\\\"\"}",
           "quant-like{ops=\"odd,item\",Gemm}",
           "",
       }) {
    EXPECT_EQ(RoundTrip(text), text);
  }
}

TEST(PipelineTest, ParsesListsAndSpacing) {
  PassRegistry registry = TestRegistry();
  auto passes =
      ParsePipeline(" quant-like { bits = 4 , ops = MatMul , Gemm , scale=2 } , plain ", registry);
  ASSERT_TRUE(passes.ok()) << passes.status();
  ASSERT_EQ(passes->size(), 2u);
  auto* q = static_cast<QuantLikePass*>((*passes)[0].get());
  EXPECT_EQ(q->bits.value(), 4);
  EXPECT_EQ(q->ops.value(), (std::vector<std::string>{"MatMul", "Gemm"}));
  EXPECT_EQ(q->scale.value(), 2.0);
  EXPECT_EQ(PrintPipeline(*passes), "quant-like{bits=4,ops=MatMul,Gemm,scale=2},plain");
  // Printing follows declaration order.
  EXPECT_EQ(RoundTrip("quant-like{scale=2,bits=3}"), "quant-like{bits=3,scale=2}");
  EXPECT_EQ(RoundTrip("quant-like{}"), "quant-like");
}

TEST(PipelineTest, Errors) {
  EXPECT_THAT(RoundTrip("cse"), HasSubstr("unknown pass 'cse'; valid passes: quant-like, plain"));
  EXPECT_THAT(RoundTrip("quant-like{bitz=4}"),
              HasSubstr("quant-like: unknown option 'bitz'; valid options: bits, format, ops, "
                        "note, scale"));
  EXPECT_THAT(RoundTrip("plain{x=1}"),
              HasSubstr("plain: unknown option 'x'; the pass has no options"));
  EXPECT_THAT(RoundTrip("quant-like{bits=9}"),
              HasSubstr("quant-like: option 'bits' expects an integer in [2, 8], got '9'"));
  EXPECT_THAT(RoundTrip("quant-like{format=int4}"),
              HasSubstr("quant-like: option 'format' expects one of qdq, qdq-axis; got 'int4'"));
  EXPECT_THAT(RoundTrip("quant-like{bits=4,5}"), HasSubstr("option 'bits' takes one value"));
  EXPECT_THAT(RoundTrip("quant-like{bits=4,bits=5}"), HasSubstr("option 'bits' is given twice"));
  EXPECT_THAT(RoundTrip("quant-like{bits=4"), HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(RoundTrip("quant-like{bits}"), HasSubstr("expected '=' after option 'bits'"));
  EXPECT_THAT(RoundTrip("plain plain"), HasSubstr("expected ',' after pass 'plain'"));
  EXPECT_THAT(RoundTrip("plain,"), HasSubstr("expected a pass name at end of pipeline"));
  EXPECT_THAT(RoundTrip("quant-like{note=\"abc}"), HasSubstr("unterminated quoted value"));
  EXPECT_THAT(RoundTrip("quant-like{format=qdq-axis,bits=4}"),
              HasSubstr("quant-like: format=qdq-axis needs bits=8"));
}

TEST(PipelineTest, QuoteOnlyWhenNeeded) {
  EXPECT_EQ(QuotePipelineValue("MatMul"), "MatMul");
  EXPECT_EQ(QuotePipelineValue(""), "\"\"");
  EXPECT_EQ(QuotePipelineValue("a b"), "\"a b\"");
  EXPECT_EQ(QuotePipelineValue("a\"b"), "\"a\\\"b\"");
}

class FailingPass : public Pass {
 public:
  std::string_view name() const override { return "fail"; }
  std::string_view summary() const override { return "always fails"; }
  absl::Status RunOnModel(Model&) override { return absl::InternalError("boom"); }
};

class AddNodePass : public Pass {
 public:
  std::string_view name() const override { return "add-node"; }
  std::string_view summary() const override { return "adds a node"; }
  absl::Status RunOnGraph(Graph& graph, Model&) override {
    graph.CreateNode("Identity", {}, 1);
    ++added;
    return absl::OkStatus();
  }
  PassStatistic added{this, "nodes-added", "Identity nodes added"};
};

TEST(PassManagerTest, StopsAtFailureNamingThePass) {
  Model model;
  model.graph = std::make_unique<Graph>();
  std::ostringstream dump;
  PassManagerOptions options;
  options.dump_stream = &dump;
  options.print_statistics = true;
  options.time_passes = true;
  PassManager pm(options);
  pm.AddPass(std::make_unique<AddNodePass>());
  pm.AddPass(std::make_unique<FailingPass>());
  pm.AddPass(std::make_unique<AddNodePass>());
  absl::Status s = pm.Run(model);
  EXPECT_EQ(s.message(), "fail: boom");
  EXPECT_EQ(model.graph->num_nodes(), 1u);  // the third pass did not run
  EXPECT_THAT(dump.str(), HasSubstr("Pass execution timing report"));
  EXPECT_THAT(dump.str(), HasSubstr("1 nodes-added - Identity nodes added"));
  EXPECT_EQ(pm.timings().size(), 2u);
}

TEST(PassManagerTest, VerifierFailureNamesThePass) {
  Model model;
  model.graph = std::make_unique<Graph>();
  PassManagerOptions options;
  options.verifier = [](const Model& m) {
    return m.graph->num_nodes() > 1 ? absl::InvalidArgumentError("too many nodes")
                                    : absl::OkStatus();
  };
  PassManager pm(options);
  pm.AddPass(std::make_unique<AddNodePass>());
  pm.AddPass(std::make_unique<AddNodePass>());
  absl::Status s = pm.Run(model);
  EXPECT_EQ(s.message(), "add-node: produced an invalid model: too many nodes");

  Model model2;
  model2.graph = std::make_unique<Graph>();
  options.verify_each = false;
  PassManager unchecked(options);
  unchecked.AddPass(std::make_unique<AddNodePass>());
  unchecked.AddPass(std::make_unique<AddNodePass>());
  EXPECT_TRUE(unchecked.Run(model2).ok());
}

TEST(PassManagerTest, PrintsIrBeforeAndAfterSelectedPasses) {
  Model model;
  model.graph = std::make_unique<Graph>();
  std::ostringstream dump;
  PassManagerOptions options;
  options.dump_stream = &dump;
  options.print_ir_after = {"add-node"};
  options.print_ir_before = {"plain"};
  options.printer = [](const Model& m) { return absl::StrCat("nodes=", m.graph->num_nodes()); };
  PassManager pm(options);
  pm.AddPass(std::make_unique<AddNodePass>());
  pm.AddPass(std::make_unique<PlainPass>());
  ASSERT_TRUE(pm.Run(model).ok());
  EXPECT_EQ(dump.str(),
            "// -----// IR Dump After add-node //----- //\nnodes=1\n"
            "// -----// IR Dump Before plain //----- //\nnodes=1\n");
}

}  // namespace
}  // namespace onnx_opt
