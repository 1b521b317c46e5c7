// The verifier: each structural error is reported in one line naming the node, value or tensor.
#include "ir/verifier.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>

#include "gtest/gtest.h"
#include "ir/onnx_io.h"
#include "ir/test_util.h"

namespace onnx_opt {
namespace {

using ::onnx_opt::testing::FloatTensor;
using ::onnx_opt::testing::SetTensorType;
using ::onnx_opt::testing::SmallModel;

// Imports without verification, then verifies: "ok" or the error message.
std::string Verify(onnx::ModelProto proto) {
  auto model = ImportModel(std::move(proto), "");
  if (!model.ok()) return "import failed: " + std::string(model.status().message());
  absl::Status s = VerifyModel(**model);
  return s.ok() ? "ok" : std::string(s.message());
}

onnx::NodeProto* AddNode(onnx::GraphProto* g, const std::string& op, const std::string& name,
                         std::vector<std::string> inputs, std::vector<std::string> outputs) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

TEST(Verifier, AcceptsAValidModel) { EXPECT_EQ(Verify(SmallModel()), "ok"); }

TEST(Verifier, UndefinedInput) {
  onnx::ModelProto m = SmallModel();
  m.mutable_graph()->mutable_node(1)->set_input(1, "missing");
  EXPECT_EQ(Verify(m), "Add 'add': input 'missing' is not defined");
}

TEST(Verifier, NodesOutOfTopologicalOrder) {
  onnx::ModelProto m = SmallModel();
  m.mutable_graph()->mutable_node()->SwapElements(0, 1);
  EXPECT_EQ(Verify(m),
            "Add 'add': input 'r' is used before it is defined (nodes not in topological order)");
}

TEST(Verifier, Cycle) {
  onnx::ModelProto m = SmallModel();
  // relu now consumes add's output, which consumes relu's: a cycle.
  m.mutable_graph()->mutable_node(0)->set_input(0, "y");
  EXPECT_EQ(Verify(m), "graph 'small' has a cycle through Relu 'relu'");
}

TEST(Verifier, DuplicateDefinition) {
  onnx::ModelProto m = SmallModel();
  AddNode(m.mutable_graph(), "Neg", "neg", {"x"}, {"r"});
  EXPECT_EQ(Verify(m), "duplicate definition of 'r' in graph 'small' (Neg 'neg')");
  onnx::ModelProto twice = SmallModel();
  *twice.mutable_graph()->add_initializer() = FloatTensor("w", {1}, {0});
  EXPECT_EQ(Verify(twice), "duplicate definition of 'w' in graph 'small' (initializer)");
}

TEST(Verifier, InitializerThatIsAlsoAnInputIsOneDefinition) {
  onnx::ModelProto m = SmallModel();
  SetTensorType(m.mutable_graph()->add_input(), "w", onnx::TensorProto::FLOAT, {2});
  EXPECT_EQ(Verify(m), "ok");
}

TEST(Verifier, DomainNotImported) {
  onnx::ModelProto m = SmallModel();
  m.mutable_graph()->mutable_node(0)->set_domain("com.microsoft");
  EXPECT_EQ(Verify(m),
            "com.microsoft.Relu 'relu': domain 'com.microsoft' is not imported (no opset_import "
            "entry)");
  onnx::ModelProto no_default = SmallModel();
  no_default.mutable_opset_import(0)->set_domain("com.other");
  EXPECT_EQ(Verify(no_default),
            "Relu 'relu': domain 'ai.onnx' is not imported (no opset_import entry)");
  // "ai.onnx" in the imports and on the node is the default domain.
  onnx::ModelProto spelled = SmallModel();
  spelled.mutable_opset_import(0)->set_domain("ai.onnx");
  spelled.mutable_graph()->mutable_node(1)->set_domain("ai.onnx");
  EXPECT_EQ(Verify(spelled), "ok");
}

TEST(Verifier, TensorSizeNotMatchingShape) {
  onnx::ModelProto m = SmallModel();
  m.mutable_graph()->mutable_initializer(0)->add_dims(3);  // [2, 3] needs 24 bytes, has 8
  EXPECT_EQ(Verify(m), "tensor 'w': shape needs 24 bytes of float but 8 are stored");
  onnx::ModelProto attr = SmallModel();
  auto* c = AddNode(attr.mutable_graph(), "Constant", "c", {}, {"c_out"});
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = FloatTensor("k", {3}, {1});
  EXPECT_EQ(Verify(attr),
            "Constant 'c' attribute 'value': tensor 'k': shape needs 12 bytes of float but 4 are "
            "stored");
}

TEST(Verifier, GraphOutputNotProduced) {
  onnx::ModelProto m = SmallModel();
  m.mutable_graph()->mutable_output(0)->set_name("nothing");
  EXPECT_EQ(Verify(m),
            "graph 'small': output 'nothing' is not produced by any node nor a graph input or "
            "initializer");
}

onnx::ModelProto ModelWithIf(const std::string& used_inside) {
  onnx::ModelProto m = SmallModel();
  onnx::GraphProto* g = m.mutable_graph();
  SetTensorType(g->add_input(), "cond", onnx::TensorProto::BOOL, {});
  // The If sits between relu and add.
  onnx::NodeProto* if_node = g->add_node();
  if_node->set_op_type("If");
  if_node->set_name("if");
  if_node->add_input("cond");
  if_node->add_output("z");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = if_node->add_attribute();
    a->set_name(branch);
    a->set_type(onnx::AttributeProto::GRAPH);
    onnx::GraphProto* sub = a->mutable_g();
    sub->set_name(branch);
    AddNode(sub, "Neg", std::string(branch) + "_neg", {used_inside}, {std::string(branch) + "_o"});
    SetTensorType(sub->add_output(), std::string(branch) + "_o", onnx::TensorProto::FLOAT, {2});
  }
  g->mutable_node()->SwapElements(1, 2);
  return m;
}

TEST(Verifier, SubgraphsSeeOuterValuesDefinedBeforeTheirNode) {
  EXPECT_EQ(Verify(ModelWithIf("r")), "ok");
  EXPECT_EQ(Verify(ModelWithIf("y")),
            "Neg 'then_branch_neg': input 'y' is used before it is defined (nodes not in "
            "topological order)");
  // A cycle through a subgraph: add consumes z (from the If) and the If's branch consumes y.
  onnx::ModelProto cyclic = ModelWithIf("y");
  cyclic.mutable_graph()->mutable_node(2)->set_input(1, "z");
  cyclic.mutable_graph()->mutable_initializer()->Clear();
  EXPECT_EQ(Verify(cyclic), "graph 'small' has a cycle through If 'if'");
  // Names of a branch are not visible in the other one.
  onnx::ModelProto cross = ModelWithIf("r");
  cross.mutable_graph()
      ->mutable_node(1)
      ->mutable_attribute(1)
      ->mutable_g()
      ->mutable_node(0)
      ->set_input(0, "then_branch_o");
  EXPECT_EQ(Verify(cross), "Neg 'else_branch_neg': input 'then_branch_o' is not defined");
}

TEST(Verifier, FunctionBodiesUseTheirOwnOpsetImports) {
  onnx::ModelProto m = SmallModel();
  onnx::FunctionProto* f = m.add_functions();
  f->set_name("Twice");
  f->set_domain("local");
  f->add_input("a");
  f->add_output("b");
  onnx::NodeProto* n = f->add_node();
  n->set_op_type("LabelEncoder");
  n->set_domain("ai.onnx.ml");
  n->add_input("a");
  n->add_output("b");
  EXPECT_EQ(Verify(m),
            "function 'local.Twice': ai.onnx.ml.LabelEncoder (output 'b'): domain 'ai.onnx.ml' is "
            "not imported (no opset_import entry)");
  auto* op = f->add_opset_import();
  op->set_domain("ai.onnx.ml");
  op->set_version(3);
  EXPECT_EQ(Verify(m), "ok");
  n->set_input(0, "undefined");
  EXPECT_EQ(Verify(m),
            "function 'local.Twice': ai.onnx.ml.LabelEncoder (output 'b'): input 'undefined' is "
            "not defined");
}

TEST(Verifier, CatchesBrokenEditsMadeThroughTheIr) {
  auto model = ImportModel(SmallModel(), "");
  ASSERT_TRUE(model.ok());
  Graph& g = *(*model)->graph;
  Node* relu = g.nodes().front().get();
  Node* add = g.nodes().back().get();
  // Moving add before relu breaks the order.
  g.MoveBefore(add, relu);
  EXPECT_EQ(VerifyModel(**model).message(),
            "Add 'add': input 'r' is used before it is defined (nodes not in topological order)");
  g.MoveBefore(relu, add);
  EXPECT_TRUE(VerifyModel(**model).ok());
  // A value that nobody defines.
  add->SetInput(1, g.CreateValue("floating"));
  EXPECT_EQ(VerifyModel(**model).message(), "Add 'add': input 'floating' is not defined");
}

// Names come from the file: control characters in them are escaped, the message stays one line
// (found by the model_loader fuzzer: an input name holding a newline).
TEST(Verifier, ControlCharactersInNamesAreEscaped) {
  onnx::ModelProto m = SmallModel();
  m.mutable_graph()->mutable_node(1)->set_input(1, std::string("a\nb\tc\x01\0", 7));
  EXPECT_EQ(Verify(m), "Add 'add': input 'a\\nb\\tc\\x01\\x00' is not defined");
}

// Each subgraph is checked once. Checking every subgraph of a node once per attribute (If has
// then_branch and else_branch) took 2^depth steps: 30 s at depth 25, forever at 40.
TEST(Verifier, DeeplyNestedSubgraphsAreCheckedOnce) {
  constexpr int kDepth = 40;
  onnx::ModelProto m = SmallModel();
  SetTensorType(m.mutable_graph()->add_input(), "c", onnx::TensorProto::BOOL, {});
  auto branch = [](const std::string& name, const std::string& out) {
    onnx::GraphProto g;
    g.set_name(name);
    SetTensorType(g.add_output(), out, onnx::TensorProto::FLOAT, {2});
    return g;
  };
  onnx::GraphProto then_graph =
      branch("then" + std::to_string(kDepth), "o" + std::to_string(kDepth));
  AddNode(&then_graph, "Neg", "innermost", {"x"}, {"o" + std::to_string(kDepth)});
  for (int level = kDepth - 1; level >= 0; --level) {
    const std::string id = std::to_string(level);
    onnx::GraphProto else_graph = branch("else" + id, "e" + id);
    AddNode(&else_graph, "Neg", "else_neg" + id, {"x"}, {"e" + id});
    onnx::GraphProto* owner = m.mutable_graph();
    onnx::GraphProto outer = branch("then" + id, "o" + id);
    if (level > 0) owner = &outer;
    onnx::NodeProto* if_node = AddNode(owner, "If", "if" + id, {"c"}, {"o" + id});
    onnx::AttributeProto* then_attr = if_node->add_attribute();
    then_attr->set_name("then_branch");
    then_attr->set_type(onnx::AttributeProto::GRAPH);
    *then_attr->mutable_g() = std::move(then_graph);
    onnx::AttributeProto* else_attr = if_node->add_attribute();
    else_attr->set_name("else_branch");
    else_attr->set_type(onnx::AttributeProto::GRAPH);
    *else_attr->mutable_g() = std::move(else_graph);
    then_graph = std::move(outer);
  }
  // A hang cannot be interrupted from inside the process: give up after 60 s (a sanitizer build
  // needs well under 1 s) and leave with an error.
  auto verdict = std::async(std::launch::async, [&m] { return Verify(m); });
  if (verdict.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    std::fprintf(stderr, "verifying If nested %d deep did not finish within 60 s\n", kDepth);
    std::_Exit(1);
  }
  EXPECT_EQ(verdict.get(), "ok");
}

}  // namespace
}  // namespace onnx_opt
