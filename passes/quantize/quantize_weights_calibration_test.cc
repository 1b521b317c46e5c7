#include "passes/quantize/quantize_weights_calibration.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ir/text/text.h"
#include "passes/core/utils.h"
#include "passes/test_util.h"

namespace onnx_opt {
namespace {

namespace fs = std::filesystem;
using testing::WriteNpy;

std::vector<float> Random(int64_t n, uint32_t seed) {
  return testing::UniformFloats(n, seed, -1, 1);
}

class CalibrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("calibration_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  std::string Manifest(const std::string& values_json) {
    const fs::path path = dir_ / "manifest.json";
    std::ofstream(path) << R"({"format": "onnx-opt-calibration-1", "values": )" << values_json
                        << "}";
    return path.string();
  }
  // Hessians of `weight` (the node's input 1) from the manifest.
  std::optional<LayerHessians> Hessians(const std::string& model_text, const std::string& weight,
                                        const std::string& manifest) {
    absl::StatusOr<std::unique_ptr<Model>> model = ParseModel(model_text, "t");
    EXPECT_TRUE(model.ok()) << model.status();
    Value* w = (*model)->graph->FindValue(weight);
    TensorPtr tensor = GetConstantTensor(w);
    const Node* node = w->uses().front().node;
    std::optional<WeightRole> role = FindWeightRole(*node, 1, tensor->rank());
    std::string why;
    std::optional<BlockGeometry> geometry =
        ChooseGeometry(tensor->dims(), *role, Granularity::kBlock, 32, RaggedPolicy::kAllow, &why);
    absl::StatusOr<std::unique_ptr<CalibrationData>> data = CalibrationData::Load(manifest);
    EXPECT_TRUE(data.ok()) << data.status();
    absl::StatusOr<std::optional<LayerHessians>> h =
        (*data)->HessiansFor("k", *tensor, *geometry, {{node, 1}}, &why);
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? *h : std::nullopt;
  }
  fs::path dir_;
};

// Conv with padding, stride, dilation and two groups: H of each group equals the sum of x x^T
// over the patches computed here straight from the ONNX Conv definition.
TEST_F(CalibrationTest, ConvHessianIsSumOfPatchOuterProducts) {
  const int64_t c = 4, hgt = 7, wid = 6, group = 2, cg = 2, kh = 3, kw = 2;
  const int64_t sh = 2, sw = 1, dh = 1, dw = 2, pt = 1, pl = 0, pb = 0, pr = 2;
  const std::vector<float> x = Random(c * hgt * wid, 3);
  WriteNpy(dir_ / "x.npy", {1, c, hgt, wid}, x);
  const std::string text = R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[1,4,7,6] x) => (float[1,4,3,6] y)
<float[4,2,3,2] w = randn(seed: 1)>
{
  y = Conv <group = 2, strides = [2, 1], dilations = [1, 2], pads = [1, 0, 0, 2]> (x, w)
})";
  std::optional<LayerHessians> h = Hessians(text, "w", Manifest(R"({"x": ["x.npy"]})"));
  ASSERT_TRUE(h.has_value());
  ASSERT_EQ(h->hessians.size(), 2u);
  EXPECT_EQ(h->row_hessian, (std::vector<int32_t>{0, 0, 1, 1}));
  const int64_t k = cg * kh * kw;
  const int64_t out_h = (hgt + pt + pb - dh * (kh - 1) - 1) / sh + 1;
  const int64_t out_w = (wid + pl + pr - dw * (kw - 1) - 1) / sw + 1;
  for (int64_t g = 0; g < group; ++g) {
    std::vector<double> expected(k * k, 0.0);
    for (int64_t oy = 0; oy < out_h; ++oy) {
      for (int64_t ox = 0; ox < out_w; ++ox) {
        std::vector<double> patch(k, 0.0);
        for (int64_t ci = 0; ci < cg; ++ci) {
          for (int64_t ky = 0; ky < kh; ++ky) {
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * sh - pt + ky * dh;
              const int64_t ix = ox * sw - pl + kx * dw;
              if (iy < 0 || iy >= hgt || ix < 0 || ix >= wid) continue;
              patch[(ci * kh + ky) * kw + kx] = x[((g * cg + ci) * hgt + iy) * wid + ix];
            }
          }
        }
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j) expected[i * k + j] += patch[i] * patch[j];
      }
    }
    for (int64_t i = 0; i < k * k; ++i) {
      EXPECT_NEAR(h->hessians[g].values[i], expected[i], 1e-4) << "group " << g << " entry " << i;
    }
  }
}

TEST_F(CalibrationTest, MatMulAndGemmTransAHessians) {
  const std::vector<float> a = Random(2 * 3 * 8, 5);
  WriteNpy(dir_ / "a.npy", {2, 3, 8}, a, /*major=*/2);
  const std::vector<float> at = Random(8 * 5, 6);  // Gemm A with transA: [K, M]
  WriteNpy(dir_ / "at.npy", {8, 5}, at);
  const std::string manifest = Manifest(R"({"a": ["a.npy"], "at": ["at.npy"]})");
  const std::string text = R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[2,3,8] a, float[8,5] at) => (float[2,3,4] y, float[5,4] z)
<float[8,4] w = randn(seed: 1), float[4,8] wg = randn(seed: 2)>
{
  y = MatMul (a, w)
  z = Gemm <transA = 1, transB = 1> (at, wg)
})";
  std::optional<LayerHessians> hm = Hessians(text, "w", manifest);
  std::optional<LayerHessians> hg = Hessians(text, "wg", manifest);
  ASSERT_TRUE(hm && hg);
  for (int64_t i = 0; i < 8; ++i) {
    for (int64_t j = 0; j < 8; ++j) {
      double m = 0, g = 0;
      for (int64_t r = 0; r < 6; ++r) m += static_cast<double>(a[r * 8 + i]) * a[r * 8 + j];
      for (int64_t col = 0; col < 5; ++col)
        g += static_cast<double>(at[i * 5 + col]) * at[j * 5 + col];
      EXPECT_NEAR(hm->hessians[0].values[i * 8 + j], m, 1e-5);
      EXPECT_NEAR(hg->hessians[0].values[i * 8 + j], g, 1e-5);
    }
  }
  EXPECT_TRUE(hm->row_hessian.empty());
}

TEST_F(CalibrationTest, NpyReader) {
  WriteNpy(dir_ / "v2.npy", {2, 2}, {1, 2, 3, 4}, /*major=*/2);
  absl::StatusOr<NpyArray> v2 = ReadNpy((dir_ / "v2.npy").string());
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(v2->values, (std::vector<float>{1, 2, 3, 4}));
  // float16: 1.0 = 0x3C00, -2.0 = 0xC000.
  const uint16_t halves[2] = {0x3C00, 0xC000};
  std::vector<float> packed(1);
  std::memcpy(packed.data(), halves, 4);
  WriteNpy(dir_ / "h.npy", {2}, packed, 1, "<f2");
  absl::StatusOr<NpyArray> h = ReadNpy((dir_ / "h.npy").string());
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->values, (std::vector<float>{1.0f, -2.0f}));
  WriteNpy(dir_ / "f.npy", {2, 2}, {1, 2, 3, 4}, 1, "<f4", "True");
  EXPECT_THAT(ReadNpy((dir_ / "f.npy").string()).status().message(),
              ::testing::HasSubstr("Fortran order is not supported"));
  WriteNpy(dir_ / "big.npy", {2, 2}, {1, 2, 3, 4}, 1, ">f4");
  EXPECT_THAT(ReadNpy((dir_ / "big.npy").string()).status().message(),
              ::testing::HasSubstr("dtype '>f4' is not little-endian float32 or float16"));
  WriteNpy(dir_ / "short.npy", {2, 3}, {1, 2, 3, 4});
  EXPECT_THAT(ReadNpy((dir_ / "short.npy").string()).status().message(),
              ::testing::HasSubstr("holds 16 data bytes but shape [2, 3] needs 24"));
}

}  // namespace
}  // namespace onnx_opt
