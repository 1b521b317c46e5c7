// Softmax / LogSoftmax / Hardmax at 13: up to 12 the input is coerced to 2-D at `axis` (default 1)
// and the op runs over the flattened trailing dims; from 13 it runs over the single axis `axis`
// (default -1). When every dim after the axis is known to be 1 (in particular when the axis is the
// last one) the two agree and only the axis is written out. Otherwise the old meaning is rebuilt:
//   f = Flatten<axis>(x); s = Softmax<axis=-1>(f); y = Reshape(s, Shape(x))
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/opset/adapters/adapter.h"

namespace onnx_opt::opset {
namespace {

// True when the dims of `x` after `axis` are known and all 1 (the 2-D coercion is then a no-op).
bool TrailingDimsAreOne(const Value* x, int64_t axis) {
  if (x == nullptr || !x->type.is_tensor() || !x->type.shape.has_value()) return false;
  const std::vector<Dim>& shape = *x->type.shape;
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) return false;
  for (int64_t i = normalized + 1; i < rank; ++i) {
    if (!shape[i].is_fixed() || *shape[i].value != 1) return false;
  }
  return true;
}

absl::StatusOr<Node*> SingleAxisSemantics(Node& node, RewriteContext& ctx) {
  const int64_t axis = node.GetInt("axis").value_or(1);
  Value* x = node.input(0);
  if (TrailingDimsAreOne(x, axis)) {
    node.SetAttribute(Attribute::Int("axis", axis));
    return &node;
  }
  Graph& graph = ctx.graph();
  const std::string base = node.name.empty() ? node.op_type : node.name;
  Node* flatten =
      graph.CreateNode("Flatten", {x}, 1, &node, "", {absl::StrCat(ToAbsl(base), "_2d")});
  if (!node.name.empty()) flatten->name = absl::StrCat(node.name, "/flatten");
  flatten->SetAttribute(Attribute::Int("axis", axis));
  Node* inner = graph.CreateNode(node.op_type, {flatten->output(0)}, 1, &node, "",
                                 {absl::StrCat(ToAbsl(base), "_2d_out")});
  inner->name = node.name;
  inner->SetAttribute(Attribute::Int("axis", -1));
  Node* shape =
      graph.CreateNode("Shape", {x}, 1, &node, "", {absl::StrCat(ToAbsl(base), "_shape")});
  if (!node.name.empty()) shape->name = absl::StrCat(node.name, "/shape");
  Node* reshape = graph.CreateNode("Reshape", {inner->output(0), shape->output(0)}, 1, &node);
  if (!node.name.empty()) reshape->name = absl::StrCat(node.name, "/reshape");
  // Keep empty tensors' zero dims literal rather than copied from the 2-D input.
  if (ctx.target_opset() >= 14) reshape->SetAttribute(Attribute::Int("allowzero", 1));
  node.DropAllInputs();
  if (absl::Status s = TakeOverValue(node.output(0), reshape->output(0), &node); !s.ok()) return s;
  return nullptr;  // the original node is gone; Softmax has no later versions to step through
}

}  // namespace

void AppendSoftmaxRules(std::vector<StepRule>& rules) {
  for (std::string_view op : {"Softmax", "LogSoftmax", "Hardmax"}) {
    rules.push_back(StepRule{op, 13,
                             "2-D coercion -> single axis: keep when the dims after axis are all 1 "
                             "(e.g. axis is last); else Flatten + op(axis=-1) + Reshape(Shape(x))",
                             nullptr, SingleAxisSemantics});
  }
}

}  // namespace onnx_opt::opset
