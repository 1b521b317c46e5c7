// Consistency of the opset-upgrade rule table with the schema history, and the float converters.
#include "passes/opset_adapters/adapter.h"

#include <set>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace onnx_opt::opset {
namespace {

TEST(OpsetHistoryTest, KnowsChangedOperators) {
  EXPECT_EQ(std::vector<int>(SchemaVersions("Squeeze").begin(), SchemaVersions("Squeeze").end()),
            (std::vector<int>{1, 11, 13, 21}));
  EXPECT_EQ(
      std::vector<int>(SchemaVersions("ReduceMax").begin(), SchemaVersions("ReduceMax").end()),
      (std::vector<int>{1, 11, 12, 13, 18, 20}));
  EXPECT_TRUE(SchemaVersions("NoSuchOp").empty());
  EXPECT_FALSE(SchemaVersions("Mish").empty());
}

TEST(RuleTableTest, EveryRuleIsARealVersionStepAndUnique) {
  RuleTable table;
  std::set<std::pair<std::string, int>> seen;
  for (const StepRule& rule : table.rules()) {
    std::span<const int> versions = SchemaVersions(rule.op_type);
    ASSERT_FALSE(versions.empty()) << rule.op_type;
    EXPECT_NE(std::find(versions.begin(), versions.end(), rule.version), versions.end())
        << rule.op_type << " has no version " << rule.version;
    EXPECT_NE(versions.front(), rule.version) << rule.op_type << ": first version needs no rule";
    EXPECT_TRUE(seen.insert({std::string(rule.op_type), rule.version}).second)
        << "duplicate rule " << rule.op_type << "-" << rule.version;
    EXPECT_FALSE(rule.rule.empty());
  }
}

// Every schema change from opset 8 to 21 (the range models are exported at) has a rule, except
// the ones deliberately refused.
TEST(RuleTableTest, CoversEveryChangeFromOpset8To21) {
  RuleTable table;
  const std::set<std::pair<std::string, int>> refused = {{"Scan", 9}};
  for (std::string_view op : KnownOperators()) {
    std::span<const int> versions = SchemaVersions(op);
    ASSERT_FALSE(versions.empty()) << op;
    for (int v : versions) {
      if (v < 8 || v == versions.front()) continue;
      if (refused.contains({std::string(op), v})) {
        EXPECT_EQ(table.Find(op, v), nullptr) << op << "-" << v;
        continue;
      }
      EXPECT_NE(table.Find(op, v), nullptr) << "no rule for " << op << "-" << v;
    }
  }
}

TEST(FloatBitsTest, HalfAndBFloat16) {
  EXPECT_EQ(FloatToHalfBits(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalfBits(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalfBits(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalfBits(1e6f), 0x7c00);
  EXPECT_EQ(FloatToHalfBits(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalfBits(0.0f), 0x0000);
  EXPECT_EQ(FloatToBFloat16Bits(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBFloat16Bits(-0.5f), 0xbf00);
}

}  // namespace
}  // namespace onnx_opt::opset
