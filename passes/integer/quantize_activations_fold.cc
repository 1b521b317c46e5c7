#include "passes/integer/quantize_activations_fold.h"

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

// A DequantizeLinear with a scalar float scale and scalar (or absent) zero point.
struct PerTensorDq {
  Node* node;
  Value* integers;  // input 0
  float scale;
  int32_t zero_point;
  DataType type;  // of the integers
};

std::optional<float> ScalarFloat(const Value* v) {
  TensorPtr t = GetConstantTensor(v);
  if (t == nullptr || t->num_elements() != 1 || t->type() != DataType::kFloat) return std::nullopt;
  return t->CopyValues<float>()[0];
}

std::optional<PerTensorDq> AsPerTensorDq(const Value* v) {
  Node* dq = v != nullptr ? v->producer() : nullptr;
  if (dq == nullptr || !dq->Is("DequantizeLinear") || dq->GetInt("block_size").value_or(0) != 0) {
    return std::nullopt;
  }
  std::optional<float> scale = ScalarFloat(dq->input(1));
  if (!scale || !(*scale > 0)) return std::nullopt;
  PerTensorDq p{dq, dq->input(0), *scale, 0, DataType::kUint8};
  if (Value* zp = dq->input(2)) {
    TensorPtr t = GetConstantTensor(zp);
    if (t == nullptr || t->num_elements() != 1) return std::nullopt;
    if (t->type() != DataType::kUint8 && t->type() != DataType::kInt8) return std::nullopt;
    p.type = t->type();
    absl::StatusOr<std::vector<int64_t>> z = t->ToInt64s();
    if (!z.ok()) return std::nullopt;
    p.zero_point = static_cast<int32_t>((*z)[0]);
  }
  return p;
}

// Makes every user of `from` read `to`; a graph output keeps its name.
void ReplaceKeepingName(Graph& graph, Value* from, Value* to) {
  if (from->is_graph_output()) {
    const std::string name = from->name();
    from->set_name(graph.UniqueName(absl::StrCat(ToAbsl(name), "_replaced")));
    from->in_value_info = from->type.is_tensor();  // no longer a graph output
    to->set_name(name);
  }
  from->ReplaceAllUsesWith(to);
}

// DequantizeLinear(integers, scale, zero_point) created before `before`.
Value* NewDq(Graph& graph, const PerTensorDq& like, float scale, int32_t zero_point, Node* before,
             const Value* replaced) {
  const std::string hint = replaced->name();
  Value* s = graph.AddInitializer(
      absl::StrCat(ToAbsl(hint), "_scale"),
      std::make_shared<Tensor>(Tensor::FromValues<float>(DataType::kFloat, {}, {{scale}})));
  auto zp = static_cast<uint8_t>(zero_point);
  Value* z = graph.AddInitializer(
      absl::StrCat(ToAbsl(hint), "_zero_point"),
      std::make_shared<Tensor>(Tensor::FromValues<uint8_t>(like.type, {}, {{zp}})));
  Node* dq = graph.CreateNode("DequantizeLinear", {like.integers, s, z}, 1, before, "",
                              {absl::StrCat(ToAbsl(hint), "_folded")});
  dq->name = dq->output(0)->name();
  dq->output(0)->type = replaced->type;
  return dq->output(0);
}

bool IsQdqNode(const Node& n) { return n.Is("QuantizeLinear") || n.Is("DequantizeLinear"); }

}  // namespace

int64_t FoldScalarAffines(Graph& graph) {
  std::vector<Node*> candidates;
  for (const auto& n : graph.nodes()) {
    if (n->Is("Mul") || n->Is("Div") || n->Is("Add") || n->Is("Sub")) candidates.push_back(n.get());
  }
  int64_t folded = 0;
  for (Node* node : candidates) {
    for (int d = 0; d < 2; ++d) {
      std::optional<PerTensorDq> dq = AsPerTensorDq(node->input(d));
      std::optional<float> c = ScalarFloat(node->input(1 - d));
      if (!dq || !c || !std::isfinite(*c)) continue;
      // A scalar of higher rank than the data would broadcast the output to more dims.
      const Value* data = node->input(d);
      TensorPtr constant = GetConstantTensor(node->input(1 - d));
      if (constant->rank() > 0) {
        if (!data->type.is_tensor() || !data->type.shape ||
            constant->rank() > static_cast<int64_t>(data->type.shape->size())) {
          continue;
        }
      }
      float scale = dq->scale;
      double zero_point = dq->zero_point;
      if (node->Is("Mul") && *c > 0) {
        scale = dq->scale * *c;
      } else if (node->Is("Div") && d == 0 && *c > 0) {
        scale = dq->scale / *c;
      } else if (node->Is("Add") || (node->Is("Sub") && d == 0)) {
        // (q - z) s + c = (q - (z - c / s)) s; the zero point is rounded (a shift <= s / 2).
        const double shift = (node->Is("Add") ? *c : -*c) / dq->scale;
        zero_point = std::nearbyint(dq->zero_point - shift);
        const bool is_signed = dq->type == DataType::kInt8;
        if (zero_point < (is_signed ? -128 : 0) || zero_point > (is_signed ? 127 : 255)) continue;
      } else {
        continue;
      }
      Value* out = node->output(0);
      Value* replacement = NewDq(graph, *dq, scale, static_cast<int32_t>(zero_point), node, out);
      ReplaceKeepingName(graph, out, replacement);
      (void)graph.EraseNode(node);
      ++folded;
      break;
    }
  }
  return folded;
}

int64_t RemoveRequantizePairs(Graph& graph) {
  int64_t removed = 0;
  std::vector<Node*> qs;
  for (const auto& n : graph.nodes()) {
    if (n->Is("QuantizeLinear")) qs.push_back(n.get());
  }
  for (Node* q : qs) {
    std::optional<PerTensorDq> dq = AsPerTensorDq(q->input(0));
    if (!dq) continue;
    // Every reader of the Q must be a DequantizeLinear (what this pass writes).
    std::vector<Node*> readers;
    bool all_dq = !q->output(0)->is_graph_output();
    for (const Use& use : q->output(0)->uses()) {
      all_dq = all_dq && use.node->Is("DequantizeLinear") && use.input_index == 0;
      readers.push_back(use.node);
    }
    if (!all_dq) continue;
    // The values are on DQ's grid already: the readers take them without re-rounding.
    for (Node* reader : readers) ReplaceKeepingName(graph, reader->output(0), q->input(0));
    ++removed;
  }
  return removed;
}

int64_t RemoveDeadQdq(Graph& graph) {
  int64_t removed = 0;
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<Node*> dead;
    for (const auto& n : graph.nodes()) {
      if (IsQdqNode(*n) && !IsValueUsed(n->output(0))) dead.push_back(n.get());
    }
    for (Node* node : dead) {
      std::vector<Value*> inputs = node->inputs();
      if (!graph.EraseNode(node).ok()) continue;
      ++removed;
      changed = true;
      for (Value* in : inputs) {
        if (in != nullptr && in->is_initializer() && !in->is_graph_input() && !IsValueUsed(in)) {
          (void)graph.EraseValue(in);
        }
      }
    }
  }
  return removed;
}

namespace {

// The output channels of a Conv/ConvTranspose/Gemm (the length of its bias), or nullopt.
std::optional<int64_t> OutputChannels(const Node& node) {
  TensorPtr w = GetConstantTensor(node.input(1));
  if (w == nullptr || w->rank() < 2) return std::nullopt;
  if (node.Is("Conv")) return w->dims()[0];
  if (node.Is("ConvTranspose")) return w->dims()[1] * node.GetInt("group").value_or(1);
  return node.GetInt("transB").value_or(0) ? w->dims()[0] : w->dims()[1];  // Gemm
}

}  // namespace

int64_t ShieldFloatWeightedNodes(Graph& graph) {
  int64_t shielded = 0;
  std::vector<Node*> nodes;
  for (const auto& n : graph.nodes()) {
    if (n->Is("Conv") || n->Is("ConvTranspose") || n->Is("Gemm")) nodes.push_back(n.get());
  }
  for (Node* node : nodes) {
    if (!AsPerTensorDq(node->input(0))) continue;
    const Value* weight = node->input(1);
    if (weight == nullptr || !weight->is_initializer()) {
      continue;  // quantized (a DequantizeLinear: ORT's integer kernel is what we want) or computed
    }
    // ORT's condition: one path through Relu/Clip to a QuantizeLinear.
    const Node* current = node;
    bool to_q = false;
    while (current->outputs().size() == 1 && current->output(0)->uses().size() == 1 &&
           !current->output(0)->is_graph_output()) {
      const Node* next = current->output(0)->uses()[0].node;
      if (next->Is("QuantizeLinear")) to_q = true;
      if (!next->Is("Relu") && !next->Is("Clip")) break;
      current = next;
    }
    if (!to_q) continue;
    // ORT quantizes only a node whose bias is absent or a 1-D initializer: the bias becomes
    // int32 behind a DequantizeLinear (C elements to dequantize per run, where a per-channel
    // DequantizeLinear of the activation cost whole milliseconds on PP-OCRv4 recognition).
    Value* bias = node->input(2);
    std::vector<float> values;
    if (bias != nullptr) {
      TensorPtr b = GetConstantTensor(bias);
      if (b == nullptr || !bias->is_initializer()) continue;  // computed: ORT leaves it float
      if (b->rank() != 1 || b->type() != DataType::kFloat) continue;
      absl::StatusOr<std::vector<float>> floats = b->ToFloats();
      if (!floats.ok()) continue;
      values = *std::move(floats);
    } else {
      std::optional<int64_t> channels = OutputChannels(*node);
      if (!channels || *channels < 1) continue;
      values.assign(*channels, 0.0f);
    }
    float largest = 0;
    for (float v : values) largest = std::max(largest, std::abs(v));
    if (!std::isfinite(largest)) continue;
    // 2^30 levels for the largest bias: float32's own precision, and no int32 overflow.
    const float scale = largest > 0 ? largest / static_cast<float>(1 << 30) : 1.0f;
    std::vector<int32_t> integers;
    integers.reserve(values.size());
    for (float v : values) integers.push_back(static_cast<int32_t>(std::lround(v / scale)));
    const std::string hint =
        absl::StrCat(ToAbsl(bias != nullptr ? bias->name() : node->output(0)->name()),
                     bias != nullptr ? "_int32" : "_zero_bias_int32");
    const int64_t n = static_cast<int64_t>(integers.size());
    Value* q =
        graph.AddInitializer(hint, std::make_shared<Tensor>(Tensor::FromValues<int32_t>(
                                       DataType::kInt32, {n}, std::span<const int32_t>(integers))));
    Value* s = graph.AddInitializer(absl::StrCat(hint, "_scale"),
                                    std::make_shared<Tensor>(Tensor::FromValues<float>(
                                        DataType::kFloat, {}, std::span<const float>(&scale, 1))));
    Node* dq = graph.CreateNode("DequantizeLinear", {q, s}, 1, node, "",
                                {absl::StrCat(hint, "_dequantized")});
    dq->name = dq->output(0)->name();
    dq->output(0)->type = ValueType::Tensor(DataType::kFloat, std::vector<Dim>{Dim{n}});
    node->SetInput(2, dq->output(0));
    if (bias != nullptr && !IsValueUsed(bias) && !bias->is_graph_input()) {
      (void)graph.EraseValue(bias);
    }
    ++shielded;
  }
  return shielded;
}

}  // namespace onnx_opt
