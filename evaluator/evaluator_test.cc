// The evaluator's maths: broadcasting, integer wrap-around, rounding of casts, clamping of
// Slice, the size cap (checked before allocating) and hostile shapes.
#include "evaluator/evaluator.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "ir/ir.h"

namespace onnx_opt::eval {
namespace {

TensorPtr Floats(std::vector<int64_t> dims, std::vector<float> v) {
  return std::make_shared<Tensor>(
      Tensor::FromValues<float>(DataType::kFloat, std::move(dims), std::span<const float>(v)));
}

TensorPtr Int64s(std::vector<int64_t> dims, std::vector<int64_t> v) {
  return std::make_shared<Tensor>(
      Tensor::FromValues<int64_t>(DataType::kInt64, std::move(dims), std::span<const int64_t>(v)));
}

template <typename T>
TensorPtr Typed(DataType type, std::vector<int64_t> dims, std::vector<T> v) {
  return std::make_shared<Tensor>(
      Tensor::FromValues<T>(type, std::move(dims), std::span<const T>(v)));
}

// An attribute to set (Attribute itself is move-only, so it cannot sit in an initializer list).
struct Attr {
  std::string name;
  std::variant<int64_t, float, std::vector<int64_t>> value;
  Attribute Make() const {
    if (const auto* i = std::get_if<int64_t>(&value)) return Attribute::Int(name, *i);
    if (const auto* f = std::get_if<float>(&value)) return Attribute::Float(name, *f);
    return Attribute::Ints(name, std::get<std::vector<int64_t>>(value));
  }
};

// Runs one node of `op` on `inputs` with `attrs` at `opset`.
absl::StatusOr<std::vector<TensorPtr>> Eval(const std::string& op, std::vector<TensorPtr> inputs,
                                            std::vector<Attr> attrs = {}, int64_t opset = 17,
                                            size_t outputs = 1, int64_t max_bytes = 16 << 20) {
  Graph graph;
  std::vector<Value*> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    values.push_back(graph.AddInput("in" + std::to_string(i), ValueType()));
  }
  Node* node = graph.CreateNode(op, values, outputs);
  node->name = "n";
  for (const Attr& a : attrs) node->SetAttribute(a.Make());
  EvalLimits limits;
  limits.max_bytes = max_bytes;
  return EvaluateNode(*node, inputs, opset, limits);
}

TEST(Evaluator, AddBroadcastsBothWays) {
  auto out = Eval("Add", {Floats({2, 1}, {1, 2}), Floats({3}, {10, 20, 30})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0]->dims(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ((*out)[0]->CopyValues<float>(), (std::vector<float>{11, 21, 31, 12, 22, 32}));
}

TEST(Evaluator, IntegerArithmeticWrapsAndRefusesDivisionByZero) {
  auto sum = Eval("Add", {Typed<int8_t>(DataType::kInt8, {1}, {127}),
                          Typed<int8_t>(DataType::kInt8, {1}, {1})});
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ((*sum)[0]->CopyValues<int8_t>()[0], -128);
  auto div = Eval("Div", {Int64s({2}, {7, -7}), Int64s({2}, {2, 2})});
  ASSERT_TRUE(div.ok());
  EXPECT_EQ((*div)[0]->CopyValues<int64_t>(), (std::vector<int64_t>{3, -3}));  // toward zero
  auto by_zero = Eval("Div", {Int64s({1}, {1}), Int64s({1}, {0})});
  EXPECT_EQ(by_zero.status().code(), absl::StatusCode::kUnimplemented);
  auto min_by_minus_one =
      Eval("Div", {Int64s({1}, {std::numeric_limits<int64_t>::min()}), Int64s({1}, {-1})});
  ASSERT_TRUE(min_by_minus_one.ok());  // wraps instead of trapping
  auto mod = Eval("Mod", {Int64s({2}, {-7, 7}), Int64s({2}, {3, -3})});
  ASSERT_TRUE(mod.ok());
  EXPECT_EQ((*mod)[0]->CopyValues<int64_t>(), (std::vector<int64_t>{2, -2}));  // divisor's sign
}

TEST(Evaluator, CastRoundsAndRefusesUndefinedConversions) {
  auto to_int = Eval("Cast", {Floats({3}, {2.7f, -2.7f, 1e9f})},
                     {Attr{"to", int64_t{static_cast<int64_t>(DataType::kInt32)}}});
  ASSERT_TRUE(to_int.ok());
  EXPECT_EQ((*to_int)[0]->CopyValues<int32_t>(), (std::vector<int32_t>{2, -2, 1000000000}));
  auto nan = Eval("Cast", {Floats({1}, {std::numeric_limits<float>::quiet_NaN()})},
                  {Attr{"to", int64_t{static_cast<int64_t>(DataType::kInt32)}}});
  EXPECT_EQ(nan.status().code(), absl::StatusCode::kUnimplemented);
  auto half = Eval("Cast", {Floats({2}, {1.0f / 3, 70000.0f})},
                   {Attr{"to", int64_t{static_cast<int64_t>(DataType::kFloat16)}}});
  ASSERT_TRUE(half.ok());
  EXPECT_EQ((*half)[0]->CopyValues<uint16_t>(), (std::vector<uint16_t>{0x3555, 0x7C00}));
  auto bf16 = Eval("Cast", {Floats({1}, {1.0f + 1.0f / 256})},  // a tie: rounds to even
                   {Attr{"to", int64_t{static_cast<int64_t>(DataType::kBFloat16)}}});
  ASSERT_TRUE(bf16.ok());
  EXPECT_EQ((*bf16)[0]->CopyValues<uint16_t>()[0], 0x3F80);
}

TEST(Evaluator, Float16ArithmeticRoundsOnce) {
  // 1 + 2^-11 is halfway between two float16 values: ties to even gives 1.
  auto out = Eval("Add", {Typed<uint16_t>(DataType::kFloat16, {1}, {0x3C00}),
                          Typed<uint16_t>(DataType::kFloat16, {1}, {0x1000})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0]->CopyValues<uint16_t>()[0], 0x3C00);
}

TEST(Evaluator, SliceClampsAndStepsBackwards) {
  std::vector<float> v(10);
  for (int i = 0; i < 10; ++i) v[i] = static_cast<float>(i);
  auto out = Eval("Slice", {Floats({10}, v), Int64s({1}, {-1}),
                            Int64s({1}, {std::numeric_limits<int64_t>::min()}), Int64s({1}, {0}),
                            Int64s({1}, {-3})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0]->CopyValues<float>(), (std::vector<float>{9, 6, 3, 0}));
}

TEST(Evaluator, GatherTakesNegativeIndicesAndRejectsOutOfRange) {
  auto out = Eval("Gather", {Int64s({4}, {10, 20, 30, 40}), Int64s({2}, {-1, 0})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0]->CopyValues<int64_t>(), (std::vector<int64_t>{40, 10}));
  auto bad = Eval("Gather", {Int64s({4}, {10, 20, 30, 40}), Int64s({1}, {4})});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(bad.status().message()).find('\n'), std::string::npos);
  EXPECT_NE(std::string(bad.status().message()).find("Gather 'n'"), std::string::npos);
}

TEST(Evaluator, MatMulPromotesVectorsAndGemmTransposes) {
  auto mv = Eval("MatMul", {Floats({2, 3}, {1, 2, 3, 4, 5, 6}), Floats({3}, {1, 0, -1})});
  ASSERT_TRUE(mv.ok());
  EXPECT_EQ((*mv)[0]->dims(), (std::vector<int64_t>{2}));
  EXPECT_EQ((*mv)[0]->CopyValues<float>(), (std::vector<float>{-2, -2}));
  auto gemm = Eval(
      "Gemm", {Floats({2, 2}, {1, 2, 3, 4}), Floats({2, 2}, {1, 0, 0, 1}), Floats({2}, {10, 20})},
      {Attr{"transA", int64_t{1}}, Attr{"alpha", 2.0f}});
  ASSERT_TRUE(gemm.ok());
  EXPECT_EQ((*gemm)[0]->CopyValues<float>(), (std::vector<float>{12, 26, 14, 28}));
}

TEST(Evaluator, ReduceMeanWithoutKeepdims) {
  auto out = Eval("ReduceMean", {Floats({2, 3}, {1, 2, 3, 4, 5, 6})},
                  {Attr{"axes", std::vector<int64_t>{1}}, Attr{"keepdims", int64_t{0}}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0]->dims(), (std::vector<int64_t>{2}));
  EXPECT_EQ((*out)[0]->CopyValues<float>(), (std::vector<float>{2, 5}));
}

// 2^40 elements would be 4 TiB: refused from the shape alone (the test would run out of memory
// if anything were allocated).
TEST(Evaluator, SizeCapIsCheckedBeforeAllocating) {
  const int64_t big = int64_t{1} << 20;
  auto cos = Eval("ConstantOfShape", {Int64s({2}, {big, big})});
  EXPECT_EQ(cos.status().code(), absl::StatusCode::kResourceExhausted);
  auto expand = Eval("Expand", {Floats({1}, {1}), Int64s({2}, {big, big})});
  EXPECT_EQ(expand.status().code(), absl::StatusCode::kResourceExhausted);
  auto tile = Eval("Tile", {Floats({1, 1}, {1}), Int64s({2}, {big, big})});
  EXPECT_EQ(tile.status().code(), absl::StatusCode::kResourceExhausted);
  auto range = Eval("Range", {Floats({}, {0}), Floats({}, {1e30f}), Floats({}, {1})});
  EXPECT_EQ(range.status().code(), absl::StatusCode::kResourceExhausted);
  // The cap is the option's value: 64 floats fit in 256 bytes, 65 do not.
  EXPECT_TRUE(Eval("ConstantOfShape", {Int64s({1}, {64})}, {}, 17, 1, 256).ok());
  EXPECT_EQ(Eval("ConstantOfShape", {Int64s({1}, {65})}, {}, 17, 1, 256).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(Evaluator, HostileShapesFailCleanly) {
  auto negative = Eval("ConstantOfShape", {Int64s({2}, {-1, 4})});
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  auto overflow = Eval("ConstantOfShape",
                       {Int64s({3}, {int64_t{1} << 32, int64_t{1} << 32, int64_t{1} << 32})});
  EXPECT_EQ(overflow.status().code(), absl::StatusCode::kInvalidArgument);
  auto reshape = Eval("Reshape", {Floats({4}, {1, 2, 3, 4}), Int64s({2}, {-1, -1})});
  EXPECT_EQ(reshape.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<int64_t> axes(64);
  for (int i = 0; i < 64; ++i) axes[i] = i;
  auto rank = Eval("Unsqueeze", {Floats({1}, {1}), Int64s({64}, axes)});
  EXPECT_FALSE(rank.ok());
  auto expand = Eval(
      "Expand", {Floats({1}, {1}), Int64s(std::vector<int64_t>{65}, std::vector<int64_t>(65, 1))});
  EXPECT_FALSE(expand.ok());
}

TEST(Evaluator, SplitDividesAndReshapeSharesBytes) {
  auto split = Eval("Split", {Floats({5}, {1, 2, 3, 4, 5}), Int64s({2}, {2, 3})}, {}, 17, 2);
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ((*split)[0]->CopyValues<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ((*split)[1]->CopyValues<float>(), (std::vector<float>{3, 4, 5}));
  TensorPtr in = Floats({2, 2}, {1, 2, 3, 4});
  auto reshaped = Eval("Reshape", {in, Int64s({1}, {4})});
  ASSERT_TRUE(reshaped.ok());
  EXPECT_EQ((*reshaped)[0]->buffer(), in->buffer());  // no copy
}

}  // namespace
}  // namespace onnx_opt::eval
