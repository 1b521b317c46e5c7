// The Clip rewrites of legalize (passes/legalize/legalize.cc) and the CastLike folding that makes
// upgraded Clip bounds constant again.
//
// upgrade-opset writes Clip bounds as CastLike(bound, x) (the bound takes x's type, unknown when
// the adapter runs); OpenCV 4.12 has no CastLike layer. Audio front ends compute a bound
// (log-mel: Clip(x, ReduceMax(x) - 80, inf)); OpenCV 4.12 reads only constant bounds. OpenCV 4.6
// reads only the opset-6 attributes.
//
// Before (runtime=opencv-4.12):
//   lo_like = CastLike (lo, x)
//   y = Clip (x, lo_like, hi)       # lo, hi constant float scalars
//   m = Sub (peak, eighty)
//   z = Clip (x, m, inf)
// After:
//   y = Clip (x, lo_like, hi)       # lo_like now a float initializer
//   z = Max (x, m)
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "evaluator/evaluator.h"
#include "passes/core/utils.h"
#include "passes/legalize/legalize_rewrites.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt::legalize {
namespace {

bool IsFloatBoundType(DataType t) { return t == DataType::kFloat || t == DataType::kFloat16; }

bool IsKnownNonFloat(const Value* x) {
  return x != nullptr && x->type.is_tensor() && x->type.elem_type != DataType::kUndefined &&
         !IsFloatBoundType(x->type.elem_type);
}

// The single value of a constant float scalar bound, if it is one.
std::optional<float> ScalarBound(const Value* bound) {
  TensorPtr t = bound == nullptr ? nullptr : GetConstantTensor(bound);
  if (t == nullptr || !IsFloatBoundType(t->type()) || t->num_elements() != 1) return std::nullopt;
  absl::StatusOr<std::vector<float>> v = t->ToFloats();
  if (!v.ok() || v->size() != 1) return std::nullopt;
  return (*v)[0];
}

// CastLike of a constant: FoldConstantCastLike makes it a constant.
bool IsFoldableCastLike(const Value* v) {
  const Node* p = v->producer();
  return p != nullptr && p->Is("CastLike") && p->input(0) != nullptr &&
         GetConstantTensor(p->input(0)) != nullptr;
}

bool HasComputedBound(const Node& clip) {
  for (int i : {1, 2}) {
    const Value* bound = clip.input(i);
    if (bound != nullptr && GetConstantTensor(bound) == nullptr && !IsFoldableCastLike(bound)) {
      return true;
    }
  }
  return false;
}

class ClipBoundsToAttributes : public RewritePattern {
 public:
  explicit ClipBoundsToAttributes(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "clip-bounds-to-attributes"; }
  std::string_view root_op_type() const override { return "Clip"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || node.inputs().size() < 2 || IsKnownNonFloat(node.input(0))) {
      return false;
    }
    std::optional<float> bounds[2];
    for (int i : {1, 2}) {
      if (node.input(i) == nullptr) continue;
      bounds[i - 1] = ScalarBound(node.input(i));
      if (!bounds[i - 1]) return false;
    }
    for (int i : {1, 2}) {
      if (bounds[i - 1])
        node.SetAttribute(Attribute::Float(i == 1 ? "min" : "max", *bounds[i - 1]));
    }
    while (node.inputs().size() > 1) node.RemoveInput(node.inputs().size() - 1);
    rewriter.NotifyChanged(&node);
    ++count_;
    return true;
  }

 private:
  PassStatistic& count_;
};

// Clip(x, lo, hi) with a computed bound -> Min(Max(x, lo), hi), Clip's own definition; constant
// infinite bounds (-inf min, +inf max) are dropped as the no-ops they are. OpenCV 4.6's Max/Min
// do not broadcast a scalar ("numChannels == input_channels"): there the bounds are applied as
// Relu(x - lo) + lo and x - Relu(x - hi) (the data first: a scalar first operand fails there
// too; equal up to one rounding of the difference).
class ComputedClipToMaxMin : public RewritePattern {
 public:
  ComputedClipToMaxMin(bool relu_form, PassStatistic& count)
      : relu_form_(relu_form), count_(count) {}
  std::string_view name() const override { return "computed-clip-to-max-min"; }
  std::string_view root_op_type() const override { return "Clip"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || node.input(0) == nullptr || node.output(0) == nullptr ||
        !HasComputedBound(node)) {
      return false;
    }
    const std::string base = node.name.empty() ? node.output(0)->name() : node.name;
    Value* result = node.input(0);
    auto add = [&](std::string_view op, Value* a, Value* b, const std::string& suffix) {
      Node* n = rewriter.CreateNodeBefore(&node, op, {a, b}, 1);
      n->name = absl::StrCat(base, suffix);
      n->output(0)->type = node.output(0)->type;
      n->output(0)->set_name(node.graph()->UniqueName(n->name));
      return n->output(0);
    };
    for (int i : {1, 2}) {
      Value* bound = node.input(i);
      if (bound == nullptr) continue;
      if (std::optional<float> b = ScalarBound(bound);
          b && std::isinf(*b) && (i == 1) == (*b < 0)) {
        continue;
      }
      const std::string suffix = i == 1 ? "_min" : "_max";
      if (!relu_form_) {
        result = add(i == 1 ? "Max" : "Min", result, bound, suffix);
        continue;
      }
      Value* diff = add("Sub", result, bound, suffix + "_diff");
      Node* relu = rewriter.CreateNodeBefore(&node, "Relu", {diff}, 1);
      relu->name = absl::StrCat(base, suffix, "_relu");
      relu->output(0)->type = node.output(0)->type;
      relu->output(0)->set_name(node.graph()->UniqueName(relu->name));
      result = i == 1 ? add("Add", relu->output(0), bound, suffix)
                      : add("Sub", result, relu->output(0), suffix);
    }
    if (result == node.input(0)) return false;  // both bounds no-ops: left to the simplifier
    if (absl::Status s =
            simplify::ReplaceAndEraseKeepingName(rewriter, &node, node.output(0), result);
        !s.ok()) {
      return s;
    }
    ++count_;
    return true;
  }

 private:
  bool relu_form_;
  PassStatistic& count_;
};

// CastLike(c, like) with c constant and like's element type known -> an initializer of c in that
// type (the reference evaluator casts it; `like` is only a type witness).
class FoldConstantCastLike : public RewritePattern {
 public:
  FoldConstantCastLike(int64_t opset, PassStatistic& count) : opset_(opset), count_(count) {}
  std::string_view name() const override { return "fold-constant-cast-like"; }
  std::string_view root_op_type() const override { return "CastLike"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || node.inputs().size() != 2 || node.output(0) == nullptr ||
        node.output(0)->is_graph_output()) {
      return false;
    }
    TensorPtr c = node.input(0) == nullptr ? nullptr : GetConstantTensor(node.input(0));
    const Value* like = node.input(1);
    if (c == nullptr || like == nullptr || !like->type.is_tensor() ||
        like->type.elem_type == DataType::kUndefined) {
      return false;
    }
    TensorPtr witness = GetConstantTensor(like);
    if (witness == nullptr) {
      witness =
          std::make_shared<Tensor>(like->type.elem_type, std::vector<int64_t>{0}, Buffer::Copy({}));
    }
    absl::StatusOr<std::vector<TensorPtr>> cast = eval::EvaluateNode(node, {c, witness}, opset_);
    if (!cast.ok() || cast->empty() || (*cast)[0] == nullptr) return false;  // left in place
    Value* old = node.output(0);
    const std::string out_name = old->name();
    Value* init = node.graph()->AddInitializer(absl::StrCat(out_name, ".folded"), (*cast)[0]);
    if (absl::Status s = simplify::ReplaceAndErase(rewriter, &node, old, init); !s.ok()) return s;
    init->set_name(out_name);  // free now
    ++count_;
    return true;
  }

 private:
  int64_t opset_;
  PassStatistic& count_;
};

// Max(x, c) / Min(x, c) with c a constant float scalar (either operand) -> Clip <min = c> (x) /
// Clip <max = c> (x): OpenCV 4.6's Max/Min take no constant operand (eltwise_layer.cpp
// `inputs.size() >= 2`; openWakeWord's embedding model clamps at -0.4 this way). Exact: Clip's
// bound is the same comparison.
class ConstantMaxMinToClip : public RewritePattern {
 public:
  explicit ConstantMaxMinToClip(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "constant-max-min-to-clip"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    const bool is_max = node.Is("Max");
    if ((!is_max && !node.Is("Min")) || node.inputs().size() != 2 || node.output(0) == nullptr) {
      return false;
    }
    for (int k : {1, 0}) {
      Value* x = node.input(1 - k);
      const Value* c = node.input(k);
      std::optional<float> bound = ScalarBound(c);
      if (x == nullptr || !bound || GetConstantTensor(x) != nullptr || IsKnownNonFloat(x)) continue;
      const std::optional<std::vector<int64_t>> dims = x->type.static_dims();
      if (!dims || GetConstantTensor(c)->rank() > static_cast<int64_t>(dims->size())) continue;
      node.op_type = "Clip";
      node.SetAttribute(Attribute::Float(is_max ? "min" : "max", *bound));
      if (k == 0) node.SetInput(0, x);
      node.RemoveInput(1);
      rewriter.NotifyChanged(&node);
      ++count_;
      return true;
    }
    return false;
  }

 private:
  PassStatistic& count_;
};

}  // namespace

std::string ClipAttributeBlocker(const Node& clip) {
  if (IsKnownNonFloat(clip.input(0))) {
    return absl::StrCat("its input is ", std::string(DataTypeName(clip.input(0)->type.elem_type)),
                        " (a float attribute holds only float32/float16 bounds exactly)");
  }
  if (HasComputedBound(clip)) {  // becomes Relu arithmetic, which 4.6 broadcasts over one channel
    std::optional<std::vector<int64_t>> dims = clip.input(0)->type.static_dims();
    if (!dims || (dims->size() >= 2 && (*dims)[1] != 1)) {
      return absl::StrCat("a bound is computed and its input '", clip.input(0)->name(),
                          dims ? absl::StrCat("' has ", (*dims)[1], " channels")
                               : std::string("' has no static shape"),
                          " (OpenCV 4.6 broadcasts a computed tensor over one channel only)");
    }
    return "";
  }
  for (int i : {1, 2}) {
    const Value* bound = clip.input(i);
    // A foldable CastLike is checked through its constant input (it is folded first).
    if (bound != nullptr && IsFoldableCastLike(bound)) bound = bound->producer()->input(0);
    if (bound != nullptr && !ScalarBound(bound)) {
      return absl::StrCat("its ", i == 1 ? "min" : "max", " '", bound->name(),
                          "' is not a float32/float16 scalar");
    }
  }
  return "";
}

std::unique_ptr<RewritePattern> MakeClipBoundsToAttributes(PassStatistic& count) {
  return std::make_unique<ClipBoundsToAttributes>(count);
}
std::unique_ptr<RewritePattern> MakeComputedClipToMaxMin(bool relu_form, PassStatistic& count) {
  return std::make_unique<ComputedClipToMaxMin>(relu_form, count);
}
std::unique_ptr<RewritePattern> MakeConstantMaxMinToClip(PassStatistic& count) {
  return std::make_unique<ConstantMaxMinToClip>(count);
}
std::unique_ptr<RewritePattern> MakeFoldConstantCastLike(int64_t opset, PassStatistic& count) {
  return std::make_unique<FoldConstantCastLike>(opset, count);
}

}  // namespace onnx_opt::legalize
