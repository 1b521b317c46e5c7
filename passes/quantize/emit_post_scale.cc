// format=post-scale: int8 codes cast to float are the weight; the per-output-channel scale is
// applied to the op's output, and a Conv's bias after it (issue 16: the only quantized form
// OpenCV 4.6 loads). Any opset >= 6.
//
//   w_q = int8[O, I, kh, kw] {...}        w_q = int8[K, N] {...}
//   w_int = Cast <to = 1> (w_q)           w_int = Cast <to = 1> (w_q)
//   y_unscaled = Conv (x, w_int)          y_unscaled = MatMul (x, w_int)
//   y_scaled = Mul (y_unscaled, s[1,O,1,1]) y = Mul (y_unscaled, s[N])
//   y = Add (y_scaled, b[1,O,1,1])
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"
#include "passes/quantize/emit_builder.h"
#include "passes/quantize/emitters.h"

namespace onnx_opt {
namespace {

// Inserts `op`(y, operand) after `node`, whose output y it rescales, and gives its output y's
// name (y becomes `<y>_unscaled`), so every user and graph output sees the rescaled value.
Node* AppendAfter(Graph& graph, Node& node, std::string_view op, Value* operand,
                  const ValueType& type) {
  Value* y = node.output(0);
  Node* next = graph.CreateNode(op, {y, operand}, 1, &node);
  graph.MoveBefore(&node, next);
  Value* out = next->output(0);
  out->type = type;
  y->ReplaceAllUsesWith(out);
  next->SetInput(0, y);
  const std::string name = y->name();
  y->set_name(graph.UniqueName(absl::StrCat(name, "_", op == "Mul" ? "unscaled" : "unbiased")));
  out->set_name(name);
  return next;
}

}  // namespace

bool PostScaleHandles(const Node& node, int input_index, int64_t weight_rank) {
  if (input_index != 1) return false;
  if (node.Is("MatMul")) return weight_rank == 2;
  if (!node.Is("Conv") || weight_rank < 3) return false;
  const Value* bias = node.input(2);
  return bias == nullptr || GetConstantTensor(bias) != nullptr;
}

absl::Status EmitPostScale(QuantizedWeight& w, const EmitSite& site,
                           const std::vector<Node*>& users, int64_t* bytes,
                           std::vector<Value*>* detached_biases) {
  if (w.granularity != Granularity::kChannel || !w.q.zero_points.empty()) {
    return absl::InternalError("format=post-scale needs symmetric per-channel codes");
  }
  Builder b(site, bytes);
  Value* q = b.Initializer("_q", QuantizedType(w.spec), w.dims, w.q.data);
  Node* cast = b.Op("Cast", {q}, "_int", w.float_type, w.dims);
  cast->SetAttribute(Attribute::Int("to", static_cast<int64_t>(w.float_type)));
  const int64_t rank = static_cast<int64_t>(w.dims.size());
  for (Node* node : users) {
    node->SetInput(1, cast->output(0));
    const ValueType type = node->output(0)->type;
    std::vector<int64_t> dims;
    if (node->Is("Conv")) {
      dims.assign(static_cast<size_t>(rank), 1);  // [1, O, 1, ...] over the output's channels
      dims[1] = w.dims[0];
    } else {
      dims = {w.dims[1]};  // MatMul: one scale per output column
    }
    Value* scale =
        b.Scales(absl::StrCat("_post_scale_", node->output(0)->name()), w, dims, w.q.scales);
    Node* mul = AppendAfter(site.graph, *node, "Mul", scale, type);
    if (node->Is("Conv") && node->input(2) != nullptr) {
      TensorPtr bias = GetConstantTensor(node->input(2));
      auto moved = std::make_shared<Tensor>(bias->type(), dims, bias->buffer());
      Value* bias_value = site.graph.AddInitializer(absl::StrCat(node->input(2)->name(), "_post"),
                                                    std::move(moved));
      Value* old_bias = node->input(2);
      node->RemoveInput(2);
      AppendAfter(site.graph, *mul, "Add", bias_value, type);
      if (std::find(detached_biases->begin(), detached_biases->end(), old_bias) ==
          detached_biases->end()) {
        detached_biases->push_back(old_bias);  // a bias shared by two Convs is listed once
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace onnx_opt
