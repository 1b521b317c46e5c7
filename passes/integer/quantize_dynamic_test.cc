#include "passes/integer/quantize_dynamic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ir/text/text.h"
#include "passes/core/utils.h"
#include "passes/test_util.h"

namespace onnx_opt {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Model> Parse(const std::string& text) {
  absl::StatusOr<std::unique_ptr<Model>> m = ParseModel(text, "test.onnxtxt");
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

Node* Find(Graph& g, std::string_view op) {
  for (const auto& n : g.nodes()) {
    if (n->op_type == op) return n.get();
  }
  return nullptr;
}

std::vector<float> Floats(const Value* v) { return *GetConstantTensor(v)->ToFloats(); }
std::vector<int64_t> Ints(const Value* v) { return *GetConstantTensor(v)->ToInt64s(); }

// The arithmetic of the rewritten MatMul, as ONNX defines its ops: DynamicQuantizeLinear of x,
// MatMulInteger with the weight codes and zero points, Cast and the two Muls.
std::vector<float> RunIntegerMatMul(const std::vector<float>& x, int64_t m, int64_t k, int64_t n,
                                    const std::vector<int64_t>& w, int64_t w_zp,
                                    const std::vector<float>& w_scale) {
  float lo = 0, hi = 0;
  for (float v : x) lo = std::min(lo, v), hi = std::max(hi, v);
  const float xs = (hi - lo) / 255.0f;
  const int64_t xz = std::clamp<int64_t>(std::nearbyint(-lo / xs), 0, 255);
  std::vector<float> y(m * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (int64_t t = 0; t < k; ++t) {
        const int64_t q = std::clamp<int64_t>(std::nearbyint(x[i * k + t] / xs) + xz, 0, 255);
        acc += (q - xz) * (w[t * n + j] - w_zp);
      }
      y[i * n + j] = static_cast<float>(acc) * (xs * w_scale[w_scale.size() == 1 ? 0 : j]);
    }
  }
  return y;
}

constexpr char kMatMul[] = R"(<ir_version: 8, opset_import: ["" : 13]>
main (float[2,16] x, float[2,16] x2) => (float[2,4] y, float[2,4] y2)
<float[16,4] w = randn(seed: 3, std: 0.2)>
{
  y = MatMul (x, w)
  y2 = MatMul (x2, w)
}
)";

TEST(QuantizeDynamicTest, MatMulComputesTheProductWithinTheQuantizationError) {
  for (bool is_signed : {false, true}) {
    for (bool per_channel : {true, false}) {
      std::unique_ptr<Model> model = Parse(kMatMul);
      ASSERT_NE(model, nullptr);
      const std::vector<float> w = Floats(model->graph->FindValue("w"));
      DynamicQuantOptions options;
      options.weights_signed = is_signed;
      options.per_channel = per_channel;
      absl::StatusOr<DynamicQuantResult> r = QuantizeDynamic(*model, options);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->matmuls, 2);
      EXPECT_EQ(r->activations, 2);
      EXPECT_EQ(model->graph->FindValue("w"), nullptr);  // the float weight is gone
      Node* mmi = Find(*model->graph, "MatMulInteger");
      ASSERT_NE(mmi, nullptr);
      const std::vector<int64_t> codes = Ints(mmi->input(1));
      const int64_t zp = Ints(mmi->input(3))[0];
      EXPECT_EQ(zp, is_signed ? 0 : 128);
      EXPECT_EQ(GetConstantTensor(mmi->input(1))->type(),
                is_signed ? DataType::kInt8 : DataType::kUint8);
      // The first Mul (a_scale * w_scale) holds the weight scales: max |w| / 127 per column, or
      // over the whole tensor.
      const std::vector<float> ws = Floats(Find(*model->graph, "Mul")->input(1));
      ASSERT_EQ(ws.size(), per_channel ? 4u : 1u);
      for (size_t j = 0; j < ws.size(); ++j) {
        float max_abs = 0;
        for (int64_t t = 0; t < 16; ++t) {
          for (int64_t c = 0; c < 4; ++c) {
            if (!per_channel || c == static_cast<int64_t>(j)) {
              max_abs = std::max(max_abs, std::fabs(w[t * 4 + c]));
            }
          }
        }
        EXPECT_FLOAT_EQ(ws[j], max_abs / 127.0f);
      }
      // Every code reproduces its weight within half a step, inside [zp - 127, zp + 127].
      for (int64_t t = 0; t < 16; ++t) {
        for (int64_t c = 0; c < 4; ++c) {
          const float s = ws[per_channel ? c : 0];
          const int64_t q = codes[t * 4 + c];
          EXPECT_LE(std::fabs((q - zp) * s - w[t * 4 + c]), 0.5f * s + 1e-7f);
          EXPECT_LE(std::abs(q - zp), 127);
        }
      }
      // The integer product agrees with the float one within the error bound of both roundings.
      const std::vector<float> x = testing::UniformFloats(2 * 16, 5, -1.0f, 1.0f);
      const std::vector<float> y = RunIntegerMatMul(x, 2, 16, 4, codes, zp, ws);
      for (int64_t i = 0; i < 2; ++i) {
        for (int64_t j = 0; j < 4; ++j) {
          double exact = 0;
          for (int64_t t = 0; t < 16; ++t) exact += x[i * 16 + t] * w[t * 4 + j];
          EXPECT_NEAR(y[i * 4 + j], exact, 0.05) << i << "," << j;
        }
      }
    }
  }
}

TEST(QuantizeDynamicTest, ConvKeepsAttributesAndAddsTheBiasPerChannel) {
  std::unique_ptr<Model> model = Parse(R"(<ir_version: 8, opset_import: ["" : 13]>
main (float[1,2,5,5] x) => (float[1,3,3,3] y)
<float[3,2,3,3] w = randn(seed: 4, std: 0.3), float[3] b = {0.5, -1.0, 2.0}>
{
  y = Conv <strides = [2, 2], pads = [1, 1, 1, 1]> (x, w, b)
}
)");
  ASSERT_NE(model, nullptr);
  absl::StatusOr<DynamicQuantResult> r = QuantizeDynamic(*model, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->convs, 1);
  Node* conv = Find(*model->graph, "ConvInteger");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->GetInts("strides"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(conv->GetInts("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(conv->input(0)->producer()->op_type, "DynamicQuantizeLinear");
  Node* add = Find(*model->graph, "Add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->output(0)->name(), "y");
  EXPECT_EQ(GetConstantTensor(add->input(1))->dims(), (std::vector<int64_t>{1, 3, 1, 1}));
  EXPECT_EQ(Floats(add->input(1)), (std::vector<float>{0.5f, -1.0f, 2.0f}));
  EXPECT_EQ(model->graph->FindValue("b"), nullptr);
}

TEST(QuantizeDynamicTest, SkipsWhatTheIntegerOpsCannotTakeAndNeedsOpset11) {
  std::unique_ptr<Model> model = Parse(R"(<ir_version: 8, opset_import: ["" : 13]>
main (float[2,16] x, float[16,4] w) => (float[2,4] y)
{
  y = MatMul (x, w)
}
)");
  ASSERT_NE(model, nullptr);
  absl::StatusOr<DynamicQuantResult> r = QuantizeDynamic(*model, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->skipped, 1);  // the weight is a graph input
  EXPECT_EQ(r->matmuls, 0);

  std::unique_ptr<Model> old = Parse(R"(<ir_version: 5, opset_import: ["" : 10]>
main (float[2,16] x) => (float[2,4] y)
<float[16,4] w = randn(seed: 3)>
{
  y = MatMul (x, w)
}
)");
  ASSERT_NE(old, nullptr);
  absl::StatusOr<DynamicQuantResult> e = QuantizeDynamic(*old, {});
  EXPECT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("opset is 10"));
  DynamicQuantOptions bad;
  bad.op_types = {"Gemm"};
  EXPECT_FALSE(QuantizeDynamic(*model, bad).ok());
}

}  // namespace
}  // namespace onnx_opt
