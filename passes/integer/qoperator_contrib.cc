// ONNX Runtime's com.microsoft QOperator forms of element-wise ops, pooling and concatenation:
// Add/Mul(DQ(a), DQ(b)) -> Q => QLinearAdd/QLinearMul, Sigmoid(DQ(x)) -> Q => QLinearSigmoid,
// GlobalAveragePool(DQ(x)) -> Q => QLinearGlobalAveragePool (channels_last = 0), AveragePool
// likewise => QLinearAveragePool (its pooling attributes kept) and Concat(DQ(x1), ..., DQ(xn))
// -> Q => QLinearConcat.
//
// Input order (onnxruntime contrib quantization_defs.cc / nhwc defs, version 1):
//   QLinearAdd, QLinearMul:     A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
//                               C_zero_point
//   QLinearSigmoid:             X, X_scale, X_zero_point, Y_scale, Y_zero_point
//   QLinearGlobalAveragePool,
//   QLinearAveragePool:         X, x_scale, x_zero_point, y_scale, y_zero_point
//   QLinearConcat (axis):       Y_scale, Y_zero_point, then X, X_scale, X_zero_point per input
// Every scale and zero point is a scalar (per tensor) and all tensors share one 8-bit type.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/integer/qoperator.h"

namespace onnx_opt::integer {
namespace {

struct ContribForm {
  std::string_view float_op;
  std::string_view fused_op;
  Fusion kind;
};

class ContribPattern : public RewritePattern {
 public:
  ContribPattern(ContribForm form, FusionLog& log, Model& model)
      : form_(form), log_(log), model_(model) {}
  std::string_view name() const override { return form_.fused_op; }
  std::string_view root_op_type() const override { return form_.float_op; }

  absl::StatusOr<bool> MatchAndRewrite(Node& op, Rewriter& rewriter) override {
    if (!op.domain.empty() || op.inputs().empty() || op.outputs().size() != 1) return false;
    if ((form_.float_op == "Add" || form_.float_op == "Mul") && op.inputs().size() != 2) {
      return false;
    }
    std::vector<Node*> dqs;
    for (Value* in : op.inputs()) {
      Node* dq = DequantizeProducer(in);
      if (dq == nullptr) return false;  // not a candidate: a float input
      dqs.push_back(dq);
    }
    std::optional<OutputQuantize> target = FindOutputQuantize(op);
    if (!target) return log_.Refuse(op, Refusal::kNotQuantized);
    Node* q = target->q;
    Refusal why = Refusal::kParams;
    std::vector<QuantParams> in_params;
    for (Node* dq : dqs) {
      std::optional<QuantParams> p = ReadQuantParams(*dq, &why);
      if (!p) return log_.Refuse(op, why);
      in_params.push_back(*std::move(p));
    }
    std::optional<QuantParams> out = ReadQuantParams(*q, &why);
    if (!out) return log_.Refuse(op, why);
    if (!out->per_tensor()) return log_.Refuse(op, Refusal::kParams);
    if (!out->is_8bit()) return log_.Refuse(op, Refusal::kTypes);
    for (const QuantParams& p : in_params) {
      if (!p.per_tensor()) return log_.Refuse(op, Refusal::kParams);
      if (p.qtype != out->qtype) return log_.Refuse(op, Refusal::kTypes);
    }
    if (form_.float_op == "AveragePool" && op.GetInts("dilations")) {
      return log_.Refuse(op, Refusal::kParams);  // QLinearAveragePool has no dilations
    }
    if (form_.float_op == "GlobalAveragePool") {
      const auto& shape = op.input(0)->type.shape;
      if (shape && shape->size() < 3) return log_.Refuse(op, Refusal::kShapes);
    }

    Graph& graph = rewriter.graph();
    std::vector<Value*> inputs;
    auto add_operand = [&](size_t i) {
      inputs.push_back(dqs[i]->input(0));
      inputs.push_back(ScalarScale(graph, in_params[i]));
      inputs.push_back(ScalarZeroPoint(graph, in_params[i]));
    };
    if (form_.float_op == "Concat") {
      inputs.push_back(ScalarScale(graph, *out));
      inputs.push_back(ScalarZeroPoint(graph, *out));
      for (size_t i = 0; i < dqs.size(); ++i) add_operand(i);
    } else {
      for (size_t i = 0; i < dqs.size(); ++i) add_operand(i);
      inputs.push_back(ScalarScale(graph, *out));
      inputs.push_back(ScalarZeroPoint(graph, *out));
    }
    Node* fused = rewriter.CreateNodeBefore(q, form_.fused_op, inputs, 1, "com.microsoft",
                                            {absl::StrCat(q->output(0)->name(), "_qlinear")});
    fused->name = op.name;
    if (form_.float_op == "Concat") {
      fused->SetAttribute(Attribute::Int("axis", op.GetInt("axis").value_or(0)));
    } else if (form_.float_op == "GlobalAveragePool" || form_.float_op == "AveragePool") {
      for (const char* name : {"kernel_shape", "strides", "pads", "dilations"}) {
        if (auto v = op.GetInts(name)) fused->SetAttribute(Attribute::Ints(name, *v));
      }
      for (const char* name : {"ceil_mode", "count_include_pad"}) {
        if (auto v = op.GetInt(name)) fused->SetAttribute(Attribute::Int(name, *v));
      }
      if (auto v = op.GetString("auto_pad")) fused->SetAttribute(Attribute::String("auto_pad", *v));
      fused->SetAttribute(Attribute::Int("channels_last", 0));
    }
    if (!model_.OpsetVersion("com.microsoft")) model_.SetOpsetVersion("com.microsoft", 1);
    if (absl::Status s = ReplaceQuantizedOutput(rewriter, *target, &op, fused->output(0)); !s.ok()) {
      return s;
    }
    log_.Fused(&op, form_.kind);
    return true;
  }

 private:
  ContribForm form_;
  FusionLog& log_;
  Model& model_;
};

}  // namespace

std::vector<std::unique_ptr<RewritePattern>> CreateContribPatterns(FusionLog& log, Model& model) {
  static constexpr ContribForm kForms[] = {
      {"Add", "QLinearAdd", Fusion::kQLinearAdd},
      {"Mul", "QLinearMul", Fusion::kQLinearMul},
      {"Sigmoid", "QLinearSigmoid", Fusion::kQLinearSigmoid},
      {"GlobalAveragePool", "QLinearGlobalAveragePool", Fusion::kQLinearGlobalAveragePool},
      {"AveragePool", "QLinearAveragePool", Fusion::kQLinearAveragePool},
      {"Concat", "QLinearConcat", Fusion::kQLinearConcat},
  };
  std::vector<std::unique_ptr<RewritePattern>> patterns;
  for (const ContribForm& form : kForms) {
    patterns.push_back(std::make_unique<ContribPattern>(form, log, model));
  }
  return patterns;
}

}  // namespace onnx_opt::integer
