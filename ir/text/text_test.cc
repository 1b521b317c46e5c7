#include "ir/text/text.h"

#include <bit>
#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ir/text/tensor_gen.h"

namespace onnx_opt {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::unique_ptr<Model> Parse(std::string_view text) {
  absl::StatusOr<std::unique_ptr<Model>> m = ParseModel(text, "test.onnxtxt");
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

std::string ParseError(std::string_view text) {
  absl::StatusOr<std::unique_ptr<Model>> m = ParseModel(text, "bad.onnxtxt");
  EXPECT_FALSE(m.ok());
  return m.ok() ? "" : std::string(m.status().message());
}

// Canonical text must come back unchanged, and printing is a fixed point.
void ExpectCanonical(std::string_view text) {
  std::unique_ptr<Model> m = Parse(text);
  ASSERT_NE(m, nullptr);
  std::string printed = PrintModel(*m);
  EXPECT_EQ(printed, text);
  std::unique_ptr<Model> again = Parse(printed);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(PrintModel(*again), printed);
}

const Value* Find(const Model& m, std::string_view name) { return m.graph->FindValue(name); }

TEST(TextRoundTrip, ModelHeaderAllFields) {
  ExpectCanonical(R"(<
  ir_version: 10,
  opset_import: ["" : 21, "com.microsoft" : 1],
  producer_name: "onnx-opt",
  producer_version: "0.1",
  domain: "ai.test",
  model_version: 3,
  doc_string: "two\nlines \"quoted\" \\ tab\t bell\x07",
  metadata_props: ["k": "v", "empty": ""]
>
g () => ()
{
}
)");
  auto m = Parse(R"(<ir_version: 10, opset_import: ["" : 21], model_version: 0,
                    doc_string: "a\nb\x07"> g () => () {})");
  EXPECT_EQ(m->ir_version, 10);
  EXPECT_TRUE(m->has_model_version);
  EXPECT_EQ(m->doc_string, "a\nb\x07");
  EXPECT_EQ(m->OpsetVersion(""), 21);
}

TEST(TextRoundTrip, GraphInputsOutputsInitializersValueInfo) {
  ExpectCanonical(R"(<
  ir_version: 10,
  opset_import: ["" : 21]
>
main (float[N,3] X, int64[2] shape = {1, 3}) => (float[N,3] Y, float[?,3] Z)
<
  float[2] W = {1.0, -2.5},
  float[N,3] T
>
{
  T = Relu (X)
  Y = Add (T, W)
  Z = Reshape (Y, shape)
}
)");
  auto m = Parse(R"(main (float[N,3] X, int64[2] shape = {1, 3}) => (float[N,3] Y)
                    <float[2] W = {1.0, -2.5}, float[N,3] T> { T = Relu(X) Y = Add(T, W) })");
  const Graph& g = *m->graph;
  ASSERT_EQ(g.inputs().size(), 2u);
  EXPECT_TRUE(g.inputs()[1]->is_initializer());
  ASSERT_EQ(g.initializers().size(), 2u);
  const Value* t = Find(*m, "T");
  EXPECT_TRUE(t->in_value_info);
  EXPECT_EQ(t->type, ValueType::Tensor(DataType::kFloat,
                                       std::vector<Dim>{Dim::Symbolic("N"), Dim::Fixed(3)}));
  ASSERT_EQ(t->uses().size(), 1u);
  EXPECT_EQ(t->uses()[0].node->op_type, "Add");
  EXPECT_EQ(Find(*m, "W")->initializer()->CopyValues<float>(), (std::vector<float>{1.0f, -2.5f}));
}

TEST(TextRoundTrip, NodesLabelsDomainsAbsentValuesQuotedNames) {
  ExpectCanonical(R"(<
  opset_import: ["" : 21, "com.microsoft" : 1]
>
"my graph" (float[N,8] "/model/in:0", float[4] scales) => (float Y)
{
  ["/model/conv1/Conv"] "onnx::Conv_123" = Relu ("/model/in:0")
  R = Resize ("onnx::Conv_123", , scales)
  S = Resize (R, "")
  A, "", C = Split <axis = 1, num_outputs = 3> (S)
  [n2] Y = com.microsoft.FusedThing <alpha = 0.5> (A, C)
  = "odd op".Print (Y)
  "float" = Identity (C)
}
)");
  auto m = Parse(R"(g (float[2] X, float[4] s) => () { R = Resize(X, , s) A, "", C = Split(R) })");
  const Node& resize = *m->graph->nodes().front();
  ASSERT_EQ(resize.inputs().size(), 3u);
  EXPECT_EQ(resize.inputs()[1], nullptr);
  const Node& split = *m->graph->nodes().back();
  ASSERT_EQ(split.outputs().size(), 3u);
  EXPECT_EQ(split.outputs()[1], nullptr);
  auto d = Parse(R"(g (float X) => () { Y = ai.onnx.Relu(X) Z = com.microsoft.Foo(Y) })");
  EXPECT_EQ(d->graph->nodes().front()->domain, "");
  EXPECT_EQ(d->graph->nodes().back()->domain, "com.microsoft");
  EXPECT_EQ(d->graph->nodes().back()->op_type, "Foo");
}

TEST(TextRoundTrip, ElementTypesAndShapes) {
  ExpectCanonical(
      R"(g (float16[1,?] a, bfloat16[] b, int4[M] c, uint4 d, float8e4m3fn[2] e, float8e5m2fnuz f, string[3] g, bool[2] h, double[] i, complex64[1] j, uint64 k, float4e2m1[2] l, float[0] m, float[batch,"seq len"] n) => ()
<
  seq(float[N]) o,
  map(int64, optional(float)) p,
  sparse_tensor(float[10,10]) q,
  opaque(com.x, Thing) r,
  opaque() s,
  untyped
>
{
}
)");
  auto m = Parse(R"(g (int4[M] c, double[] i, uint4 d) => () {})");
  EXPECT_EQ(m->graph->inputs()[0]->type.elem_type, DataType::kInt4);
  EXPECT_FALSE(m->graph->inputs()[1]->type.shape.has_value());
  ASSERT_TRUE(m->graph->inputs()[2]->type.shape.has_value());
  EXPECT_TRUE(m->graph->inputs()[2]->type.shape->empty());
}

TEST(TextRoundTrip, AttributesOfEveryKind) {
  ExpectCanonical(R"(g (float[2] X) => (float[2] Y)
{
  Y = Custom <i = -3, f = 0.1, f2 = 1.0, s = "a\"b", ints = [1, -2, 3], floats = [0.5, 1e-07], strings = ["x", ""], t = float[2] {1.0, 2.0}, tn = int64 name {7}, ts = [int32[1] {1}, float16[2] {0.5, -inf}], empty: ints = [], emptyf: floats = [], sp: sparse_tensor = hex"0a0b", tps: type_protos = [hex"", hex"ff"]> (X)
}
)");
  auto m = Parse(R"(g (float X) => () { Y = Custom <axis: int = 0, alpha: float = 2, l = [1, 2.5],
                                                     t = float[2] randn(seed: 1)> (X) })");
  const Node& n = *m->graph->nodes().front();
  EXPECT_EQ(n.GetInt("axis"), 0);
  EXPECT_EQ(n.FindAttribute("alpha")->type, AttrType::kFloat);
  EXPECT_EQ(n.GetFloat("alpha"), 2.0f);
  EXPECT_EQ(n.FindAttribute("l")->type, AttrType::kFloats);
  EXPECT_EQ(std::get<std::vector<float>>(n.FindAttribute("l")->value),
            (std::vector<float>{1.0f, 2.5f}));
  EXPECT_EQ(std::get<TensorPtr>(n.FindAttribute("t")->value)->num_elements(), 2);
  // Attributes may also follow the inputs.
  auto after = Parse(R"(g (float X) => () { Y = Split(X) <axis = 1> })");
  EXPECT_EQ(after->graph->nodes().front()->GetInt("axis"), 1);
}

TEST(TextRoundTrip, FloatAttributesAreBitExact) {
  const float values[] = {0.1f,
                          1.0f / 3.0f,
                          -0.0f,
                          std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(),
                          123456789.0f,
                          1e-38f};
  Model model;
  model.graph = std::make_unique<Graph>();
  model.graph->name = "g";
  Node* n = model.graph->CreateNode("Custom", {}, 1);
  std::vector<float> list(std::begin(values), std::end(values));
  for (size_t i = 0; i < list.size(); ++i) {
    n->SetAttribute(Attribute::Float("f" + std::to_string(i), list[i]));
  }
  n->SetAttribute(Attribute::Floats("all", list));
  std::string text = PrintModel(model);
  std::unique_ptr<Model> back = Parse(text);
  ASSERT_NE(back, nullptr);
  const Node& m = *back->graph->nodes().front();
  for (size_t i = 0; i < list.size(); ++i) {
    std::optional<float> f = m.GetFloat("f" + std::to_string(i));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(std::bit_cast<uint32_t>(*f), std::bit_cast<uint32_t>(list[i])) << text;
  }
  const auto& all = std::get<std::vector<float>>(m.FindAttribute("all")->value);
  ASSERT_EQ(all.size(), list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint32_t>(all[i]), std::bit_cast<uint32_t>(list[i]));
  }
  EXPECT_EQ(PrintModel(*back), text);
}

// Builds a one-initializer model and checks the printed form and that the bytes survive.
void ExpectTensorBytesSurvive(const Tensor& t, std::string_view expected_data) {
  Model model;
  model.graph = std::make_unique<Graph>();
  model.graph->name = "g";
  model.graph->AddInitializer("w", std::make_shared<Tensor>(t));
  std::string text = PrintModel(model);
  EXPECT_THAT(text, HasSubstr(std::string(expected_data)));
  std::unique_ptr<Model> back = Parse(text);
  ASSERT_NE(back, nullptr);
  ASSERT_EQ(back->graph->initializers().size(), 1u);
  const Tensor& u = *back->graph->initializers()[0]->initializer();
  EXPECT_TRUE(u.ContentEquals(t)) << text;
  EXPECT_EQ(PrintModel(*back), text);
}

TEST(TextTensors, FloatBitPatternsSurvive) {
  std::vector<float> v;
  textgen::SplitMix64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    float f = std::bit_cast<float>(static_cast<uint32_t>(rng.Next()));
    if (std::isnan(f)) f = std::numeric_limits<float>::quiet_NaN();
    v.push_back(f);
  }
  v.push_back(-std::numeric_limits<float>::quiet_NaN());
  v.push_back(-0.0f);
  ExpectTensorBytesSurvive(
      Tensor::FromValues<float>(DataType::kFloat, {static_cast<int64_t>(v.size())}, v), "{");
  std::vector<double> d = {0.1, -1e-310, 1e308, std::numeric_limits<double>::infinity()};
  ExpectTensorBytesSurvive(Tensor::FromValues<double>(DataType::kDouble, {4}, d),
                           "double[4] w = {0.1, -1e-310, 1e+308, inf}");
}

TEST(TextTensors, HalfTypesPrintAsDecimalsAndSurvive) {
  std::vector<uint16_t> all;
  for (uint32_t h = 0; h < 0x10000; h += 7) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) continue;  // NaNs are covered below
    all.push_back(static_cast<uint16_t>(h));
  }
  ExpectTensorBytesSurvive(
      Tensor::FromValues<uint16_t>(DataType::kFloat16, {static_cast<int64_t>(all.size())}, all),
      "{0.0, ");
  ExpectTensorBytesSurvive(
      Tensor::FromValues<uint16_t>(DataType::kBFloat16, {static_cast<int64_t>(all.size())}, all),
      "{0.0, ");
  std::vector<uint16_t> halves = {0x3C00, 0xBC00, 0x7E00, 0x3555};
  ExpectTensorBytesSurvive(Tensor::FromValues<uint16_t>(DataType::kFloat16, {4}, halves),
                           "float16[4] w = {1.0, -1.0, nan, 0.33325195}");
}

TEST(TextTensors, HexFallbackKeepsBytesThatDecimalsCannot) {
  std::vector<uint32_t> payload_nan = {0x7FC00001u, 0x3F800000u};
  ExpectTensorBytesSurvive(Tensor::FromValues<uint32_t>(DataType::kFloat, {2}, payload_nan),
                           "float[2] w = hex\"0100c07f0000803f\"");
  std::vector<uint8_t> odd_bool = {1, 2};
  ExpectTensorBytesSurvive(Tensor::FromValues<uint8_t>(DataType::kBool, {2}, odd_bool),
                           "bool[2] w = hex\"0102\"");
  std::vector<uint8_t> padded = {0x21, 0xF3};  // 3 int4 values, padding nibble 0xF used
  ExpectTensorBytesSurvive(Tensor::FromValues<uint8_t>(DataType::kInt4, {3}, padded),
                           "int4[3] w = hex\"21f3\"");
  std::vector<uint8_t> f8 = {0x00, 0x7F, 0x80};
  ExpectTensorBytesSurvive(Tensor::FromValues<uint8_t>(DataType::kFloat8E4M3FN, {3}, f8),
                           "float8e4m3fn[3] w = hex\"007f80\"");
}

TEST(TextTensors, IntegerTypesAndStrings) {
  std::vector<int64_t> i64 = {std::numeric_limits<int64_t>::min(), -1, 0,
                              std::numeric_limits<int64_t>::max()};
  ExpectTensorBytesSurvive(Tensor::FromValues<int64_t>(DataType::kInt64, {2, 2}, i64),
                           "int64[2,2] w = {-9223372036854775808, -1, 0, 9223372036854775807}");
  std::vector<uint64_t> u64 = {std::numeric_limits<uint64_t>::max()};
  ExpectTensorBytesSurvive(Tensor::FromValues<uint64_t>(DataType::kUint64, {1}, u64),
                           "uint64[1] w = {18446744073709551615}");
  std::vector<int8_t> i8 = {-128, 127};
  ExpectTensorBytesSurvive(Tensor::FromValues<int8_t>(DataType::kInt8, {2}, i8),
                           "int8[2] w = {-128, 127}");
  std::vector<uint8_t> u4 = {0xF0, 0x07};
  ExpectTensorBytesSurvive(Tensor::FromValues<uint8_t>(DataType::kUint4, {3}, u4),
                           "uint4[3] w = {0, 15, 7}");
  ExpectTensorBytesSurvive(Tensor::FromStrings({2}, {"a\"b", "\n"}),
                           "string[2] w = {\"a\\\"b\", \"\\n\"}");
  std::vector<float> scalar = {4.0f};
  ExpectTensorBytesSurvive(Tensor::FromValues<float>(DataType::kFloat, {}, scalar),
                           "float w = {4.0}");
}

TEST(TextTensors, HexInt4ParsesAsRawBytes) {
  auto m = Parse(R"(g () => () <int4[5] q = hex"8f3a01"> {})");
  const Tensor& t = *m->graph->initializers()[0]->initializer();
  EXPECT_EQ(t.CopyValues<uint8_t>(), (std::vector<uint8_t>{0x8F, 0x3A, 0x01}));
  auto ints = t.ToInt64s();
  ASSERT_TRUE(ints.ok());
  EXPECT_EQ(*ints, (std::vector<int64_t>{-1, -8, -6, 3, 1}));
  EXPECT_THAT(PrintModel(*m), HasSubstr("int4[5] q = {-1, -8, -6, 3, 1}"));
  auto d = Parse(R"(g () => () <int4[3] q = {-8, 7, 0}> {})");
  EXPECT_EQ(d->graph->initializers()[0]->initializer()->CopyValues<uint8_t>(),
            (std::vector<uint8_t>{0x78, 0x00}));
}

TEST(TextTensors, GeneratedContentsAreReproducible) {
  auto m = Parse(R"(g () => () <float[256,256] W = randn(seed: 7, mean: 0, std: 0.05),
                                float[3] U = uniform(seed: 3, low: -1, high: 2),
                                int32[4] A = arange(start: 5, step: -2),
                                float16[2] C = constant(0.1),
                                bfloat16[2] B = constant(value: 0.1),
                                float[3] P = randn(7, 0, 0.05),
                                int4[3] Q = arange(-1)> {})");
  ASSERT_NE(m, nullptr);
  const Graph& g = *m->graph;
  const Tensor& w = *g.FindValue("W")->initializer();
  ASSERT_EQ(w.num_elements(), 65536);
  // Reference bits from an independent transcription of the documented formula.
  std::vector<float> first(w.values<float>().begin(), w.values<float>().begin() + 6);
  const uint32_t expected[] = {0xbb08c754, 0xbc15fab4, 0x3d3380df,
                               0x3c149484, 0xbc7aab00, 0xbda51610};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(std::bit_cast<uint32_t>(first[i]), expected[i]) << i;
  auto p = g.FindValue("P")->initializer()->CopyValues<float>();
  EXPECT_EQ(std::bit_cast<uint32_t>(p[2]), expected[2]);
  auto u = g.FindValue("U")->initializer()->CopyValues<uint32_t>();
  EXPECT_EQ(u, (std::vector<uint32_t>{0xbf28dec1, 0x3f8ce9a7, 0x3f56c3ba}));
  EXPECT_EQ(g.FindValue("A")->initializer()->CopyValues<int32_t>(),
            (std::vector<int32_t>{5, 3, 1, -1}));
  EXPECT_EQ(g.FindValue("C")->initializer()->CopyValues<uint16_t>(),
            (std::vector<uint16_t>{0x2E66, 0x2E66}));
  EXPECT_EQ(g.FindValue("B")->initializer()->CopyValues<uint16_t>(),
            (std::vector<uint16_t>{0x3DCD, 0x3DCD}));
  EXPECT_EQ(*g.FindValue("Q")->initializer()->ToInt64s(), (std::vector<int64_t>{-1, 0, 1}));
  // Same text, same bytes.
  auto again = Parse(R"(g () => () <float[256,256] W = randn(seed: 7, mean: 0, std: 0.05)> {})");
  EXPECT_TRUE(again->graph->FindValue("W")->initializer()->ContentEquals(w));
}

TEST(TextTensors, ElisionPrintsTypeShapeAndHash) {
  auto m = Parse(R"(g () => () <float[2,3] W = arange(), float[2] S = {1.0, 2.0}> {})");
  PrintOptions options;
  options.elide_tensors_larger_than = 4;
  std::string text = PrintModel(*m, options);
  char hash[32];
  std::snprintf(
      hash, sizeof(hash), "0x%016llx",
      static_cast<unsigned long long>(m->graph->FindValue("W")->initializer()->ContentHash()));
  EXPECT_THAT(text,
              HasSubstr(std::string("float[2,3] W = <elided 6 elements, hash ") + hash + ">"));
  EXPECT_THAT(text, HasSubstr("float[2] S = {1.0, 2.0}"));
  std::string error = ParseError(text);
  EXPECT_THAT(error, StartsWith("bad.onnxtxt:3:18: "));
  EXPECT_THAT(error, HasSubstr("elided"));
}

TEST(TextRoundTrip, SubgraphsReferenceOuterValues) {
  ExpectCanonical(R"(<
  opset_import: ["" : 21]
>
g (bool c, float[2] X, int64 n) => (float[2] Y, float[2] L)
<
  float[2] W = {1.0, 2.0}
>
{
  Y = If (c) <then_branch = then_g () => (float[2] a)
    {
      a = Add (X, W)
    }, else_branch = else_g () => (float[2] b)
    {
      b = Identity (X)
    }>
  L = Loop (n, , X) <body = body (int64 i, bool cond, float[2] acc) => (bool cond_out, float[2] acc_out)
    <
      float[2] t
    >
    {
      cond_out = Identity (cond)
      t = Add (acc, W)
      acc_out = If (cond) <then_branch = inner () => (float[2] z)
        {
          z = Mul (t, X)
        }, else_branch = inner2 () => (float[2] z2)
        {
          z2 = Identity (t)
        }>
    }>
}
)");
  auto m = Parse(R"(g (bool c, float[2] X) => (float[2] Y) {
    Y = If (c) <then_branch = t () => (float[2] a) { a = Neg(X) }, else_branch = e () => (X) {}> })");
  const Value* x = m->graph->FindValue("X");
  ASSERT_EQ(x->uses().size(), 1u);
  EXPECT_EQ(x->uses()[0].node->op_type, "Neg");
  Graph* then_g = m->graph->nodes().front()->subgraphs()[0];
  EXPECT_EQ(then_g->parent_node(), m->graph->nodes().front().get());
  EXPECT_EQ(then_g->outputs()[0]->name(), "a");
  Graph* else_g = m->graph->nodes().front()->subgraphs()[1];
  EXPECT_EQ(else_g->outputs()[0], x);
}

TEST(TextRoundTrip, FunctionsAfterTheMainGraph) {
  ExpectCanonical(R"(<
  ir_version: 10,
  opset_import: ["" : 21, "local" : 1]
>
g (float[2] X) => (float[2] Y)
{
  Y = local.Scaled <alpha = 2.0> (X)
}

<
  domain: "local",
  opset_import: ["" : 21],
  doc_string: "scales"
>
Scaled <alpha, beta = 0.5> (x, float[2] extra) => (y)
<
  float t
>
{
  a = Constant <value_float: float = @alpha> ()
  t = Mul (x, a)
  y = Identity (t)
}

Plain (u) => (v)
{
  v = Identity (u)
}
)");
  auto m = Parse(R"(g () => () {} <domain: "d"> F <a, b: int = 1> (x) => (y) { y = Relu(x) })");
  ASSERT_EQ(m->functions.size(), 1u);
  const Function& f = m->functions[0];
  EXPECT_EQ(f.domain, "d");
  EXPECT_EQ(f.attribute_names, (std::vector<std::string>{"a"}));
  ASSERT_EQ(f.attribute_defaults.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(f.attribute_defaults[0].value), 1);
  EXPECT_EQ(f.body->inputs()[0]->name(), "x");
  EXPECT_EQ(f.body->outputs()[0]->producer()->op_type, "Relu");
}

TEST(TextRoundTrip, CommentsAndFreeLayout) {
  auto m = Parse(R"(# a comment
    < ir_version : 9 , opset_import : [ "" : 19 ] >  # trailing
    g(float[N]X)=>(float[N]Y){Y=Relu(X)# here
    })");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->graph->nodes().size(), 1u);
}

TEST(TextPrint, ValueInfoCanBeLeftOut) {
  auto m = Parse(R"(g (float X) => (float Y) <float T> { T = Relu(X) Y = Relu(T) })");
  PrintOptions options;
  options.print_value_info = false;
  EXPECT_EQ(PrintGraph(*m->graph, options),
            "g (float X) => (float Y)\n{\n  T = Relu (X)\n  Y = Relu (T)\n}\n");
  EXPECT_THAT(PrintGraph(*m->graph), HasSubstr("<\n  float T\n>"));
}

// Every truncation of a valid model either parses or fails with a located error; none crashes.
TEST(TextErrors, TruncatedInputNeverCrashes) {
  const std::string text = R"(<ir_version: 10, opset_import: ["" : 21]>
g (float[2] X, int64 n) => (float[2] Y)
<float[2] W = {1.0, 2.0}, int4[3] q = hex"f701", float[4] R = randn(seed: 1), float[2] T>
{
  [lbl] T = Add (X, W)
  Y = Loop (n, , T) <body = b (int64 i, bool c, float[2] a) => (bool c2, float[2] a2) {
    c2 = Identity (c)
    a2 = Mul (a, X)
  }, s = "x\ty", f = [1.0, -inf], e: ints = []>
}
<domain: "d"> F <a, b = 1> (x) => (y) { y = Relu (x) }
)";
  ASSERT_NE(Parse(text), nullptr);
  int failures = 0;
  for (size_t n = 0; n < text.size(); ++n) {
    absl::StatusOr<std::unique_ptr<Model>> m = ParseModel(text.substr(0, n), "cut.onnxtxt");
    if (!m.ok()) {
      ++failures;
      EXPECT_THAT(std::string(m.status().message()), StartsWith("cut.onnxtxt:")) << n;
    }
  }
  EXPECT_GT(failures, static_cast<int>(text.size()) - 5);
}

TEST(TextErrors, ReportFileLineColumn) {
  EXPECT_EQ(ParseError("g (float X) => () {\n  Y = Relu(Z)\n}"),
            "bad.onnxtxt:2:12: value 'Z' is not defined (values must be defined before use)");
  EXPECT_EQ(ParseError("g (float X) => () {\n  X = Relu(X)\n}"),
            "bad.onnxtxt:2:3: value 'X' is already defined");
  EXPECT_EQ(ParseError("g (float X) => () {\n  Y = Relu(X\n}"),
            "bad.onnxtxt:3:1: expected ')' to close the inputs of Relu, found '}'");
  EXPECT_EQ(ParseError("g () => () <float[3] W = {1.0, 2.0}> {}"),
            "bad.onnxtxt:1:26: tensor 'W' has 2 values but its shape holds 3");
  EXPECT_EQ(ParseError("g () => () <int8[1] W = {300}> {}"),
            "bad.onnxtxt:1:26: value 300 is out of range for int8");
  EXPECT_EQ(ParseError("g () => () {\n  Y = C <s = \"abc>()\n}"),
            "bad.onnxtxt:2:14: unterminated string");
  EXPECT_EQ(ParseError("<ir_version: 1, color: 2> g () => () {}"),
            "bad.onnxtxt:1:17: unknown model field 'color'");
  EXPECT_EQ(ParseError("g () => (Y) {}"), "bad.onnxtxt:1:10: graph output 'Y' is not defined");
  EXPECT_EQ(
      ParseError("g () => () { Y = C <p = []> () }"),
      "bad.onnxtxt:1:25: empty list attribute 'p' needs a type annotation (e.g. 'p: ints = []')");
  EXPECT_EQ(ParseError("g () => () <float[2] W = randn(mean: 1)> {}"),
            "bad.onnxtxt:1:26: randn() needs a seed");
  EXPECT_EQ(ParseError("g () => () <float[N] W = {1.0}> {}"),
            "bad.onnxtxt:1:22: tensor 'W' needs a shape with fixed dimensions");
  EXPECT_EQ(ParseError("g () => () <int4[2] W = hex\"0102\"> {}"),
            "bad.onnxtxt:1:25: tensor 'W': hex\"...\" has 2 bytes but int4[2 elements] needs 1");
  EXPECT_EQ(ParseError("g (float 1x) => () {}"),
            "bad.onnxtxt:1:10: invalid number '1x...' (quote names that start with a digit)");
  EXPECT_EQ(ParseError("g () => ()"),
            "bad.onnxtxt:1:11: expected '{' to open the node list, found end of input");
}

}  // namespace
}  // namespace onnx_opt
