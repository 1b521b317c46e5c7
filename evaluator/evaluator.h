// A reference evaluator for default-domain ONNX nodes with constant inputs, for constant folding.
//
// Kernels are written for clarity and exactness, not speed: floating-point types (float, double,
// float16, bfloat16) compute in double and round once to the output type; integer types compute
// in int64 with two's-complement wrap-around; data movement (Gather, Slice, Transpose, ...) copies
// raw elements, so it serves every fixed-size type, and reshapes share the input's buffer.
//
// Memory is bounded before anything is allocated: an output larger than `max_bytes` (or whose
// element count overflows) is refused with ResourceExhausted, and arithmetic refuses inputs of
// more than max_bytes / 2 elements (it decodes them to 64-bit values).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "ir/tensor.h"

namespace onnx_opt::eval {

struct EvalLimits {
  int64_t max_bytes = int64_t{16} << 20;  // per produced tensor
};

// True when the evaluator has a kernel for this op (it may still refuse a type or attribute).
bool IsSupportedOp(std::string_view domain, std::string_view op_type);

// Op types with a kernel, sorted (for docs and the conformance report).
std::vector<std::string_view> SupportedOps();

// Evaluates `node` on `inputs` (one per node input; null for an absent optional input) at the
// given opset of the default domain. Returns one tensor per node output (null for an absent
// output). Errors: Unimplemented (op, type or attribute combination without a kernel),
// ResourceExhausted (an output over the limits; nothing was allocated), InvalidArgument (the node
// or its inputs are malformed; the message is one line naming the node).
absl::StatusOr<std::vector<TensorPtr>> EvaluateNode(const Node& node,
                                                    const std::vector<TensorPtr>& inputs,
                                                    int64_t opset, const EvalLimits& limits = {});

}  // namespace onnx_opt::eval
