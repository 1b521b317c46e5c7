#include "passes/quantize/quantize_weights_mixed.h"

#include <vector>

#include "gtest/gtest.h"

namespace onnx_opt {
namespace {

// A weight of `n` elements: int4 (n/2 bytes, error e4), int8 (n bytes, error e8), float (4n).
MixedCandidate Weight(std::string key, int64_t n, double e4, double e8) {
  return MixedCandidate{std::move(key),
                        n,
                        {{4, n / 2, e4, std::nullopt, std::nullopt},
                         {8, n, e8, std::nullopt, std::nullopt},
                         {0, 4 * n, 0, std::nullopt, std::nullopt}},
                        0,
                        {},
                        {}};
}

int64_t TotalBytes(const std::vector<MixedCandidate>& cs) {
  int64_t total = 0;
  for (const MixedCandidate& c : cs) total += c.levels[c.chosen].bytes;
  return total;
}

TEST(MixedPrecision, SensitivityIsSquaredErrorTimesElements) {
  EXPECT_DOUBLE_EQ(Sensitivity(Weight("a", 100, 0.1, 0.01), 0), 0.1 * 0.1 * 100);
  EXPECT_DOUBLE_EQ(Sensitivity(Weight("a", 100, 0.1, 0.01), 2), 0);
}

TEST(MixedPrecision, BudgetPromotesLargestGainPerByteFirst) {
  // Same size; "b" has the larger int4 error, so it is promoted and "a" is not (no room).
  std::vector<MixedCandidate> cs = {Weight("a", 1000, 0.1, 0.01), Weight("b", 1000, 0.3, 0.02)};
  ChoosePrecisions(cs, {.max_bytes = 1000 + 500, .max_error = std::nullopt});
  EXPECT_EQ(cs[0].chosen, 0);
  EXPECT_EQ(cs[1].chosen, 1);
  EXPECT_LE(TotalBytes(cs), 1500);
  EXPECT_NE(cs[1].reason.find("promoted int4->int8 (#1)"), std::string::npos) << cs[1].reason;
  EXPECT_NE(cs[0].reason.find("does not fit target-size"), std::string::npos) << cs[0].reason;
}

TEST(MixedPrecision, GainIsPerByteNotPerWeight) {
  // "big" gains more in total but far less per byte than "small"; the budget has room for
  // promoting either one to int8 but not both. Ranking by total gain would pick "big".
  std::vector<MixedCandidate> cs = {Weight("big", 100000, 0.1, 0.01),
                                    Weight("small", 1000, 0.5, 0.01)};
  ChoosePrecisions(cs, {.max_bytes = 50500 + 50000, .max_error = std::nullopt});
  EXPECT_EQ(cs[0].chosen, 0);
  EXPECT_GE(cs[1].chosen, 1);
  EXPECT_LE(TotalBytes(cs), 100500);
}

TEST(MixedPrecision, MaxErrorPicksCheapestLevelWithinBound) {
  std::vector<MixedCandidate> cs = {Weight("ok", 1000, 0.05, 0.01), Weight("mid", 1000, 0.2, 0.05),
                                    Weight("bad", 1000, 0.4, 0.2)};
  ChoosePrecisions(cs, {.max_bytes = std::nullopt, .max_error = 0.1});
  EXPECT_EQ(cs[0].chosen, 0);
  EXPECT_EQ(cs[1].chosen, 1);
  EXPECT_EQ(cs[2].chosen, 2);
  EXPECT_NE(cs[0].reason.find("<= max-error"), std::string::npos) << cs[0].reason;
}

TEST(MixedPrecision, BudgetBelowLowestKeepsEverythingLowest) {
  std::vector<MixedCandidate> cs = {Weight("a", 1000, 0.1, 0.01)};
  ChoosePrecisions(cs, {.max_bytes = 10, .max_error = std::nullopt});
  EXPECT_EQ(cs[0].chosen, 0);
  EXPECT_NE(cs[0].reason.find("already exceed"), std::string::npos) << cs[0].reason;
}

TEST(MixedPrecision, BothTargetsStopAtBudget) {
  std::vector<MixedCandidate> cs = {Weight("a", 1000, 0.4, 0.2), Weight("b", 1000, 0.3, 0.2)};
  ChoosePrecisions(cs, {.max_bytes = 2000, .max_error = 0.1});
  EXPECT_LE(TotalBytes(cs), 2000);
  EXPECT_EQ(cs[0].chosen + cs[1].chosen, 2);  // both to int8; float does not fit
}

TEST(MixedPrecision, MeasuredSensitivityScalesProbeNoiseByWeightError) {
  MixedCandidate c = Weight("a", 100, 0.1, 0.01);
  c.measured = MeasuredSensitivity{.output_noise = 0.02, .weight_error = 0.1};
  EXPECT_DOUBLE_EQ(Sensitivity(c, 0), 0.02);
  EXPECT_NEAR(Sensitivity(c, 1), 0.02 * 0.01, 1e-15);  // error 10x smaller: noise 100x smaller
  EXPECT_DOUBLE_EQ(Sensitivity(c, 2), 0);
}

TEST(MixedPrecision, MeasuredOutputNoiseOverridesWeightError) {
  // "loud" has the larger weight error but hardly reaches the output; "quiet" is the reverse.
  // Weight errors alone would promote "loud"; the measured output noise promotes "quiet".
  std::vector<MixedCandidate> cs = {Weight("loud", 1000, 0.3, 0.02),
                                    Weight("quiet", 1000, 0.1, 0.01)};
  cs[0].measured = MeasuredSensitivity{.output_noise = 1e-4, .weight_error = 0.3};
  cs[1].measured = MeasuredSensitivity{.output_noise = 5e-2, .weight_error = 0.1};
  ChoosePrecisions(cs, {.max_bytes = 1500, .max_error = std::nullopt});
  EXPECT_EQ(cs[0].chosen, 0);
  EXPECT_EQ(cs[1].chosen, 1);
  EXPECT_NE(cs[1].reason.find("output noise gain"), std::string::npos) << cs[1].reason;
  EXPECT_NE(cs[1].reason.find("estimated output noise"), std::string::npos) << cs[1].reason;
}

TEST(SensitivityTable, ParsesEntriesByGraphAndWeight) {
  absl::StatusOr<SensitivityTable> t = SensitivityTable::Parse(
      R"({"format": "onnx-opt-sensitivity-1", "probe": "quantize-weights{bits=4}",
          "weights": [{"graph": "main graph", "weight": "w1", "output_noise": 0.5,
                       "weight_error": 0.125},
                      {"graph": "graph 'body' of Loop 'l'", "weight": "w1",
                       "output_noise": 0, "weight_error": 0}]})",
      "s.json");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(t->probe(), "quantize-weights{bits=4}");
  const MeasuredSensitivity* m = t->Find("main graph", "w1");
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->output_noise, 0.5);
  EXPECT_DOUBLE_EQ(m->weight_error, 0.125);
  EXPECT_NE(t->Find("graph 'body' of Loop 'l'", "w1"), nullptr);
  EXPECT_EQ(t->Find("main graph", "w2"), nullptr);
}

TEST(SensitivityTable, RejectsMalformedFilesWithOneLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not valid JSON"},
      {R"({"weights": []})", "\"format\" must be"},
      {R"({"format": "onnx-opt-sensitivity-1"})", "\"weights\" must be a list"},
      {R"({"format": "onnx-opt-sensitivity-1", "weights": [3]})", "weights[0] is not an object"},
      {R"({"format": "onnx-opt-sensitivity-1", "weights": [{"graph": "g", "weight": "w"}]})",
       "needs \"graph\""},
      {R"({"format": "onnx-opt-sensitivity-1", "weights": [{"graph": "g", "weight": "w",
          "output_noise": -1, "weight_error": 0.1}]})",
       "must be finite and >= 0"},
      {R"({"format": "onnx-opt-sensitivity-1", "weights": [
          {"graph": "g", "weight": "w", "output_noise": 1, "weight_error": 0.1},
          {"graph": "g", "weight": "w", "output_noise": 2, "weight_error": 0.1}]})",
       "listed twice"},
  };
  for (const auto& [json, expected] : cases) {
    absl::StatusOr<SensitivityTable> t = SensitivityTable::Parse(json, "bad.json");
    ASSERT_FALSE(t.ok()) << json;
    const std::string message(t.status().message());
    EXPECT_NE(message.find("sensitivity file bad.json: "), std::string::npos) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(SensitivityTable, MissingFileIsAnError) {
  absl::StatusOr<SensitivityTable> t = SensitivityTable::Load("/nonexistent/s.json");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "sensitivity file /nonexistent/s.json: cannot read: No such file or directory");
}

}  // namespace
}  // namespace onnx_opt

namespace onnx_opt {
namespace {

// With calibration data the output-error proxies rank the weights, not the weight errors.
TEST(MixedPrecision, ProxyErrorsRankWhenEveryLevelHasOne) {
  MixedCandidate a = Weight("a", 1000, 0.2, 0.02);  // larger weight error, small output error
  MixedCandidate b = Weight("b", 1000, 0.1, 0.01);
  for (MixedCandidate* c : {&a, &b}) c->levels[2].proxy_error = 0;
  a.levels[0].proxy_error = 0.01;
  a.levels[1].proxy_error = 0.001;
  b.levels[0].proxy_error = 0.05;
  b.levels[1].proxy_error = 0.005;
  EXPECT_DOUBLE_EQ(Sensitivity(a, 0), 0.01 * 0.01 * 1000);
  std::vector<MixedCandidate> cs = {a, b};
  ChoosePrecisions(cs, {.max_bytes = 500 + 1000, .max_error = std::nullopt});  // one int8
  EXPECT_EQ(cs[0].chosen, 0);
  EXPECT_EQ(cs[1].chosen, 1);
  // A level without a proxy (plain rounding fallback) falls back to the weight errors.
  std::vector<MixedCandidate> fallback = {a, b};
  fallback[1].levels[1].proxy_error.reset();
  EXPECT_DOUBLE_EQ(Sensitivity(fallback[1], 0), 0.1 * 0.1 * 1000);
}

// A measured probe (plain rounding at the lowest level) scaled by GPTQ's proxy over plain
// rounding's at that level.
TEST(MixedPrecision, MeasuredSensitivityScaledByProxyRatio) {
  MixedCandidate c = Weight("a", 1000, 0.1, 0.01);
  c.measured = MeasuredSensitivity{};
  c.measured->output_noise = 0.02;
  c.measured->weight_error = 0.1;
  c.levels[0].proxy_error = 0.03;
  c.levels[0].proxy_error_rtn = 0.06;
  c.levels[1].proxy_error = 0.003;
  c.levels[2].proxy_error = 0;
  EXPECT_NEAR(Sensitivity(c, 0), 0.02 * 0.25, 1e-15);
  EXPECT_NEAR(Sensitivity(c, 1), 0.02 * 0.0025, 1e-15);
  EXPECT_DOUBLE_EQ(Sensitivity(c, 2), 0);
}

}  // namespace
}  // namespace onnx_opt
