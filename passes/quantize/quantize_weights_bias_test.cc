// quantize-weights{bias-correction=true}: after quantizing, the per-channel mean of each node's
// output on the calibration data equals the float model's, computed here straight from the
// Conv / Gemm / MatMul definitions on the dequantized model (dequantize-weights).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ir/text/text.h"
#include "passes/core/pass_manager.h"
#include "passes/core/registry.h"
#include "passes/core/utils.h"
#include "passes/test_util.h"

namespace onnx_opt {
namespace {

namespace fs = std::filesystem;
using testing::WriteNpy;

// Inputs with a clear non-zero mean, as post-ReLU activations have.
std::vector<float> Activations(int64_t n, uint32_t seed) {
  return testing::UniformFloats(n, seed, 0, 2);
}

// The values of a constant, looking through the Reshape dequantize-weights leaves for a weight
// quantized in a flattened view (row-major order is the same).
std::vector<float> Floats(const Model& model, const std::string& name) {
  const Value* v = model.graph->FindValue(name);
  if (v != nullptr && v->producer() != nullptr && v->producer()->Is("Reshape")) {
    v = v->producer()->input(0);
  }
  TensorPtr t = GetConstantTensor(v);
  EXPECT_NE(t, nullptr) << name;
  return t ? *t->ToFloats() : std::vector<float>();
}

class BiasCorrectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("bias_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
    RegisterAllPasses(registry_);
  }
  // Parses `text`, writes `x` as the calibration data of value "x", quantizes (int4 b32 asym,
  // GPTQ) with or without bias correction (and `extra` options) and dequantizes again.
  std::unique_ptr<Model> QuantizeDequantize(const std::string& text,
                                            const std::vector<int64_t>& x_dims,
                                            const std::vector<float>& x, bool correct,
                                            const std::string& extra = "") {
    return QuantizeDequantizeSamples(text, x_dims, {x}, correct, extra);
  }
  // The same with several calibration samples of "x" (x0.npy, x1.npy, ...).
  std::unique_ptr<Model> QuantizeDequantizeSamples(const std::string& text,
                                                   const std::vector<int64_t>& x_dims,
                                                   const std::vector<std::vector<float>>& samples,
                                                   bool correct, const std::string& extra) {
    std::string files;
    for (size_t i = 0; i < samples.size(); ++i) {
      const std::string name = absl::StrCat("x", i, ".npy");
      WriteNpy(dir_ / name, x_dims, samples[i]);
      if (i > 0) files += ", ";
      files.append("\"").append(name).append("\"");
    }
    std::ofstream(dir_ / "manifest.json")
        << R"({"format": "onnx-opt-calibration-1", "values": {"x": [)" << files << "]}}";
    absl::StatusOr<std::unique_ptr<Model>> model = ParseModel(text, "t");
    EXPECT_TRUE(model.ok()) << model.status();
    PassManager pm;
    const std::string pipeline =
        "quantize-weights{bits=4,block-size=32,symmetric=false,min-elements=0,calibration=" +
        (dir_ / "manifest.json").string() + (correct ? ",bias-correction=true" : "") + extra +
        "},dequantize-weights";
    absl::Status s = pm.AddPipeline(pipeline, registry_);
    EXPECT_TRUE(s.ok()) << s;
    s = pm.Run(**model);
    EXPECT_TRUE(s.ok()) << s;
    return *std::move(model);
  }
  // The weight of the graph's last node after plain rounding (the same options, no data).
  std::vector<float> PlainlyRoundedWeight(const std::string& text) {
    absl::StatusOr<std::unique_ptr<Model>> model = ParseModel(text, "t");
    EXPECT_TRUE(model.ok()) << model.status();
    PassManager pm;
    EXPECT_TRUE(pm.AddPipeline("quantize-weights{bits=4,block-size=32,symmetric=false,"
                               "min-elements=0},dequantize-weights",
                               registry_)
                    .ok());
    EXPECT_TRUE(pm.Run(**model).ok());
    return Floats(**model, (*model)->graph->nodes().back()->input(1)->name());
  }
  fs::path dir_;
  PassRegistry registry_;
};

// How many values of `a` and `b` differ.
int CountDiffering(const std::vector<float>& a, const std::vector<float>& b) {
  int n = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) n += std::abs(a[i] - b[i]) > 1e-6f;
  return n;
}

// Conv [3, 4, 3, 3], pads 1 (patches at the border read zeros), stride 1, no bias at first.
std::vector<double> ConvChannelMeans(const std::vector<float>& x, const std::vector<float>& w,
                                     const std::vector<float>& b) {
  const int c = 4, h = 6, wd = 5, m = 3;
  std::vector<double> mean(m, 0.0);
  for (int o = 0; o < m; ++o) {
    for (int y = 0; y < h; ++y) {
      for (int xx = 0; xx < wd; ++xx) {
        double acc = b.empty() ? 0.0 : b[o];
        for (int ci = 0; ci < c; ++ci)
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = y - 1 + ky, ix = xx - 1 + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              acc += w[((o * c + ci) * 3 + ky) * 3 + kx] * x[(ci * h + iy) * wd + ix];
            }
        mean[o] += acc / (h * wd);
      }
    }
  }
  return mean;
}

TEST_F(BiasCorrectionTest, ConvOutputMeansMatchTheFloatModel) {
  const std::string text = R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[1,4,6,5] x) => (float[1,3,6,5] y)
<float[3,4,3,3] w = randn(seed: 7)>
{
  y = Conv <pads = [1, 1, 1, 1]> (x, w)
})";
  const std::vector<float> x = Activations(4 * 6 * 5, 11);
  std::unique_ptr<Model> fp = *ParseModel(text, "t");
  const std::vector<double> want = ConvChannelMeans(x, Floats(*fp, "w"), {});
  std::unique_ptr<Model> plain = QuantizeDequantize(text, {1, 4, 6, 5}, x, false);
  std::unique_ptr<Model> corrected = QuantizeDequantize(text, {1, 4, 6, 5}, x, true);
  const Node& conv = *corrected->graph->nodes().back();
  ASSERT_TRUE(conv.Is("Conv"));
  ASSERT_NE(conv.input(2), nullptr) << "a bias input is added";
  const std::vector<double> got = ConvChannelMeans(x, Floats(*corrected, conv.input(1)->name()),
                                                   Floats(*corrected, conv.input(2)->name()));
  const Node& plain_conv = *plain->graph->nodes().back();
  const std::vector<double> before =
      ConvChannelMeans(x, Floats(*plain, plain_conv.input(1)->name()), {});
  double shift_before = 0;
  for (int o = 0; o < 3; ++o) {
    EXPECT_NEAR(got[o], want[o], 1e-4) << "channel " << o;
    shift_before = std::max(shift_before, std::abs(before[o] - want[o]));
  }
  // The rounding did shift the means: the check above would catch a missing correction.
  EXPECT_GT(shift_before, 1e-3);
}

// Mean over the rows of x [p, k] of x W' + c, W' the weight as [k, n] (transposed when given
// [n, k]); `c` per output channel (empty: none).
std::vector<double> RowMeans(const std::vector<float>& x, int64_t p, int64_t k,
                             const std::vector<float>& w, bool w_is_n_by_k,
                             const std::vector<float>& c, double alpha = 1, double beta = 1) {
  const int64_t n = static_cast<int64_t>(w.size()) / k;
  std::vector<double> mean(n, 0.0);
  for (int64_t r = 0; r < p; ++r) {
    for (int64_t o = 0; o < n; ++o) {
      double acc = 0;
      for (int64_t i = 0; i < k; ++i)
        acc += x[r * k + i] * (w_is_n_by_k ? w[o * k + i] : w[i * n + o]);
      mean[o] += (alpha * acc + (c.empty() ? 0.0 : beta * c[o])) / p;
    }
  }
  return mean;
}

// Gemm with transB, alpha and beta: C absorbs alpha / beta times the shift.
TEST_F(BiasCorrectionTest, GemmOutputMeansMatchTheFloatModel) {
  const std::string text = R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[8,64] x) => (float[8,5] y)
<float[5,64] w = randn(seed: 3), float[5] c = randn(seed: 4)>
{
  y = Gemm <transB = 1, alpha = 0.5, beta = 2.0> (x, w, c)
})";
  const std::vector<float> x = Activations(8 * 64, 12);
  std::unique_ptr<Model> fp = *ParseModel(text, "t");
  const std::vector<double> want =
      RowMeans(x, 8, 64, Floats(*fp, "w"), true, Floats(*fp, "c"), 0.5, 2.0);
  std::unique_ptr<Model> corrected = QuantizeDequantize(text, {8, 64}, x, true);
  const Node& gemm = *corrected->graph->nodes().back();
  ASSERT_TRUE(gemm.Is("Gemm"));
  const std::vector<double> got =
      RowMeans(x, 8, 64, Floats(*corrected, gemm.input(1)->name()), true,
               Floats(*corrected, gemm.input(2)->name()), 0.5, 2.0);
  std::unique_ptr<Model> plain = QuantizeDequantize(text, {8, 64}, x, false);
  const Node& plain_gemm = *plain->graph->nodes().back();
  const std::vector<double> before =
      RowMeans(x, 8, 64, Floats(*plain, plain_gemm.input(1)->name()), true,
               Floats(*plain, plain_gemm.input(2)->name()), 0.5, 2.0);
  double shift_before = 0;
  for (int o = 0; o < 5; ++o) {
    EXPECT_NEAR(got[o], want[o], 1e-4) << "column " << o;
    shift_before = std::max(shift_before, std::abs(before[o] - want[o]));
  }
  EXPECT_GT(shift_before, 1e-3);
}

// MatMul: the correction goes into the constant of the Add that follows it; a MatMul without
// such an Add keeps its weight quantized and is counted as skipped.
TEST_F(BiasCorrectionTest, MatMulShiftGoesIntoTheFollowingAdd) {
  const std::string text = R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[6,64] x) => (float[6,4] y, float[6,4] z)
<float[64,4] w = randn(seed: 5), float[4] b = randn(seed: 6), float[64,4] v = randn(seed: 8)>
{
  h = MatMul (x, w)
  y = Add (h, b)
  z = MatMul (x, v)
})";
  const std::vector<float> x = Activations(6 * 64, 13);
  std::unique_ptr<Model> fp = *ParseModel(text, "t");
  const std::vector<double> want = RowMeans(x, 6, 64, Floats(*fp, "w"), false, Floats(*fp, "b"));
  std::unique_ptr<Model> corrected = QuantizeDequantize(text, {6, 64}, x, true);
  const Node* add = corrected->graph->FindValue("y")->producer();
  ASSERT_TRUE(add->Is("Add"));
  const Node* matmul = add->input(0)->producer();
  const std::vector<double> got = RowMeans(x, 6, 64, Floats(*corrected, matmul->input(1)->name()),
                                           false, Floats(*corrected, add->input(1)->name()));
  for (int o = 0; o < 4; ++o) EXPECT_NEAR(got[o], want[o], 1e-4) << "column " << o;
  EXPECT_NE(add->input(1)->name(), "b") << "the bias is replaced, not edited in place";
  const Node* lone = corrected->graph->FindValue("z")->producer();
  EXPECT_EQ(lone->inputs().size(), 2u);
}

// gptq-shrink damps H by shrink * K / vectors: from 2 vectors for K = 64 (a pooled input),
// plain GPTQ bends the weights far from plain rounding; strong shrinkage brings it back.
TEST_F(BiasCorrectionTest, GptqShrinkDampsFewVectorsTowardsPlainRounding) {
  const std::string text = R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[2,64] x) => (float[2,8] y)
<float[64,8] w = randn(seed: 9)>
{
  y = MatMul (x, w)
})";
  const std::vector<float> x = Activations(2 * 64, 14);
  auto weights = [&](const std::string& extra) {
    std::unique_ptr<Model> m = QuantizeDequantize(text, {2, 64}, x, false, extra);
    return Floats(*m, m->graph->nodes().back()->input(1)->name());
  };
  const std::vector<float> plain = PlainlyRoundedWeight(text);
  auto differing = [&](const std::vector<float>& w) { return CountDiffering(w, plain); };
  EXPECT_GT(differing(weights("")), 20) << "GPTQ from 2 vectors moves many weights";
  EXPECT_LE(differing(weights(",gptq-shrink=1000")), 5);
}

// gptq-validate (default on): GPTQ fitted on one of two single-row samples fits that row, not
// the layer's inputs, and loses to plain rounding on the other: the weight is rounded plainly.
// With many rows per sample it generalises and is kept.
TEST_F(BiasCorrectionTest, GptqValidateFallsBackWhenGptqDoesNotGeneralise) {
  const std::string text = R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[R,64] x) => (float[R,8] y)
<float[64,8] w = randn(seed: 9)>
{
  y = MatMul (x, w)
})";
  const std::vector<float> plain = PlainlyRoundedWeight(text);
  auto differing = [&](int64_t rows, int samples, const std::string& extra) {
    std::vector<std::vector<float>> xs;
    for (int i = 0; i < samples; ++i) xs.push_back(Activations(rows * 64, 20 + i));
    std::unique_ptr<Model> m = QuantizeDequantizeSamples(text, {rows, 64}, xs, false, extra);
    return CountDiffering(Floats(*m, m->graph->nodes().back()->input(1)->name()), plain);
  };
  EXPECT_GT(differing(1, 2, ",gptq-validate=false"), 20) << "GPTQ alone bends the weights";
  EXPECT_EQ(differing(1, 2, ""), 0) << "validation keeps plain rounding";
  EXPECT_GT(differing(256, 4, ""), 20) << "GPTQ from plenty of data is kept";
}

}  // namespace
}  // namespace onnx_opt
