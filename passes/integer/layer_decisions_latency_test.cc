#include "passes/integer/layer_decisions_latency.h"

#include <cmath>

#include "gtest/gtest.h"

namespace onnx_opt {
namespace {

constexpr char kTable[] = R"({"format": "onnx-opt-op-latency-1", "entries": [
  {"kind": "conv", "macs": 1000, "fp32_us": 10, "int8_us": 40},
  {"kind": "conv", "macs": 100000, "fp32_us": 100, "int8_us": 25},
  {"kind": "add", "macs": 10, "fp32_us": 0, "int8_us": 1}],
  "boundaries": [{"elements": 100, "quantize_us": 1, "dequantize_us": 2},
                 {"elements": 10000, "quantize_us": 100, "dequantize_us": 20}]})";

TEST(LatencyTable, InterpolatesLogRatioOverLogMacs) {
  absl::StatusOr<LatencyTable> t = LatencyTable::Parse(kTable, "test");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_entries(), 2u);  // the zero-time entry is not a ratio
  EXPECT_NEAR(*t->Ratio("conv", 1000), 4.0, 1e-9);
  EXPECT_NEAR(*t->Ratio("conv", 100000), 0.25, 1e-9);
  // Half way in log(MACs): half way in log(ratio), 4^0.5 * 0.25^0.5 = 1.
  EXPECT_NEAR(*t->Ratio("conv", 10000), 1.0, 1e-9);
  // Beyond the ends: the end entries' ratios.
  EXPECT_NEAR(*t->Ratio("conv", 10), 4.0, 1e-9);
  EXPECT_NEAR(*t->Ratio("conv", 1e9), 0.25, 1e-9);
  EXPECT_FALSE(t->Ratio("add", 10).has_value());
  EXPECT_FALSE(t->Ratio("resize", 10).has_value());
}

TEST(LatencyTable, TimesAndBoundaries) {
  absl::StatusOr<LatencyTable> t = LatencyTable::Parse(kTable, "test");
  ASSERT_TRUE(t.ok()) << t.status();
  auto [fp32, int8] = *t->Times("conv", 10000);
  EXPECT_NEAR(fp32, std::sqrt(10.0 * 100), 1e-9);  // log-log half way
  EXPECT_NEAR(int8, std::sqrt(40.0 * 25), 1e-9);
  EXPECT_NEAR(t->QuantizeUs(1000), 10.0, 1e-9);
  EXPECT_NEAR(t->DequantizeUs(1000), std::sqrt(2.0 * 20), 1e-9);
  EXPECT_NEAR(t->QuantizeUs(1e6), 100.0, 1e-9);
  absl::StatusOr<LatencyTable> none =
      LatencyTable::Parse(R"({"format": "onnx-opt-op-latency-1", "entries": []})", "empty");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->QuantizeUs(1000), 0.0);
}

TEST(LatencyTable, RejectsOtherFormats) {
  absl::StatusOr<LatencyTable> t =
      LatencyTable::Parse(R"({"format": "x", "entries": []})", "f.json");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "latency table f.json: format is not onnx-opt-op-latency-1");
  t = LatencyTable::Parse(R"({"format": "onnx-opt-op-latency-1", "entries": [{"kind": "conv"}]})",
                          "f.json");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "latency table f.json: entry 0 lacks kind, macs, fp32_us or int8_us");
}

TEST(LatencyTable, BuiltinTableIsEmbeddedAndKnowsTheConvKinds) {
  absl::StatusOr<const LatencyTable*> t = LatencyTable::Builtin();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_GT((*t)->num_entries(), 10u);
  for (const char* kind : {"conv", "conv-pointwise", "conv-depthwise", "matmul", "add"}) {
    EXPECT_TRUE((*t)->Ratio(kind, 1e6).has_value()) << kind;
  }
}

}  // namespace
}  // namespace onnx_opt
