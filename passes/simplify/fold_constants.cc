// fold-constants: evaluates nodes whose inputs are all constant and replaces their outputs by
// initializers; Shape and Size of values whose shape is known, and CastLike to a value whose
// type is known, fold even when that value is not constant.
//
// Evaluation is the reference evaluator of evaluator/ (elementwise maths with broadcasting, Cast,
// Shape, Gather, Concat, Reshape, Slice, Split, Transpose, ConstantOfShape, Range, Expand, Tile,
// Where, comparisons, Reduce*, MatMul/Gemm, Pad, ...). Shapes come from infer-shapes, which runs
// before every folding round, so Shape -> Gather -> Concat -> Reshape chains fold once the input
// shapes are static (set-input-shapes). Memory is bounded: a node whose output would exceed
// max-bytes is left alone (counted) and nothing is allocated for it. DequantizeLinear and
// QuantizeLinear are never folded: that would undo the quantization of their weights.
//
// Before:
//   main (float[1,3,4,4] x) => (float[1,48] y) {
//     s = Shape (x)
//     i = Constant <value = int64[1] {0}> ()
//     n = Gather <axis = 0> (s, i)
//     m = Constant <value = int64[1] {-1}> ()
//     shape = Concat <axis = 0> (n, m)
//     y = Reshape (x, shape)
//   }
// After:
//   main (float[1,3,4,4] x) => (float[1,48] y)
//   <int64[2] shape = {1, -1}>
//   {
//     y = Reshape (x, shape)
//   }
//   (the dead Shape, Gather and Constant nodes go with dce)
#include <algorithm>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "evaluator/evaluator.h"
#include "passes/core/pass.h"
#include "passes/core/utils.h"
#include "passes/simplify/shape_inference.h"

namespace onnx_opt {
namespace {

// Folding these would turn quantized weights back into float ones.
bool IsQuantizationOp(const Node& node) {
  return node.domain.empty() &&
         (node.op_type == "DequantizeLinear" || node.op_type == "QuantizeLinear" ||
          node.op_type == "DynamicQuantizeLinear");
}

// Shape or Size of a value with a static shape (the value itself need not be constant).
TensorPtr FoldShapeOf(const Node& node) {
  if (!node.domain.empty() || (node.op_type != "Shape" && node.op_type != "Size")) return nullptr;
  const Value* in = node.input(0);
  if (in == nullptr || !in->type.is_tensor()) return nullptr;
  std::optional<std::vector<int64_t>> dims = in->type.static_dims();
  if (!dims) return nullptr;
  const int64_t rank = static_cast<int64_t>(dims->size());
  if (node.op_type == "Size") {
    int64_t n = 1;
    for (int64_t d : *dims) {
      if (d < 0 || (d != 0 && n > std::numeric_limits<int64_t>::max() / d)) return nullptr;
      n *= d;
    }
    return std::make_shared<Tensor>(
        Tensor::FromValues<int64_t>(DataType::kInt64, {}, std::span<const int64_t>(&n, 1)));
  }
  int64_t start = node.GetInt("start").value_or(0), end = node.GetInt("end").value_or(rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> part(dims->begin() + start, dims->begin() + end);
  return std::make_shared<Tensor>(Tensor::FromValues<int64_t>(
      DataType::kInt64, {static_cast<int64_t>(part.size())}, std::span<const int64_t>(part)));
}

// True when a folded tensor agrees with the type the model declares for the value.
bool MatchesDeclared(const Value& v, const Tensor& t) {
  if (!v.type.is_tensor()) return true;
  if (v.type.elem_type != DataType::kUndefined && v.type.elem_type != t.type()) return false;
  if (!v.type.shape) return true;
  if (v.type.shape->size() != t.dims().size()) return false;
  for (size_t i = 0; i < t.dims().size(); ++i) {
    const Dim& d = (*v.type.shape)[i];
    if (d.is_fixed() && *d.value != t.dims()[i]) return false;
  }
  return true;
}

class FoldConstantsPass : public Pass {
 public:
  FoldConstantsPass() { max_bytes_.Range(0, 1e15); }
  std::string_view name() const override { return "fold-constants"; }
  std::string_view summary() const override {
    return "Evaluate nodes whose inputs are constant (and Shape of known shapes) into initializers";
  }
  std::string_view description() const override {
    return "Uses the reference evaluator (evaluator/); infer-shapes runs before each round so "
           "Shape/Size of statically shaped values fold and shape subgraphs collapse. Rounds "
           "repeat until nothing folds. Nodes over max-bytes, without a kernel, or whose "
           "evaluation fails (malformed attributes, integer division by zero, out-of-range "
           "casts) are left for the runtime and counted. DequantizeLinear/QuantizeLinear are "
           "never folded. Dead producers are left for dce.";
  }

  absl::Status RunOnModel(Model& model) override {
    if (!model.graph) return absl::OkStatus();
    const int64_t opset = model.OpsetVersion("").value_or(1);
    eval::EvalLimits limits;
    limits.max_bytes = max_bytes_.value();
    for (int round = 0; round < 16; ++round) {
      if (infer_shapes_.value()) {
        ShapeInferenceStats stats;
        if (absl::Status s = InferModelShapes(model, &stats); !s.ok()) return s;
      }
      int64_t folded = 0;
      skips_ = {};
      absl::Status status = absl::OkStatus();
      model.graph->Walk([&](Graph& graph) {
        if (status.ok()) status = FoldGraph(graph, opset, limits, &folded);
      });
      if (!status.ok()) return status;
      if (folded == 0) break;
    }
    // Nodes left alone are counted once, as the last round saw them.
    unsupported_ += skips_.unsupported;
    over_limit_ += skips_.over_limit;
    failed_ += skips_.failed;
    kept_quantization_ += skips_.quantization;
    return absl::OkStatus();
  }

 private:
  absl::Status FoldGraph(Graph& graph, int64_t opset, const eval::EvalLimits& limits,
                         int64_t* folded) {
    std::vector<Node*> nodes;
    for (const auto& n : graph.nodes()) nodes.push_back(n.get());
    for (Node* node : nodes) {
      if (IsConstantNode(*node) || !node->subgraphs().empty()) continue;
      std::vector<TensorPtr> results;
      if (TensorPtr shape = FoldShapeOf(*node)) {
        results = {shape};
        ++shapes_folded_;
      } else {
        std::vector<TensorPtr> inputs;
        bool all_constant = true;
        for (Value* in : node->inputs()) {
          inputs.push_back(in == nullptr ? nullptr : GetConstantTensor(in));
          all_constant &= in == nullptr || inputs.back() != nullptr;
        }
        // CastLike reads only the type of its second input: a typed value stands in as an
        // empty tensor (upgrade-opset writes Clip bounds as CastLike(bound, x), which ONNX
        // Runtime cannot fold and, between quantized tensors, duplicates DequantizeLinear for).
        if (!all_constant && node->Is("CastLike") && inputs.size() == 2 && inputs[0] != nullptr &&
            inputs[1] == nullptr && node->input(1) != nullptr && node->input(1)->type.is_tensor() &&
            node->input(1)->type.elem_type != DataType::kUndefined) {
          inputs[1] = std::make_shared<Tensor>(node->input(1)->type.elem_type,
                                               std::vector<int64_t>{0}, Buffer::Copy({}));
          all_constant = true;
        }
        if (!all_constant || node->inputs().empty()) continue;
        if (IsQuantizationOp(*node)) {
          ++skips_.quantization;
          continue;
        }
        if (!eval::IsSupportedOp(node->domain, node->op_type)) {
          ++skips_.unsupported;
          continue;
        }
        absl::StatusOr<std::vector<TensorPtr>> out =
            eval::EvaluateNode(*node, inputs, opset, limits);
        if (!out.ok()) {
          const absl::StatusCode code = out.status().code();
          ++(code == absl::StatusCode::kResourceExhausted ? skips_.over_limit
             : code == absl::StatusCode::kUnimplemented   ? skips_.unsupported
                                                          : skips_.failed);
          continue;
        }
        results = *std::move(out);
      }
      bool matches = true;
      for (size_t i = 0; i < results.size(); ++i) {
        if (node->output(i) != nullptr && !MatchesDeclared(*node->output(i), *results[i])) {
          matches = false;
        }
      }
      if (!matches) {
        ++skips_.failed;
        continue;
      }
      std::vector<std::pair<Value*, std::string>> renames;
      for (size_t i = 0; i < results.size(); ++i) {
        Value* old = node->output(i);
        if (old == nullptr) continue;
        Value* init = graph.AddInitializer(absl::StrCat(old->name(), ".folded"), results[i]);
        init->doc_string = old->doc_string;
        renames.emplace_back(init, old->name());
        old->ReplaceAllUsesWith(init);
      }
      if (absl::Status s = graph.EraseNode(node); !s.ok()) return s;
      // The initializers take the names of the outputs they replace, now free.
      for (auto& [init, name] : renames) init->set_name(name);
      ++folded_;
      ++*folded;
    }
    return absl::OkStatus();
  }

  struct Skips {
    int64_t unsupported = 0, over_limit = 0, failed = 0, quantization = 0;
  };
  Skips skips_;
  PassOption<int64_t> max_bytes_{
      this, "max-bytes", "Largest tensor one folded node may produce, in bytes", int64_t{16} << 20};
  PassOption<bool> infer_shapes_{this, "infer-shapes",
                                 "Run shape inference before each round (folds Shape of known "
                                 "shapes)",
                                 true};
  PassStatistic folded_{this, "nodes-folded", "Nodes replaced by initializers"};
  PassStatistic shapes_folded_{this, "shapes-folded",
                               "Shape/Size nodes folded from inferred shapes"};
  PassStatistic unsupported_{this, "nodes-unsupported",
                             "Nodes with constant inputs the evaluator has no kernel for"};
  PassStatistic over_limit_{this, "nodes-over-limit",
                            "Nodes left alone because an output would exceed max-bytes"};
  PassStatistic failed_{this, "nodes-not-evaluable",
                        "Nodes whose evaluation failed (malformed, undefined result)"};
  PassStatistic kept_quantization_{this, "quantization-nodes-kept",
                                   "DequantizeLinear/QuantizeLinear with constant inputs kept"};
};

}  // namespace

std::unique_ptr<Pass> CreateFoldConstantsPass() { return std::make_unique<FoldConstantsPass>(); }

}  // namespace onnx_opt
