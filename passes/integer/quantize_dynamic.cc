#include "passes/integer/quantize_dynamic.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"
#include "passes/integer/qoperator.h"
#include "passes/simplify/shape_inference.h"
#include "passes/simplify/simplify_utils.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

Value* FloatInitializer(Graph& graph, const std::string& hint, std::vector<int64_t> dims,
                        const std::vector<float>& values) {
  return graph.AddInitializer(hint, std::make_shared<Tensor>(Tensor::FromValues<float>(
                                        DataType::kFloat, std::move(dims), values)));
}

Value* BytesInitializer(Graph& graph, const std::string& hint, DataType type,
                        std::vector<int64_t> dims, std::vector<uint8_t> bytes) {
  return graph.AddInitializer(
      hint, std::make_shared<Tensor>(type, std::move(dims), Buffer::FromVector(std::move(bytes))));
}

// The run-time quantization of one activation, shared by every op that reads it.
struct QuantizedActivation {
  Value* codes;
  Value* scale;
  Value* zero_point;
};

class DynamicQuantizer {
 public:
  DynamicQuantizer(Graph& graph, const DynamicQuantOptions& options, DynamicQuantResult& result)
      : graph_(graph), options_(options), result_(result) {}

  // Rewrites `node` (a Conv or MatMul) when it fits; returns whether it did.
  absl::StatusOr<bool> Rewrite(Node& node) {
    const bool is_conv = node.op_type == "Conv";
    Value* x = node.input(0);
    if (x == nullptr || node.input(1) == nullptr) return false;
    // DynamicQuantizeLinear takes float32: a float16 activation goes through a Cast, and so
    // does the result on its way back. Untyped after inference: left alone.
    const DataType act_type = x->type.elem_type;
    if (act_type != DataType::kFloat && act_type != DataType::kFloat16) return false;
    std::optional<simplify::ConstantOperand> w = simplify::ReadConstant(node.input(1));
    if (!w || (w->type() != DataType::kFloat && w->type() != DataType::kFloat16)) return false;
    const int64_t rank = static_cast<int64_t>(w->dims.size());
    if (is_conv ? rank < 3 : rank != 2) return false;
    std::optional<simplify::ConstantOperand> bias;
    const int64_t channels = is_conv ? w->dims[0] : w->dims[1];
    if (is_conv && node.input(2) != nullptr) {
      bias = simplify::ReadConstant(node.input(2));
      if (!bias || static_cast<int64_t>(bias->values.size()) != channels) return false;
    }

    // Per output channel: Conv [M, rest] blocks of `rest`; MatMul B [K, N] one block of K per
    // column. Per tensor: one block of everything.
    const int64_t total = static_cast<int64_t>(w->values.size());
    quant::BlockLayout layout{1, total, 1, total};
    if (options_.per_channel) {
      layout = is_conv ? quant::BlockLayout{channels, total / channels, 1, total / channels}
                       : quant::BlockLayout{1, w->dims[0], channels, w->dims[0]};
    }
    quant::WeightQuantOptions qopt;
    qopt.qtype = options_.weights_signed ? quant::QType::kInt8 : quant::QType::kUint8;
    qopt.symmetric = true;
    absl::StatusOr<quant::QuantizedWeight> q = quant::QuantizeWeight(w->values, layout, qopt);
    if (!q.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(node.DebugName(), ": weight: ", q.status().message()));
    }

    const std::string base = node.name.empty() ? node.output(0)->name() : node.name;
    const DataType wtype = options_.weights_signed ? DataType::kInt8 : DataType::kUint8;
    Value* w_codes =
        BytesInitializer(graph_, base + "_w_quantized", wtype, w->dims, std::move(q->data));
    Value* w_zp = BytesInitializer(graph_, base + "_w_zero_point", wtype, {},
                                   {static_cast<uint8_t>(options_.weights_signed ? 0 : 128)});
    std::vector<int64_t> scale_dims;
    if (options_.per_channel) {
      scale_dims = is_conv ? std::vector<int64_t>(rank, 1) : std::vector<int64_t>{channels};
      if (is_conv) scale_dims[1] = channels;
    }
    Value* w_scale = FloatInitializer(graph_, base + "_w_scale", scale_dims, q->scales);
    result_.weight_bytes_before += total * 4;
    result_.weight_bytes_after += total + static_cast<int64_t>(q->scales.size()) * 4;

    const QuantizedActivation a = Activation(x, &node);
    Node* op =
        graph_.CreateNode(is_conv ? "ConvInteger" : "MatMulInteger",
                          {a.codes, w_codes, a.zero_point, w_zp}, 1, &node, "", {base + "_int32"});
    op->name = node.name;
    integer::CopyPlainAttributes(node, *op);  // ConvInteger takes Conv's; MatMul has none
    Node* cast = graph_.CreateNode("Cast", {op->output(0)}, 1, &node, "", {base + "_float"});
    cast->SetAttribute(Attribute::Int("to", static_cast<int64_t>(DataType::kFloat)));
    Node* scale = graph_.CreateNode("Mul", {a.scale, w_scale}, 1, &node, "", {base + "_scale"});
    Node* out = graph_.CreateNode("Mul", {cast->output(0), scale->output(0)}, 1, &node, "",
                                  {base + "_scaled"});
    if (bias) {
      std::vector<int64_t> bias_dims(rank, 1);
      bias_dims[1] = channels;
      Value* b = FloatInitializer(graph_, base + "_bias", bias_dims, bias->values);
      out = graph_.CreateNode("Add", {out->output(0), b}, 1, &node, "", {base + "_biased"});
    }
    if (act_type == DataType::kFloat16) {
      out = graph_.CreateNode("Cast", {out->output(0)}, 1, &node, "", {base + "_half"});
      out->SetAttribute(Attribute::Int("to", static_cast<int64_t>(DataType::kFloat16)));
    }
    Value* old_out = node.output(0);
    Value* new_out = out->output(0);
    new_out->type = old_out->type;
    std::string name = old_out->name();
    old_out->ReplaceAllUsesWith(new_out);
    std::vector<Value*> old_inputs = {node.input(1), node.input(2)};
    if (absl::Status s = graph_.EraseNode(&node); !s.ok()) return s;
    new_out->set_name(std::move(name));
    for (Value* v : old_inputs) EraseIfDead(v);
    ++(is_conv ? result_.convs : result_.matmuls);
    return true;
  }

 private:
  // DynamicQuantizeLinear of `x`, created before its first quantized user (`user`: nodes are
  // visited in graph order, so later users come after it).
  QuantizedActivation Activation(Value* x, Node* user) {
    auto it = activations_.find(x);
    if (it != activations_.end()) return it->second;
    const std::string base = x->name();
    Value* input = x;
    if (x->type.elem_type == DataType::kFloat16) {
      Node* cast = graph_.CreateNode("Cast", {x}, 1, user, "", {base + "_float"});
      cast->SetAttribute(Attribute::Int("to", static_cast<int64_t>(DataType::kFloat)));
      input = cast->output(0);
    }
    Node* dql = graph_.CreateNode("DynamicQuantizeLinear", {input}, 3, user, "",
                                  {base + "_quantized", base + "_scale", base + "_zero_point"});
    ++result_.activations;
    QuantizedActivation a{dql->output(0), dql->output(1), dql->output(2)};
    activations_.emplace(x, a);
    return a;
  }

  // Removes a replaced weight or bias nobody uses any more (behind its Cast, if any).
  void EraseIfDead(Value* v) {
    if (v == nullptr || IsValueUsed(v) || v->graph() != &graph_) return;
    Node* producer = v->producer();
    if (producer != nullptr) {
      if (!producer->Is("Cast") && !IsConstantNode(*producer)) return;
      Value* source = producer->input(0);
      if (!graph_.EraseNode(producer).ok()) return;
      EraseIfDead(source);
    } else if (v->is_initializer() && !v->is_graph_input()) {
      (void)graph_.EraseValue(v);
    }
  }

  Graph& graph_;
  const DynamicQuantOptions& options_;
  DynamicQuantResult& result_;
  absl::flat_hash_map<Value*, QuantizedActivation> activations_;
};

}  // namespace

absl::StatusOr<DynamicQuantResult> QuantizeDynamic(Model& model,
                                                   const DynamicQuantOptions& options) {
  for (const std::string& op : options.op_types) {
    if (op != "Conv" && op != "MatMul") {
      return absl::InvalidArgumentError(
          absl::StrCat("dynamic quantization handles Conv and MatMul, not '", op, "'"));
    }
  }
  const int64_t opset = model.OpsetVersion("").value_or(1);
  if (opset < 11) {
    return absl::FailedPreconditionError(absl::StrCat(
        "dynamic quantization writes DynamicQuantizeLinear (opset 11) but the model's default "
        "opset is ",
        opset, "; run upgrade-opset{target=13} first"));
  }
  // Activation types tell float32 from float16 (and from what the integer ops cannot take).
  ShapeInferenceStats inferred;
  if (absl::Status s = InferModelShapes(model, &inferred); !s.ok()) return s;
  DynamicQuantResult result;
  absl::Status status;
  model.WalkGraphs([&](Graph& graph) {
    if (!status.ok()) return;
    std::vector<Node*> candidates;
    for (const auto& node : graph.nodes()) {
      if (!node->domain.empty() || !Contains(options.op_types, node->op_type)) continue;
      if (!options.nodes.empty() && !Contains(options.nodes, node->name)) continue;
      if (Contains(options.exclude_nodes, node->name)) continue;
      candidates.push_back(node.get());
    }
    DynamicQuantizer quantizer(graph, options, result);
    for (Node* node : candidates) {
      absl::StatusOr<bool> done = quantizer.Rewrite(*node);
      if (!done.ok()) {
        status = done.status();
        return;
      }
      if (!*done) ++result.skipped;
    }
  });
  if (!status.ok()) return status;
  // The values the rewrite made get their types recorded as the inference above recorded the
  // others', so a second run (which infers them) changes nothing.
  // (The rewritten nodes' outputs keep their names and types but are new values.)
  if (result.convs + result.matmuls > 0) {
    if (absl::Status s = InferModelShapes(model, &inferred); !s.ok()) return s;
    model.WalkGraphs([](Graph& graph) {
      for (const auto& node : graph.nodes()) {
        for (Value* out : node->outputs()) {
          if (out != nullptr && out->type.is_tensor() && !out->is_graph_output()) {
            out->in_value_info = true;
          }
        }
      }
    });
  }
  return result;
}

}  // namespace onnx_opt
