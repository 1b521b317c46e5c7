// eliminate-identity: removes operators that compute their input unchanged, merges Transpose and
// Reshape pairs, drops unused optional outputs and erases dead nodes (ONNX Runtime runs a
// DequantizeLinear even when nothing reads its output).
//
// Identity, Dropout in inference (no training_mode, or a constant false one; mask unused), Cast
// to the input's own type, Transpose with the identity permutation, Reshape to the input's known
// static shape. Transpose(Transpose(x)) becomes one Transpose (or x), Reshape(Reshape(x)) one
// Reshape when the outer shape has no 0 entry. A removed node whose output is a graph output
// hands that name to its input when the input is a plain node output of the same graph;
// otherwise it stays (graph inputs and values of an enclosing graph cannot be renamed).
//
// Before:
//   main (float[2,3] x) => (float[2,3] y)
//   {
//     a = Identity (x)
//     t1 = Transpose <perm = [1, 0]> (a)
//     t2 = Transpose <perm = [1, 0]> (t1)
//     r = Relu (t2)
//     y = Identity (r)
//   }
// After:
//   main (float[2,3] x) => (float[2,3] y) {
//     y = Relu (x)
//   }
#include <memory>
#include <optional>
#include <vector>

#include "passes/core/pattern_pass.h"
#include "passes/core/rewrite.h"
#include "passes/core/utils.h"
#include "passes/opset/adapters/adapter.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt {
namespace {

std::optional<DataType> ElemType(const Value* v) {
  if (v->type.is_tensor() && v->type.elem_type != DataType::kUndefined) return v->type.elem_type;
  if (TensorPtr t = GetConstantTensor(v)) return t->type();
  return std::nullopt;
}

// Replaces node's first output by `to` when the graph-output name can be kept.
absl::StatusOr<bool> Forward(Rewriter& rewriter, Node& node, Value* to, PassStatistic& count) {
  Value* from = node.output(0);
  if (!simplify::CanTakeOver(from, to)) return false;
  for (size_t i = 1; i < node.outputs().size(); ++i) {
    if (node.output(i) != nullptr && IsValueUsed(node.output(i))) return false;
  }
  if (absl::Status s = simplify::ReplaceAndErase(rewriter, &node, from, to); !s.ok()) return s;
  ++count;
  return true;
}

// Identity, Dropout (inference), no-op Cast / Transpose / Reshape -> their input.
class RemoveNoOp : public RewritePattern {
 public:
  RemoveNoOp(std::string op, PassStatistic& count) : op_(std::move(op)), count_(count) {}
  std::string_view name() const override { return "remove-no-op"; }
  std::string_view root_op_type() const override { return op_; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || node.input(0) == nullptr || node.output(0) == nullptr) {
      return false;
    }
    if (!IsNoOp(node)) return false;
    return Forward(rewriter, node, node.input(0), count_);
  }

 private:
  static bool IsNoOp(const Node& node) {
    Value* x = node.input(0);
    if (node.op_type == "Identity") return true;
    if (node.op_type == "Dropout") {
      if (node.GetInt("is_test").value_or(1) == 0) return false;  // opset 1-6 training form
      Value* training = node.input(2);
      if (training == nullptr) return true;
      TensorPtr t = GetConstantTensor(training);
      if (t == nullptr) return false;
      absl::StatusOr<std::vector<int64_t>> v = t->ToInt64s();
      return v.ok() && v->size() == 1 && (*v)[0] == 0;
    }
    if (node.op_type == "Cast") {
      std::optional<DataType> in = ElemType(x);
      std::optional<int64_t> to = node.GetInt("to");
      return in && to && static_cast<int64_t>(*in) == *to;
    }
    if (node.op_type == "Transpose") {
      std::optional<std::vector<int64_t>> perm = node.GetInts("perm");
      if (!perm) return false;
      for (size_t i = 0; i < perm->size(); ++i) {
        if ((*perm)[i] != static_cast<int64_t>(i)) return false;
      }
      return true;
    }
    if (node.op_type == "Reshape") {
      std::optional<std::vector<int64_t>> in = x->type.static_dims();
      TensorPtr shape = GetConstantTensor(node.input(1));
      if (!in || shape == nullptr) return false;
      absl::StatusOr<std::vector<int64_t>> target = shape->ToInt64s();
      if (!target.ok() || target->size() != in->size()) return false;
      const bool allowzero = node.GetInt("allowzero").value_or(0) != 0;
      int wildcards = 0;
      for (size_t i = 0; i < in->size(); ++i) {
        int64_t t = (*target)[i];
        if (t == 0 && !allowzero) continue;  // copies the input dim
        if (t == -1) {
          ++wildcards;
          continue;
        }
        if (t != (*in)[i]) return false;
      }
      return wildcards <= 1;  // the one -1 is then the input's dim: the rest match
    }
    return false;
  }
  std::string op_;
  PassStatistic& count_;
};

// Transpose(Transpose(x, p1), p2) -> Transpose(x, p1[p2[i]]).
class MergeTransposes : public RewritePattern {
 public:
  explicit MergeTransposes(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "merge-transposes"; }
  std::string_view root_op_type() const override { return "Transpose"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& outer, Rewriter& rewriter) override {
    Node* inner = outer.input(0) != nullptr ? outer.input(0)->producer() : nullptr;
    if (!outer.domain.empty() || inner == nullptr || !inner->Is("Transpose") ||
        inner->graph() != outer.graph()) {
      return false;
    }
    std::optional<std::vector<int64_t>> p1 = inner->GetInts("perm");
    std::optional<std::vector<int64_t>> p2 = outer.GetInts("perm");
    if (!p1 || !p2 || p1->size() != p2->size()) return false;
    std::vector<int64_t> merged(p2->size());
    for (size_t i = 0; i < p2->size(); ++i) {
      if ((*p2)[i] < 0 || (*p2)[i] >= static_cast<int64_t>(p1->size())) return false;
      merged[i] = (*p1)[(*p2)[i]];
    }
    outer.SetInput(0, inner->input(0));
    outer.SetAttribute(Attribute::Ints("perm", merged));
    rewriter.NotifyChanged(&outer);  // the identity case is then removed by RemoveNoOp
    ++count_;
    return true;
  }

 private:
  PassStatistic& count_;
};

// Reshape(Reshape(x, s1), s2) -> Reshape(x, s2) when s2 copies no dim (no 0 entry).
class MergeReshapes : public RewritePattern {
 public:
  explicit MergeReshapes(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "merge-reshapes"; }
  std::string_view root_op_type() const override { return "Reshape"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& outer, Rewriter& rewriter) override {
    Node* inner = outer.input(0) != nullptr ? outer.input(0)->producer() : nullptr;
    if (!outer.domain.empty() || inner == nullptr || !inner->Is("Reshape") ||
        inner->graph() != outer.graph()) {
      return false;
    }
    TensorPtr shape = GetConstantTensor(outer.input(1));
    if (shape == nullptr) return false;
    absl::StatusOr<std::vector<int64_t>> s2 = shape->ToInt64s();
    if (!s2.ok()) return false;
    for (int64_t d : *s2) {
      if (d == 0) return false;
    }
    outer.SetInput(0, inner->input(0));
    rewriter.NotifyChanged(&outer);
    ++count_;
    return true;
  }

 private:
  PassStatistic& count_;
};

// Drops trailing outputs nobody uses from ops whose later outputs are optional.
class DropUnusedOutputs : public RewritePattern {
 public:
  explicit DropUnusedOutputs(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "drop-unused-outputs"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    size_t required = RequiredOutputs(node);
    size_t keep = node.outputs().size();
    while (keep > required &&
           (node.output(keep - 1) == nullptr || !IsValueUsed(node.output(keep - 1)))) {
      --keep;
    }
    if (keep == node.outputs().size()) return false;
    Node* fresh = opset::RebuildWithOutputs(node, keep);
    rewriter.NotifyChanged(fresh);
    ++count_;
    return true;
  }

 private:
  // Outputs every instance must have; SIZE_MAX for ops not known here.
  static size_t RequiredOutputs(const Node& node) {
    if (!node.domain.empty()) return SIZE_MAX;
    const std::string& op = node.op_type;
    if (op == "Dropout" || op == "MaxPool" || op == "LayerNormalization") return 1;
    if (op == "BatchNormalization" && node.GetInt("training_mode").value_or(0) == 0) return 1;
    return SIZE_MAX;
  }
  PassStatistic& count_;
};

class EliminateIdentityPass : public PatternPass {
 public:
  std::string_view name() const override { return "eliminate-identity"; }
  std::string_view summary() const override {
    return "Remove Identity, inference Dropout, no-op Cast/Transpose/Reshape, Transpose and "
           "Reshape pairs, unused optional outputs and dead nodes";
  }
  std::string_view description() const override {
    return "A removed node whose output is a graph output gives that name to its input when the "
           "input is a plain node output of the same graph (graph inputs, initializers and "
           "values of an enclosing graph keep their Identity). Reshape is a no-op only when the "
           "input's static shape is known and equals the target. Dead nodes, such as a "
           "DequantizeLinear nothing reads, are erased.";
  }

  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    const int64_t before = static_cast<int64_t>(graph.num_nodes());
    absl::Status status = PatternPass::RunOnGraph(graph, model);
    nodes_removed_ += before - static_cast<int64_t>(graph.num_nodes());
    return status;
  }

 protected:
  RewritePatterns Patterns(const Graph&, const Model&) override {
    RewritePatterns patterns;
    for (const char* op : {"Identity", "Dropout", "Cast", "Transpose", "Reshape"}) {
      patterns.push_back(std::make_unique<RemoveNoOp>(op, removed_));
    }
    patterns.push_back(std::make_unique<MergeTransposes>(merged_));
    patterns.push_back(std::make_unique<MergeReshapes>(merged_));
    patterns.push_back(std::make_unique<DropUnusedOutputs>(outputs_dropped_));
    return patterns;
  }

 private:
  PassStatistic removed_{this, "no-ops-removed", "Identity-like nodes removed"};
  PassStatistic merged_{this, "pairs-merged", "Transpose/Reshape pairs merged"};
  PassStatistic outputs_dropped_{this, "outputs-dropped",
                                 "Nodes whose unused outputs were dropped"};
  PassStatistic nodes_removed_{this, "nodes-removed", "Net nodes removed (dead ones included)"};
};

}  // namespace

std::unique_ptr<Pass> CreateEliminateIdentityPass() {
  return std::make_unique<EliminateIdentityPass>();
}

}  // namespace onnx_opt
