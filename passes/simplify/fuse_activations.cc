// fuse-activations: rewrites activation functions spelled out in elementary ops into the one op,
// only where that op exists in the model's opset and the constants match exactly.
//
// - x * Clip(x + 3, 0, 6) / 6 (or * 1/6) -> HardSwish(x) from opset 14, else x * HardSigmoid(x)
// - x * HardSigmoid(x) with alpha = 1/6 and beta = 0.5 -> HardSwish(x) (opset >= 14)
// - 0.5 * x * (1 + Erf(x / sqrt(2))) -> Gelu(x); 0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715
//   x^3))) -> Gelu<approximate="tanh">(x) (opset >= 20), any association of the products
// - Min(Max(x, lo), hi), Max(Min(x, hi), lo), Clip(Relu(x), lo, hi) -> Clip(x, max(lo, 0), hi)
// Every intermediate must have no other use. Constants are compared at float32 precision (1e-6
// relative; exporters write 1/6 as 0.1666667).
//
// Before:
//   <ir_version: 8, opset_import: ["" : 14]>
//   main (float[4] x) => (float[4] y)
//   <float three = {3.0}, float zero = {0.0}, float six = {6.0}>
//   {
//     a = Add (x, three)
//     c = Clip (a, zero, six)
//     m = Mul (x, c)
//     y = Div (m, six)
//   }
// After:
//   main (float[4] x) => (float[4] y) {
//     y = HardSwish (x)
//   }
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "passes/core/pattern_pass.h"
#include "passes/core/rewrite.h"
#include "passes/core/utils.h"
#include "passes/simplify/activation_match.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt {
namespace {

using simplify::BinaryWithConstant;
using simplify::ClipBounds;
using simplify::Near;
using simplify::ScalarOperand;
using simplify::SoleProducer;

class ActivationPattern : public RewritePattern {
 public:
  ActivationPattern(int64_t opset, PassStatistic& count) : opset_(opset), count_(count) {}

 protected:
  // Replaces `root` by `op_type`(x) (+ attributes), keeping a graph-output name.
  absl::StatusOr<bool> Replace(Rewriter& rewriter, Node& root, Value* x, std::string_view op_type,
                               const std::function<void(Node&)>& set_attributes = nullptr) {
    Node* fused =
        rewriter.CreateNodeBefore(&root, op_type, {x}, 1, "", {root.output(0)->name() + "_fused"});
    fused->name = root.name;
    if (set_attributes) set_attributes(*fused);
    simplify::CopyType(fused->output(0), root.output(0));
    if (absl::Status s =
            simplify::ReplaceAndErase(rewriter, &root, root.output(0), fused->output(0));
        !s.ok()) {
      return s;
    }
    ++count_;
    return true;
  }
  int64_t opset_;
  PassStatistic& count_;
};

// x * Clip(x + 3, 0, 6) / 6 and x * HardSigmoid(x) -> HardSwish(x).
class FuseHardSwish : public ActivationPattern {
 public:
  FuseHardSwish(std::string root, int64_t opset, PassStatistic& count)
      : ActivationPattern(opset, count), root_(std::move(root)) {}
  std::string_view name() const override { return "fuse-hardswish"; }
  std::string_view root_op_type() const override { return root_; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty()) return false;
    // x * HardSigmoid(x): the root Mul itself.
    if (node.op_type == "Mul" && opset_ >= 14) {
      for (int side : {0, 1}) {
        Node* hs = SoleProducer(node.input(side), "HardSigmoid", node);
        if (hs != nullptr && hs->input(0) == node.input(1 - side) &&
            Near(hs->GetFloat("alpha").value_or(0.2f), 1.0 / 6) &&
            hs->GetFloat("beta").value_or(0.5f) == 0.5f) {
          return Replace(rewriter, node, hs->input(0), "HardSwish");
        }
      }
    }
    // (x * Clip(x + 3, 0, 6)) / 6, or * (1/6).
    Value* product = ScalarOperand(&node, node.op_type == "Div" ? 6.0 : 1.0 / 6);
    Node* mul = product != nullptr ? SoleProducer(product, "Mul", node) : nullptr;
    if (mul == nullptr || mul->input(0) == nullptr || mul->input(1) == nullptr) return false;
    for (int side : {0, 1}) {
      Node* clip = SoleProducer(mul->input(side), "Clip", *mul);
      Node* add = clip != nullptr ? SoleProducer(clip->input(0), "Add", *clip) : nullptr;
      float lo = 0, hi = 0;
      Value* x = mul->input(1 - side);
      if (add == nullptr || ScalarOperand(add, 3.0) != x || !ClipBounds(*clip, lo, hi) ||
          lo != 0.0f || hi != 6.0f) {
        continue;
      }
      if (opset_ >= 14) return Replace(rewriter, node, x, "HardSwish");
      // Before opset 14: x * HardSigmoid(x), two nodes instead of four.
      Node* hs = rewriter.CreateNodeBefore(&node, "HardSigmoid", {x}, 1, "",
                                           {node.output(0)->name() + "_hardsigmoid"});
      hs->SetAttribute(Attribute::Float("alpha", 1.0f / 6));
      hs->SetAttribute(Attribute::Float("beta", 0.5f));
      simplify::CopyType(hs->output(0), node.output(0));
      node.op_type = "Mul";
      node.SetInput(0, x);
      node.SetInput(1, hs->output(0));
      rewriter.NotifyChanged(&node);
      ++count_;
      return true;
    }
    return false;
  }

 private:
  std::string root_;
};

// 0.5 * x * (1 + Erf(x / sqrt 2)) or the tanh form -> Gelu (opset 20).
class FuseGelu : public ActivationPattern {
 public:
  using ActivationPattern::ActivationPattern;
  std::string_view name() const override { return "fuse-gelu"; }
  std::string_view root_op_type() const override { return "Mul"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (opset_ < 20 || !node.domain.empty()) return false;
    std::optional<simplify::GeluForm> gelu = simplify::MatchGelu(node);
    if (!gelu) return false;
    if (!gelu->tanh) return Replace(rewriter, node, gelu->x, "Gelu");
    return Replace(rewriter, node, gelu->x, "Gelu",
                   [](Node& n) { n.SetAttribute(Attribute::String("approximate", "tanh")); });
  }
};

// Min(Max(x, lo), hi), Max(Min(x, hi), lo), Clip(Relu(x)) -> Clip(x, lo, hi).
class FuseClip : public ActivationPattern {
 public:
  FuseClip(std::string root, int64_t opset, PassStatistic& count)
      : ActivationPattern(opset, count), root_(std::move(root)) {}
  std::string_view name() const override { return "fuse-clip"; }
  std::string_view root_op_type() const override { return root_; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || opset_ < 6) return false;
    float lo = -INFINITY, hi = INFINITY;
    Value* x = nullptr;
    if (node.op_type == "Clip") {
      Node* relu = SoleProducer(node.input(0), "Relu", node);
      if (relu == nullptr || !ClipBounds(node, lo, hi)) return false;
      x = relu->input(0);
      lo = std::max(lo, 0.0f);
    } else {
      const bool outer_min = node.op_type == "Min";
      std::optional<BinaryWithConstant> outer = simplify::SplitConstantOperand(node);
      if (!outer || outer->constant.values.size() != 1 || node.inputs().size() != 2) return false;
      Node* inner = SoleProducer(outer->variable, outer_min ? "Max" : "Min", node);
      std::optional<BinaryWithConstant> in = inner != nullptr && inner->inputs().size() == 2
                                                 ? simplify::SplitConstantOperand(*inner)
                                                 : std::nullopt;
      if (!in || in->constant.values.size() != 1 || in->constant.dims.size() > 0 ||
          outer->constant.dims.size() > 0) {
        return false;  // only scalars: a [1] constant would broadcast x's rank up
      }
      x = in->variable;
      lo = outer_min ? in->constant.values[0] : outer->constant.values[0];
      hi = outer_min ? outer->constant.values[0] : in->constant.values[0];
    }
    if (!(lo <= hi) || x == nullptr) return false;
    if (!x->type.is_tensor() || x->type.elem_type != DataType::kFloat) return false;
    if (opset_ < 11) {
      return Replace(rewriter, node, x, "Clip", [lo, hi](Node& n) {
        n.SetAttribute(Attribute::Float("min", lo));
        n.SetAttribute(Attribute::Float("max", hi));
      });
    }
    Graph& g = *node.graph();
    auto scalar = [&g](std::string_view hint, float v) {
      return g.AddInitializer(hint, std::make_shared<const Tensor>(Tensor::FromValues<float>(
                                        DataType::kFloat, {}, std::vector<float>{v})));
    };
    Node* clip = rewriter.CreateNodeBefore(&node, "Clip",
                                           {x, scalar("clip_min", lo), scalar("clip_max", hi)}, 1,
                                           "", {node.output(0)->name() + "_clip"});
    simplify::CopyType(clip->output(0), node.output(0));
    if (absl::Status s =
            simplify::ReplaceAndErase(rewriter, &node, node.output(0), clip->output(0));
        !s.ok()) {
      return s;
    }
    ++count_;
    return true;
  }

 private:
  std::string root_;
};

class FuseActivationsPass : public PatternPass {
 public:
  std::string_view name() const override { return "fuse-activations"; }
  std::string_view summary() const override {
    return "Rewrite HardSwish, Gelu and Relu6/Clip forms spelled out in elementary ops into one "
           "op where the opset has it";
  }

 protected:
  RewritePatterns Patterns(const Graph&, const Model& model) override {
    const int64_t opset = model.OpsetVersion("").value_or(0);
    RewritePatterns patterns;
    for (const char* root : {"Div", "Mul"}) {
      patterns.push_back(std::make_unique<FuseHardSwish>(root, opset, hardswish_));
    }
    patterns.push_back(std::make_unique<FuseGelu>(opset, gelu_));
    for (const char* root : {"Min", "Max", "Clip"}) {
      patterns.push_back(std::make_unique<FuseClip>(root, opset, clip_));
    }
    return patterns;
  }

 private:
  PassStatistic hardswish_{this, "hardswish-fused", "HardSwish forms rewritten"};
  PassStatistic gelu_{this, "gelu-fused", "Gelu forms rewritten into Gelu"};
  PassStatistic clip_{this, "clip-fused", "Min/Max/Relu chains rewritten into one Clip"};
};

}  // namespace

std::unique_ptr<Pass> CreateFuseActivationsPass() {
  return std::make_unique<FuseActivationsPass>();
}

}  // namespace onnx_opt
