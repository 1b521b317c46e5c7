#include "passes/integer/quantize_activations_emit.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

template <typename T>
TensorPtr MakeTensor(DataType type, std::vector<int64_t> dims, const std::vector<T>& values) {
  return std::make_shared<Tensor>(
      Tensor::FromValues<T>(type, std::move(dims), std::span<const T>(values)));
}

// `values` narrowed to the 1-byte element type of `type` (int8 or uint8).
TensorPtr BytesTensor(DataType type, std::vector<int64_t> dims,
                      const std::vector<int32_t>& values) {
  std::vector<uint8_t> bytes(values.size());
  for (size_t i = 0; i < values.size(); ++i) bytes[i] = static_cast<uint8_t>(values[i]);
  return std::make_shared<Tensor>(type, std::move(dims), Buffer::FromVector(std::move(bytes)));
}

// The node of `graph` that holds `node` (itself, or the node owning its subgraph).
const Node* AncestorIn(const Graph& graph, const Node* node) {
  while (node != nullptr && node->graph() != &graph) {
    node = node->graph() != nullptr ? node->graph()->parent_node() : nullptr;
  }
  return node;
}

}  // namespace

QdqEmitter::QdqEmitter(Graph& graph) : graph_(graph) {
  int64_t i = 0;
  for (const auto& node : graph.nodes()) position_[node.get()] = i++;
}

Node* QdqEmitter::FirstUser(const Value* value) const {
  const Node* first = nullptr;
  int64_t best = std::numeric_limits<int64_t>::max();
  for (const Use& use : value->uses()) {
    const Node* holder = AncestorIn(graph_, use.node);
    auto it = position_.find(holder);
    if (it != position_.end() && it->second < best) {
      best = it->second;
      first = holder;
    }
  }
  return const_cast<Node*>(first);
}

Value* QdqEmitter::Scalar(std::string_view hint, DataType type, int32_t value) {
  return graph_.AddInitializer(hint, BytesTensor(type, {}, {value}));
}

Node* QdqEmitter::Create(std::string_view op, std::vector<Value*> inputs, Node* before,
                         std::string_view hint, ValueType type) {
  Node* node = graph_.CreateNode(op, std::move(inputs), 1, before, "", {std::string(hint)});
  node->name = node->output(0)->name();
  node->output(0)->type = std::move(type);
  return node;
}

void QdqEmitter::InsertActivationQdq(Value* value, const QuantParams& dq_params,
                                     Value* quantize_input, const QuantParams& q_params) {
  const std::string name = value->name();
  Node* before = FirstUser(value);
  const DataType qtype = dq_params.is_signed ? DataType::kInt8 : DataType::kUint8;
  auto params = [&](const QuantParams& p, const std::string& hint) -> std::pair<Value*, Value*> {
    Value* scale = graph_.AddInitializer(absl::StrCat(hint, "_scale"),
                                         MakeTensor<float>(DataType::kFloat, {}, {p.scale}));
    return {scale, Scalar(absl::StrCat(hint, "_zero_point"), qtype, p.zero_point)};
  };
  auto [dq_scale, dq_zero] = params(dq_params, name);
  auto [q_scale, q_zero] = std::pair(dq_scale, dq_zero);
  if (quantize_input != value) {
    std::tie(q_scale, q_zero) = params(q_params, quantize_input->name());
  }
  ValueType float_type = value->type;
  if (!float_type.is_tensor()) float_type = ValueType::Tensor(DataType::kFloat);
  float_type.elem_type = DataType::kFloat;
  ValueType qtype_full = float_type;
  qtype_full.elem_type = qtype;
  Node* q = Create("QuantizeLinear", {quantize_input, q_scale, q_zero}, before,
                   absl::StrCat(ToAbsl(name), "_quantized"), qtype_full);
  Node* dq = Create("DequantizeLinear", {q->output(0), dq_scale, dq_zero}, before,
                    absl::StrCat(ToAbsl(name), "_dequantized"), float_type);
  // Every user but the new Q reads the DQ: swap the Q's input back after the replacement.
  value->ReplaceAllUsesWith(dq->output(0));
  q->SetInput(0, quantize_input);
  if (dq->output(0)->is_graph_output()) {
    value->set_name(graph_.UniqueName(absl::StrCat(ToAbsl(name), "_float")));
    value->in_value_info = value->type.is_tensor();  // no longer a graph output
    dq->output(0)->set_name(name);
  }
}

absl::StatusOr<std::vector<float>> QdqEmitter::QuantizeWeight(Node* node, int input, int64_t axis,
                                                              int bits, bool is_signed) {
  Value* weight = node->input(input);
  if (auto it = weights_.find(weight); it != weights_.end()) {
    node->SetInput(input, it->second.output);
    return it->second.scales;
  }
  TensorPtr tensor = GetConstantTensor(weight);
  std::vector<float> values = tensor->CopyValues<float>();
  const int32_t zero_point = is_signed ? 0 : 128;
  ChannelQuantized q = QuantizePerChannel(values, tensor->dims(), axis, bits, zero_point);
  if (gptq_ != nullptr) {
    if (absl::Status s =
            gptq_->Refine(node, input, values, tensor->dims(), axis, bits, zero_point, q);
        !s.ok()) {
      return s;
    }
  }
  const DataType qtype = is_signed ? DataType::kInt8 : DataType::kUint8;
  const std::string name = weight->name();
  const auto channels = static_cast<int64_t>(q.scales.size());
  Value* data = graph_.AddInitializer(absl::StrCat(ToAbsl(name), "_quantized"),
                                      BytesTensor(qtype, tensor->dims(), q.values));
  Value* scales = graph_.AddInitializer(absl::StrCat(ToAbsl(name), "_scale"),
                                        MakeTensor<float>(DataType::kFloat, {channels}, q.scales));
  Value* zeros = graph_.AddInitializer(
      absl::StrCat(ToAbsl(name), "_zero_point"),
      BytesTensor(qtype, {channels}, std::vector<int32_t>(channels, zero_point)));
  Node* dq = Create("DequantizeLinear", {data, scales, zeros}, node,
                    absl::StrCat(ToAbsl(name), "_dequantized"), weight->type);
  dq->SetAttribute(Attribute::Int("axis", axis));
  node->SetInput(input, dq->output(0));
  replaced_constants_.push_back(weight);
  weights_[weight] = {dq->output(0), q.scales};
  return q.scales;
}

void QdqEmitter::QuantizeBias(Node* node, int input, float input_scale,
                              const std::vector<float>& weight_scales) {
  Value* bias = node->input(input);
  TensorPtr tensor = GetConstantTensor(bias);
  std::vector<int32_t> q =
      onnx_opt::QuantizeBias(tensor->CopyValues<float>(), input_scale, weight_scales);
  std::vector<float> scales(weight_scales.size());
  for (size_t c = 0; c < scales.size(); ++c) scales[c] = input_scale * weight_scales[c];
  const auto channels = static_cast<int64_t>(scales.size());
  const std::string name = bias->name();
  Value* data = graph_.AddInitializer(absl::StrCat(ToAbsl(name), "_quantized"),
                                      MakeTensor<int32_t>(DataType::kInt32, {channels}, q));
  Value* scale = graph_.AddInitializer(absl::StrCat(ToAbsl(name), "_scale"),
                                       MakeTensor<float>(DataType::kFloat, {channels}, scales));
  Value* zeros = graph_.AddInitializer(
      absl::StrCat(ToAbsl(name), "_zero_point"),
      MakeTensor<int32_t>(DataType::kInt32, {channels}, std::vector<int32_t>(channels, 0)));
  Node* dq = Create("DequantizeLinear", {data, scale, zeros}, node,
                    absl::StrCat(ToAbsl(name), "_dequantized"), bias->type);
  dq->SetAttribute(Attribute::Int("axis", 0));
  node->SetInput(input, dq->output(0));
  if (std::find(replaced_constants_.begin(), replaced_constants_.end(), bias) ==
      replaced_constants_.end()) {
    replaced_constants_.push_back(bias);
  }
}

void EraseIfUnusedConstant(Graph& graph, Value* v) {
  if (v == nullptr || v->graph() != &graph || IsValueUsed(v) || v->is_graph_input()) return;
  if (Node* producer = v->producer()) {
    if (IsConstantNode(*producer)) (void)graph.EraseNode(producer);
  } else if (v->is_initializer()) {
    (void)graph.EraseValue(v);
  }
}

void QdqEmitter::EraseUnusedConstants() {
  for (Value* v : replaced_constants_) EraseIfUnusedConstant(graph_, v);
  replaced_constants_.clear();
}

}  // namespace onnx_opt
