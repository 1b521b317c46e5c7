// Consistency of the opset-upgrade rule table with the schema history, and the float converters.
#include "passes/opset_adapters/adapter.h"

#include <set>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "ir/text/text.h"
#include "passes/pass.h"

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

// Every schema change of every operator from opset 1 to 21 has a rule (compatible or adapter).
TEST(RuleTableTest, CoversEveryChangeFromOpset1To21) {
  RuleTable table;
  for (std::string_view op : KnownOperators()) {
    std::span<const int> versions = SchemaVersions(op);
    ASSERT_FALSE(versions.empty()) << op;
    for (int v : versions) {
      if (v == versions.front()) continue;
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

namespace onnx_opt {
std::unique_ptr<Pass> CreateUpgradeOpsetPass();
namespace {

constexpr char kConvertibleThenRefused[] = R"(<
  ir_version: 7,
  opset_import: ["" : 12]
>
main (float[2, 3] x, float[3] s, float[3] b, float[3] m, float[3] v) => (float[3] y)
{
  y = ReduceSum <axes = [0], keepdims = 0> (x)
  z = Softmax <axis = 0> (x)
  bn, running_mean = BatchNormalization (x, s, b, m, v)
  u = Identity (running_mean)
}
)";

// A refusal anywhere leaves the whole model as it was (checks run before any rewrite).
TEST(UpgradeOpsetPassTest, RefusalLeavesModelUnchanged) {
  absl::StatusOr<std::unique_ptr<Model>> model = ParseModel(kConvertibleThenRefused, "t");
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string before = PrintModel(**model);
  std::unique_ptr<Pass> pass = CreateUpgradeOpsetPass();
  absl::Status status = pass->RunOnModel(**model);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("BatchNormalization"), std::string::npos) << status;
  EXPECT_NE(std::string(status.message()).find("14"), std::string::npos) << status;
  EXPECT_EQ(PrintModel(**model), before);
}

TEST(UpgradeOpsetPassTest, ConvertsWithoutTheRefusedNode) {
  std::string text = kConvertibleThenRefused;
  const std::string use = "  u = Identity (running_mean)\n";
  text.replace(text.find(use), use.size(), "");
  absl::StatusOr<std::unique_ptr<Model>> model = ParseModel(text, "t");
  ASSERT_TRUE(model.ok()) << model.status();
  std::unique_ptr<Pass> pass = CreateUpgradeOpsetPass();
  ASSERT_TRUE(pass->RunOnModel(**model).ok());
  EXPECT_EQ((*model)->OpsetVersion(""), 21);
  EXPECT_EQ((*model)->ir_version, 10);
}

}  // namespace
}  // namespace onnx_opt
