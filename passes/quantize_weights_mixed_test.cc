#include "passes/quantize_weights_mixed.h"

#include <vector>

#include "gtest/gtest.h"

namespace onnx_opt {
namespace {

// A weight of `n` elements: int4 (n/2 bytes, error e4), int8 (n bytes, error e8), float (4n).
MixedCandidate Weight(std::string key, int64_t n, double e4, double e8) {
  return MixedCandidate{std::move(key), n, {{4, n / 2, e4}, {8, n, e8}, {0, 4 * n, 0}}, 0, {}};
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

}  // namespace
}  // namespace onnx_opt
