#include "passes/legalize/legalize_rewrites.h"

#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "evaluator/evaluator.h"
#include "passes/core/utils.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt::legalize {
namespace {

TensorPtr ZeroFloatValue() {
  const float zero = 0.0F;
  return std::make_shared<Tensor>(
      Tensor::FromValues<float>(DataType::kFloat, {1}, std::span<const float>(&zero, 1)));
}

// A constant whose elements all hold the same bytes.
struct Fill {
  std::vector<int64_t> dims;
  DataType type = DataType::kUndefined;
  std::vector<uint8_t> element;
};

// The single repeated element of a tensor with at least one element (not packed, not strings).
std::optional<std::vector<uint8_t>> RepeatedElement(const Tensor& t) {
  const int64_t n = t.num_elements();
  std::span<const uint8_t> bytes = t.bytes();
  if (n <= 0 || t.type() == DataType::kString || bytes.size() % static_cast<size_t>(n) != 0) {
    return std::nullopt;
  }
  const size_t size = bytes.size() / static_cast<size_t>(n);
  if (size == 0) return std::nullopt;  // 4-bit types pack two per byte
  for (size_t at = size; at < bytes.size(); at += size) {
    if (std::memcmp(bytes.data(), bytes.data() + at, size) != 0) return std::nullopt;
  }
  return std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<int64_t>(size));
}

std::optional<Fill> ReadFill(const Value* v) {
  if (v == nullptr) return std::nullopt;
  if (TensorPtr t = GetConstantTensor(v)) {
    std::optional<std::vector<uint8_t>> element = RepeatedElement(*t);
    if (!element) return std::nullopt;
    return Fill{t->dims(), t->type(), *std::move(element)};
  }
  const Node* producer = v->producer();
  if (producer == nullptr || !producer->Is("ConstantOfShape")) return std::nullopt;
  TensorPtr shape = GetConstantTensor(producer->input(0));
  if (shape == nullptr) return std::nullopt;
  absl::StatusOr<std::vector<int64_t>> dims = shape->ToInt64s();
  if (!dims.ok()) return std::nullopt;
  const Attribute* attr = producer->FindAttribute("value");
  TensorPtr value = ZeroFloatValue();
  if (attr != nullptr) {
    if (const auto* t = std::get_if<TensorPtr>(&attr->value); t != nullptr && *t != nullptr) {
      value = *t;
    } else {
      return std::nullopt;
    }
  }
  std::optional<std::vector<uint8_t>> element = RepeatedElement(*value);
  if (!element) return std::nullopt;
  return Fill{*std::move(dims), value->type(), *std::move(element)};
}

class ExplicitConstantOfShapeValue : public RewritePattern {
 public:
  explicit ExplicitConstantOfShapeValue(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "explicit-constant-of-shape-value"; }
  std::string_view root_op_type() const override { return "ConstantOfShape"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || node.FindAttribute("value") != nullptr) return false;
    node.SetAttribute(Attribute::TensorValue("value", ZeroFloatValue()));
    rewriter.NotifyChanged(&node);
    ++count_;
    return true;
  }

 private:
  PassStatistic& count_;
};

class ConcatToPad : public RewritePattern {
 public:
  ConcatToPad(int64_t opset, PassStatistic& count) : opset_(opset), count_(count) {}
  std::string_view name() const override { return "concat-to-pad"; }
  std::string_view root_op_type() const override { return "Concat"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || opset_ < 11 || node.output(0) == nullptr) return false;
    std::optional<int64_t> axis = node.GetInt("axis");
    if (!axis) return false;
    Value* variable = nullptr;
    std::optional<Fill> fill;
    int64_t before = 0, after = 0;
    for (Value* in : node.inputs()) {
      if (in == nullptr) return false;
      std::optional<Fill> f = ReadFill(in);
      if (!f) {
        if (variable != nullptr) return false;  // two computed inputs: a real Concat
        variable = in;
        continue;
      }
      if (fill && (f->type != fill->type || f->element != fill->element ||
                   f->dims.size() != fill->dims.size())) {
        return false;
      }
      const int64_t rank = static_cast<int64_t>(f->dims.size());
      const int64_t a = *axis < 0 ? *axis + rank : *axis;
      if (a < 0 || a >= rank) return false;
      (variable == nullptr ? before : after) += f->dims[a];
      fill = std::move(f);
    }
    if (variable == nullptr || !fill) return false;
    if (variable->type.is_tensor() && variable->type.elem_type != DataType::kUndefined &&
        variable->type.elem_type != fill->type) {
      return false;
    }
    const int64_t rank = static_cast<int64_t>(fill->dims.size());
    if (variable->type.shape && static_cast<int64_t>(variable->type.shape->size()) != rank) {
      return false;
    }
    const int64_t a = *axis < 0 ? *axis + rank : *axis;
    std::vector<int64_t> pads(2 * rank, 0);
    pads[a] = before;
    pads[rank + a] = after;
    Graph& graph = *node.graph();
    Value* pads_value =
        graph.AddInitializer(absl::StrCat(node.output(0)->name(), "_pads"),
                             std::make_shared<Tensor>(Tensor::FromValues<int64_t>(
                                 DataType::kInt64, {2 * rank}, std::span<const int64_t>(pads))));
    Value* fill_value =
        graph.AddInitializer(absl::StrCat(node.output(0)->name(), "_pad_value"),
                             std::make_shared<Tensor>(Tensor::FromValues<uint8_t>(
                                 fill->type, {}, std::span<const uint8_t>(fill->element))));
    Node* pad = rewriter.CreateNodeBefore(&node, "Pad", {variable, pads_value, fill_value}, 1);
    pad->name = node.name;
    pad->output(0)->type = node.output(0)->type;
    if (absl::Status s =
            simplify::ReplaceAndEraseKeepingName(rewriter, &node, node.output(0), pad->output(0));
        !s.ok()) {
      return s;
    }
    ++count_;
    return true;
  }

 private:
  int64_t opset_;
  PassStatistic& count_;
};

class FoldConstantSplit : public RewritePattern {
 public:
  FoldConstantSplit(int64_t opset, PassStatistic& count) : opset_(opset), count_(count) {}
  std::string_view name() const override { return "fold-constant-split"; }
  std::string_view root_op_type() const override { return "Split"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || node.inputs().empty()) return false;
    std::vector<TensorPtr> inputs;
    for (Value* in : node.inputs()) {
      inputs.push_back(in == nullptr ? nullptr : GetConstantTensor(in));
      if (in != nullptr && inputs.back() == nullptr) return false;
    }
    absl::StatusOr<std::vector<TensorPtr>> parts = eval::EvaluateNode(node, inputs, opset_);
    if (!parts.ok()) return false;  // left in place; the runtime reports it
    Graph& graph = *node.graph();
    std::vector<std::pair<Value*, std::string>> renames;
    for (size_t i = 0; i < parts->size() && i < node.outputs().size(); ++i) {
      Value* old = node.output(i);
      if (old == nullptr) continue;
      Value* init = graph.AddInitializer(absl::StrCat(old->name(), ".split"), (*parts)[i]);
      renames.emplace_back(init, old->name());
      rewriter.ReplaceAllUsesWith(old, init);
    }
    if (absl::Status s = rewriter.EraseNode(&node); !s.ok()) return s;
    for (auto& [init, name] : renames) init->set_name(name);  // the outputs' names are free now
    ++count_;
    return true;
  }

 private:
  int64_t opset_;
  PassStatistic& count_;
};

// Conv/ConvTranspose without kernel_shape -> kernel_shape from the weight's spatial dims (the
// attribute is optional in ONNX; OpenCV 4.12 reads only it: "kernel_size not specified").
class ExplicitKernelShape : public RewritePattern {
 public:
  ExplicitKernelShape(std::string op, PassStatistic& count) : op_(std::move(op)), count_(count) {}
  std::string_view name() const override { return "explicit-kernel-shape"; }
  std::string_view root_op_type() const override { return op_; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || node.FindAttribute("kernel_shape") != nullptr) return false;
    const Value* w = node.input(1);
    if (w == nullptr) return false;
    std::optional<std::vector<int64_t>> dims;
    if (TensorPtr t = GetConstantTensor(w)) {
      dims = t->dims();
    } else {
      dims = w->type.static_dims();
    }
    if (!dims || dims->size() < 3) return false;
    node.SetAttribute(Attribute::Ints("kernel_shape", {dims->begin() + 2, dims->end()}));
    rewriter.NotifyChanged(&node);
    ++count_;
    return true;
  }

 private:
  std::string op_;
  PassStatistic& count_;
};

}  // namespace

std::unique_ptr<RewritePattern> MakeExplicitConstantOfShapeValue(PassStatistic& count) {
  return std::make_unique<ExplicitConstantOfShapeValue>(count);
}
std::unique_ptr<RewritePattern> MakeConcatToPad(int64_t opset, PassStatistic& count) {
  return std::make_unique<ConcatToPad>(opset, count);
}
std::unique_ptr<RewritePattern> MakeFoldConstantSplit(int64_t opset, PassStatistic& count) {
  return std::make_unique<FoldConstantSplit>(opset, count);
}
std::unique_ptr<RewritePattern> MakeExplicitKernelShape(std::string op, PassStatistic& count) {
  return std::make_unique<ExplicitKernelShape>(std::move(op), count);
}

}  // namespace onnx_opt::legalize
