#include "evaluator/evaluator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "evaluator/kernel.h"
#include "ir/strings.h"

namespace onnx_opt::eval {
namespace {

const KernelTable& Kernels() {
  static const KernelTable* table = [] {
    auto* t = new KernelTable();
    RegisterUnaryKernels(*t);
    RegisterBinaryKernels(*t);
    RegisterConvertSelectKernels(*t);
    RegisterShapeKernels(*t);
    RegisterMovementKernels(*t);
    RegisterReduceLinalgKernels(*t);
    RegisterIndexKernels(*t);
    return t;
  }();
  return *table;
}

}  // namespace

bool IsSupportedOp(std::string_view domain, std::string_view op_type) {
  return (domain.empty() || domain == "ai.onnx") && Kernels().contains(ToAbsl(op_type));
}

std::vector<std::string_view> SupportedOps() {
  std::vector<std::string_view> ops;
  for (const auto& [name, fn] : Kernels()) ops.push_back(name);
  std::sort(ops.begin(), ops.end());
  return ops;
}

absl::StatusOr<std::vector<TensorPtr>> EvaluateNode(const Node& node,
                                                    const std::vector<TensorPtr>& inputs,
                                                    int64_t opset, const EvalLimits& limits) {
  if (!IsSupportedOp(node.domain, node.op_type)) {
    return absl::UnimplementedError(absl::StrCat(node.DebugName(), ": no kernel"));
  }
  for (const TensorPtr& t : inputs) {
    if (t == nullptr) continue;
    if (absl::Status s = t->CheckConsistent(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(node.DebugName(), ": ", s.message()));
    }
    if (t->type() != DataType::kString && ElementBytes(t->type()) == 0) {
      return absl::UnimplementedError(absl::StrCat(
          node.DebugName(), ": input type ", ToAbsl(DataTypeName(t->type())), " has no kernel"));
    }
  }
  KernelContext ctx(node, inputs, opset, limits);
  if (absl::Status s = Kernels().at(node.op_type)(ctx); !s.ok()) return s;
  std::vector<TensorPtr> outputs = std::move(ctx.outputs());
  outputs.resize(node.outputs().size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (node.output(i) == nullptr) {
      outputs[i] = nullptr;
    } else if (outputs[i] == nullptr) {
      return absl::UnimplementedError(
          absl::StrCat(node.DebugName(), ": output ", i, " is not computed"));
    }
  }
  return outputs;
}

}  // namespace onnx_opt::eval
