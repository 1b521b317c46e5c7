// Consistency of the opset-upgrade rule table with the schema history, and the float converters.
#include "passes/opset/adapters/adapter.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "ir/text/text.h"
#include "passes/core/pass.h"

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
  EXPECT_FALSE(SchemaVersions("ImageScaler").empty());
  // SchemaVersions looks operators up by binary search.
  std::vector<std::string_view> names = KnownOperators();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
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

// docs/opset-upgrade.md lists every rule as a table row "| op | version | rule |" (adapters first,
// then compatible steps). ONNX_OPT_DUMP_RULES=1 prints both tables, sorted, to regenerate them.
TEST(RuleTableTest, DocumentationListsEveryRule) {
  RuleTable table;
  std::vector<const StepRule*> sorted;
  for (const StepRule& rule : table.rules()) sorted.push_back(&rule);
  std::sort(sorted.begin(), sorted.end(), [](const StepRule* a, const StepRule* b) {
    return std::make_pair(a->op_type, a->version) < std::make_pair(b->op_type, b->version);
  });
  auto row = [](const StepRule& rule) {
    std::ostringstream out;
    out << "| " << rule.op_type << " | " << rule.version << " | " << rule.rule << " |";
    return out.str();
  };
  if (std::getenv("ONNX_OPT_DUMP_RULES") != nullptr) {
    for (bool adapters : {true, false}) {
      std::cout << "\n";
      for (const StepRule* rule : sorted) {
        if ((rule->apply != nullptr) == adapters) std::cout << row(*rule) << "\n";
      }
    }
  }
  const std::filesystem::path doc =
      std::filesystem::path(ONNX_OPT_SOURCE_DIR) / "docs/opset-upgrade.md";
  std::ifstream in(doc);
  ASSERT_TRUE(in.good()) << doc;
  std::stringstream text;
  text << in.rdbuf();
  for (const StepRule* rule : sorted) {
    EXPECT_NE(text.str().find(row(*rule)), std::string::npos) << "not in the docs: " << row(*rule);
  }
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
