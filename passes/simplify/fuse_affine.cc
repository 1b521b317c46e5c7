// fuse-affine: folds per-channel scales and shifts into the weight and bias of the Conv,
// ConvTranspose, Gemm or MatMul next to them.
//
// After the op: BatchNormalization (inference form), and Mul/Add/Sub/Div by a constant scalar or
// per-output-channel tensor, whose input is the op's only use. Before the op: Mul/Div by a
// per-input-channel constant (zero padding stays zero), and Add/Sub only into a Conv without
// padding (a padded border would see the shift too). Constants must broadcast without changing
// the shape. Weights stored as float16 (also behind a Cast to float) stay float16; the arithmetic
// is float32.
//
// Before:
//   main (float[1,2,4,4] x) => (float[1,3,4,4] y)
//   <float[3,2,1,1] w = randn(seed: 1), float[3] b = {1.0, 2.0, 3.0}, float s = {0.5},
//    float[1,3,1,1] t = {1.0, 0.0, -1.0}>
//   {
//     c = Conv (x, w, b)
//     m = Mul (c, s)
//     y = Add (m, t)
//   }
// After:
//   main (float[1,2,4,4] x) => (float[1,3,4,4] y)
//   <float[3,2,1,1] w_fused = {...}, float[3] b_fused = {1.5, 1.0, 0.5}>
//   {
//     y = Conv (x, w_fused, b_fused)
//   }
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "passes/core/pattern_pass.h"
#include "passes/core/rewrite.h"
#include "passes/simplify/affine_fold.h"
#include "passes/simplify/affine_target.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt {
namespace {

using simplify::AffineOf;
using simplify::AllOnes;
using simplify::ConstantOperand;
using simplify::HasNoPadding;
using simplify::ReadBias;
using simplify::ReadTarget;
using simplify::Rewrite;
using simplify::Target;
using simplify::WeightedOp;
using simplify::WeightLayout;

// y = op(x) * scale + shift, with `y_node` computing the affine part: folds it into op.
absl::StatusOr<bool> FoldAfter(Rewriter& rewriter, Node& y_node, const Target& t,
                               const std::vector<float>& scale, const std::vector<float>& shift) {
  bool shifts = false;
  for (float v : shift) shifts = shifts || v != 0.0f;
  if (t.bias_input < 0 && shifts) return false;  // MatMul has no bias to take the shift
  for (float v : scale) {
    if (!std::isfinite(v)) return false;
  }
  if (!simplify::CanTakeOver(y_node.output(0), t.node->output(0))) return false;
  std::optional<std::vector<float>> bias;
  if (t.bias_input >= 0) {
    bias = ReadBias(t);
    if (!bias) return false;
    for (size_t i = 0; i < bias->size(); ++i) (*bias)[i] = (*bias)[i] * scale[i] + shift[i];
  }
  std::optional<std::vector<float>> weight;
  if (!AllOnes(scale)) weight = simplify::ScaleOutputChannels(t.layout, t.weight.values, scale);
  Rewrite(rewriter, t, weight, bias);
  if (absl::Status s =
          simplify::ReplaceAndErase(rewriter, &y_node, y_node.output(0), t.node->output(0));
      !s.ok()) {
    return s;
  }
  return true;
}

class FoldBatchNorm : public RewritePattern {
 public:
  explicit FoldBatchNorm(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "fold-batchnorm"; }
  std::string_view root_op_type() const override { return "BatchNormalization"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& bn, Rewriter& rewriter) override {
    if (!bn.domain.empty() || bn.GetInt("training_mode").value_or(0) != 0 ||
        bn.GetInt("spatial").value_or(1) != 1 || bn.inputs().size() != 5) {
      return false;
    }
    for (size_t i = 1; i < bn.outputs().size(); ++i) {
      if (bn.output(i) != nullptr && (bn.output(i)->has_uses() || bn.output(i)->is_graph_output()))
        return false;
    }
    Node* producer = bn.input(0)->producer();
    std::optional<Target> t = ReadTarget(producer);
    if (!t || t->node->op_type == "MatMul" || simplify::SoleUser(producer->output(0)) != &bn ||
        producer->graph() != bn.graph()) {
      return false;
    }
    const int64_t n = t->layout.out_channels();
    std::vector<std::vector<float>> p;  // scale, B, mean, var
    for (int i = 1; i <= 4; ++i) {
      std::optional<ConstantOperand> c = simplify::ReadConstant(bn.input(i));
      if (!c || c->dims.size() != 1 || c->dims[0] != n) return false;
      p.push_back(c->values);
    }
    const float epsilon = bn.GetFloat("epsilon").value_or(1e-5f);
    std::vector<float> scale(n), shift(n);
    for (int64_t i = 0; i < n; ++i) {
      scale[i] = p[0][i] / std::sqrt(p[3][i] + epsilon);
      shift[i] = p[1][i] - p[2][i] * scale[i];
    }
    absl::StatusOr<bool> done = FoldAfter(rewriter, bn, *t, scale, shift);
    if (done.ok() && *done) ++count_;
    return done;
  }

 private:
  PassStatistic& count_;
};

// Mul/Add/Sub/Div(op(x), c) -> op'(x).
class FoldAffineAfter : public RewritePattern {
 public:
  FoldAffineAfter(std::string op, PassStatistic& count) : op_(std::move(op)), count_(count) {}
  std::string_view name() const override { return "fold-affine-after"; }
  std::string_view root_op_type() const override { return op_; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty()) return false;
    auto split = simplify::SplitConstantOperand(node);
    if (!split) return false;
    Node* producer = split->variable->producer();
    std::optional<Target> t = ReadTarget(producer);
    if (!t || simplify::SoleUser(producer->output(0)) != &node || producer->graph() != node.graph())
      return false;
    int64_t rank = t->output_rank;
    if (rank < 0) rank = split->constant.dims.size() <= 1 ? 1 : -1;
    if (rank < 1) return false;
    const bool conv_like =
        t->layout.op == WeightedOp::kConv || t->layout.op == WeightedOp::kConvTranspose;
    auto per = simplify::PerChannel(split->constant, rank, conv_like ? 1 : rank - 1,
                                    t->layout.out_channels());
    std::vector<float> scale, shift;
    if (!per || !AffineOf(op_, split->constant_index, *per, scale, shift)) return false;
    absl::StatusOr<bool> done = FoldAfter(rewriter, node, *t, scale, shift);
    if (done.ok() && *done) ++count_;
    return done;
  }

 private:
  std::string op_;
  PassStatistic& count_;
};

// op(Mul/Div/Add/Sub(x, c)) -> op'(x), for Conv, Gemm and MatMul.
class FoldAffineBefore : public RewritePattern {
 public:
  FoldAffineBefore(std::string op, PassStatistic& count) : op_(std::move(op)), count_(count) {}
  std::string_view name() const override { return "fold-affine-before"; }
  std::string_view root_op_type() const override { return op_; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    std::optional<Target> t = ReadTarget(&node);
    if (!t || t->layout.op == WeightedOp::kConvTranspose) return false;
    Node* pre = node.input(0)->producer();
    if (pre == nullptr || !pre->domain.empty() || pre->graph() != node.graph() ||
        simplify::SoleUser(pre->output(0)) != &node) {
      return false;
    }
    auto split = simplify::SplitConstantOperand(*pre);
    if (!split) return false;
    const bool is_conv = t->layout.op == WeightedOp::kConv;
    // Input rank: Conv's is its weight's; Gemm's is 2; MatMul's from the type, else only a
    // constant of rank <= 1 is known to be safe.
    int64_t rank = is_conv || node.op_type == "Gemm" ? t->output_rank : -1;
    if (rank < 0) {
      const auto& shape = node.input(0)->type.shape;
      rank =
          shape ? static_cast<int64_t>(shape->size()) : (split->constant.dims.size() <= 1 ? 1 : -1);
    }
    if (rank < 1) return false;
    auto per = simplify::PerChannel(split->constant, rank, is_conv ? 1 : rank - 1,
                                    t->layout.in_channels());
    std::vector<float> scale, shift;
    if (!per || !AffineOf(pre->op_type, split->constant_index, *per, scale, shift)) return false;
    bool shifts = false;
    for (float v : shift) shifts = shifts || v != 0.0f;
    for (float v : scale) {
      if (!std::isfinite(v)) return false;
    }
    if (shifts && !(is_conv && HasNoPadding(node))) return false;
    std::optional<std::vector<float>> bias;
    if (shifts) {
      bias = ReadBias(*t);
      if (!bias) return false;
      // Shift first, with the weight before scaling: op(x*a + b) = op'(x) + W.b.
      std::vector<float> add = simplify::BiasOfInputShift(t->layout, t->weight.values, shift);
      for (size_t i = 0; i < bias->size(); ++i) (*bias)[i] += add[i];
    }
    std::optional<std::vector<float>> weight;
    if (!AllOnes(scale)) weight = simplify::ScaleInputChannels(t->layout, t->weight.values, scale);
    Rewrite(rewriter, *t, weight, bias);
    node.SetInput(0, split->variable);
    if (absl::Status s = rewriter.EraseNode(pre); !s.ok()) return s;
    ++count_;
    return true;
  }

 private:
  std::string op_;
  PassStatistic& count_;
};

class FuseAffinePass : public PatternPass {
 public:
  std::string_view name() const override { return "fuse-affine"; }
  std::string_view summary() const override {
    return "Fold BatchNormalization and constant Mul/Add/Sub/Div into Conv, ConvTranspose, Gemm "
           "and MatMul weights";
  }
  std::string_view description() const override {
    return "After the op: BatchNormalization (inference form) and Mul/Add/Sub/Div by a scalar or "
           "per-output-channel constant whose input has no other use (MatMul: scales only, it "
           "has no bias). Before the op: Mul/Div by a per-input-channel constant, and Add/Sub "
           "only into a Conv without padding. Constants must broadcast without changing the "
           "shape. float16 weights (also behind a Cast to float) stay float16, computed in "
           "float32. Division is folded as multiplication by the reciprocal (not bit-exact).";
  }

 protected:
  RewritePatterns Patterns(const Graph&, const Model&) override {
    RewritePatterns patterns;
    patterns.push_back(std::make_unique<FoldBatchNorm>(batchnorms_));
    for (const char* op : {"Mul", "Add", "Sub", "Div"}) {
      patterns.push_back(std::make_unique<FoldAffineAfter>(op, after_));
    }
    if (before_.value()) {
      for (const char* op : {"Conv", "Gemm", "MatMul"}) {
        patterns.push_back(std::make_unique<FoldAffineBefore>(op, before_count_));
      }
    }
    return patterns;
  }

 private:
  PassOption<bool> before_{this, "before",
                           "Also fold a scale (and, into an unpadded Conv, a "
                           "shift) applied to the op's input",
                           true};
  PassStatistic batchnorms_{this, "batchnorms-folded", "BatchNormalization nodes folded"};
  PassStatistic after_{this, "after-folded", "Mul/Add/Sub/Div after an op folded into it"};
  PassStatistic before_count_{this, "before-folded", "Mul/Div/Add/Sub before an op folded into it"};
};

}  // namespace

std::unique_ptr<Pass> CreateFuseAffinePass() { return std::make_unique<FuseAffinePass>(); }

}  // namespace onnx_opt
