#include "evaluator/evaluator.h"

#include "gtest/gtest.h"

TEST(Evaluator, Placeholder) { EXPECT_TRUE(onnx_opt::eval::IsSupportedOp("", "Add")); }
