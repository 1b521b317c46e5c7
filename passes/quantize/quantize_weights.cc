// quantize-weights: stores the constant weights of Conv, ConvTranspose, MatMul and Gemm as
// low-bit integers with one scale per block along the reduction axis.
//
// Before (bits=4, block-size=32, format=qdq):
//   w = float[64, 16] {...}
//   y = MatMul(x, w)
// After:
//   w_q = int4[64, 16] {...}
//   w_scale = float[2, 16] {...}
//   w_dq = DequantizeLinear<axis = 0, block_size = 32>(w_q, w_scale)
//   y = MatMul(x, w_dq)
//
// Each weight (an initializer or Constant output of the graph being visited) is quantized once
// for all its handled users; users it cannot serve (other ops, excluded names, another layout)
// keep reading the original float tensor. docs/quantization.md describes every format.
//
// One weight goes through the stages in order, each in its own file:
//   select   select_uses.h       the constant, its handled users and their graph form, or why not
//   plan     precision_plan.h    its bits and blocks (mixed precision: collect -> choose -> apply)
//   round    rounding.h          one strategy per algorithm: PlainRounding, GptqRounding
//   emit     emitters.h          one emitter per format: qdq, qdq-axis, arith, matmul-nbits
//   bias     bias_correction.h   the rounding's mean output shift added back to the bias
//   report   weight_report.h     the report row (statistics: quantize_weights_stats.h)
// With target-size or max-error, a first walk over the model only collects (measures every
// selected weight at each candidate precision) and the plan chooses before the quantizing walk.
#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "passes/core/pass.h"
#include "passes/core/registry.h"
#include "passes/core/utils.h"
#include "passes/quantize/bias_correction.h"
#include "passes/quantize/calib_file.h"
#include "passes/quantize/emitters.h"
#include "passes/quantize/precision_plan.h"
#include "passes/quantize/quantize_weights_options.h"
#include "passes/quantize/quantize_weights_stats.h"
#include "passes/quantize/rounding.h"
#include "passes/quantize/select_uses.h"
#include "passes/quantize/weight_report.h"

namespace onnx_opt {
namespace {

// Removes an unused constant: its Constant node, or the initializer.
absl::Status EraseConstant(Value* value) {
  if (Node* constant = value->producer()) return constant->graph()->EraseNode(constant);
  return value->graph()->EraseValue(value);
}

class QuantizeWeightsPass final : public Pass {
 public:
  std::string_view name() const override { return "quantize-weights"; }
  std::string_view summary() const override {
    return "Store Conv/ConvTranspose/MatMul/Gemm weights as blockwise int4/int8/int16";
  }
  std::string_view description() const override {
    return "Weights (initializers or Constant outputs) feeding Conv, ConvTranspose, MatMul or Gemm "
           "are quantized blockwise along the reduction axis and written as opset-21 "
           "DequantizeLinear (qdq), per-axis DequantizeLinear rows (qdq-axis), Cast/Sub/Mul "
           "(arith) or com.microsoft.MatMulNBits. See docs/quantization.md.";
  }
  absl::Status ValidateOptions() const override { return options_.Validate(); }
  absl::Status RunOnModel(Model& model) override;
  absl::Status RunOnGraph(Graph& graph, Model& model) override;

 private:
  // Mixed precision, first walk: every selected weight measured, nothing changed or counted.
  absl::Status CollectCandidates(Model& model);
  // The stages for one weight, in the quantizing walk.
  absl::Status QuantizeValue(Value* value, Graph& graph);
  // Mixed precision chose float: the weight stays, with its report row.
  void KeepFloat(const SelectedWeight& weight, const PrecisionChoice& choice);
  absl::Status Emit(const SelectedWeight& weight, RoundedWeight& rounded, Graph& graph,
                    WeightOutcome& outcome);
  absl::Status CorrectBiasOf(const SelectedWeight& weight, const std::vector<float>& dequantized,
                             const RoundingOutcome& rounding, Graph& graph);
  WeightOutcome OutcomeOf(const SelectedWeight& weight, const PrecisionChoice& choice) const;

  QuantizeWeightsOptions options_{this};
  QuantizeWeightsStatistics stats_{this};

  WeightFilter filter_;
  std::unique_ptr<std::regex> exclude_;
  std::unique_ptr<std::regex> weights_;
  std::unique_ptr<RoundingStrategy> rounding_;
  PrecisionPlan plan_{options_};
  std::vector<Value*> replaced_biases_;  // old biases (bias correction, post-scale), erased later
  std::vector<WeightReportRow> rows_;
};

absl::Status QuantizeWeightsPass::RunOnModel(Model& model) {
  const int64_t opset = model.OpsetVersion("").value_or(1);
  if (absl::Status s = options_.CheckOpset(opset); !s.ok()) return s;
  exclude_ = options_.ExcludeRegex();
  weights_ = options_.WeightsRegex();
  filter_ = WeightFilter{exclude_.get(), weights_.get(), opset};
  rows_.clear();
  plan_.Clear();
  absl::StatusOr<std::unique_ptr<RoundingStrategy>> rounding = MakeRounding(options_, model);
  if (!rounding.ok()) return rounding.status();
  rounding_ = *std::move(rounding);
  if (absl::Status s = VerifyCalibFileModel(options_.sensitivity.value(), model); !s.ok()) return s;
  if (options_.mixed_precision()) {
    const int64_t model_bytes = ModelTensorBytes(model);  // before the pass changes it
    if (absl::Status s = CollectCandidates(model); !s.ok()) return s;
    if (absl::Status s = plan_.Choose(model_bytes); !s.ok()) return s;
  }
  if (absl::Status s = Pass::RunOnModel(model); !s.ok()) return s;
  if (stats_.quantized.value() > 0) {
    // int4/uint4 and DequantizeLinear-21 need IR version 10; MatMulNBits needs its domain.
    if (options_.UsesOpset21Types(opset) && model.ir_version < 10) model.ir_version = 10;
    if (options_.format() == QuantFormat::kMatMulNBits && !model.OpsetVersion("com.microsoft")) {
      model.SetOpsetVersion("com.microsoft", 1);
    }
  }
  if (!options_.report.value().empty()) return WriteReport(options_.report.value(), rows_);
  return absl::OkStatus();
}

absl::Status QuantizeWeightsPass::CollectCandidates(Model& model) {
  absl::Status status = absl::OkStatus();
  model.WalkGraphs([&](Graph& graph) {
    for (Value* value : GraphConstants(graph)) {
      if (!status.ok()) return;
      WeightSelection selection = SelectWeight(value, graph, options_, filter_);
      if (selection.weight) status = plan_.Collect(*selection.weight, *rounding_);
    }
  });
  return status;
}

absl::Status QuantizeWeightsPass::RunOnGraph(Graph& graph, Model& model) {
  for (const auto& node : graph.nodes()) {
    if (!options_.HandlesOp(*node)) continue;
    for (size_t i = 0; i < node->inputs().size(); ++i) {
      if (IsDequantizedWeight(*node, static_cast<int>(i))) ++stats_.skipped_quantized;
    }
  }
  replaced_biases_.clear();
  for (Value* value : GraphConstants(graph)) {
    if (absl::Status s = QuantizeValue(value, graph); !s.ok()) return s;
  }
  // Biases replaced by bias correction go once the walk over the candidates is done.
  for (Value* bias : replaced_biases_) {
    if (IsValueUsed(bias)) continue;
    if (absl::Status s = EraseConstant(bias); !s.ok()) return s;
  }
  replaced_biases_.clear();
  return absl::OkStatus();
}

absl::Status QuantizeWeightsPass::QuantizeValue(Value* value, Graph& graph) {
  // select
  const WeightSelection selection = SelectWeight(value, graph, options_, filter_);
  stats_.CountSelection(selection);
  if (!selection.weight) return absl::OkStatus();
  const SelectedWeight& weight = *selection.weight;
  // plan
  const PrecisionChoice choice = plan_.ChoiceFor(weight);
  if (choice.keeps_float()) {
    KeepFloat(weight, choice);
    return absl::OkStatus();
  }
  if (choice.plan != nullptr)
    ++(choice.spec.bits == options_.spec().bits ? stats_.mixed_lowest : stats_.mixed_int8);
  // round: first, so a weight the kernels reject (NaN, infinity) is skipped untouched
  absl::StatusOr<std::optional<RoundedWeight>> rounded =
      RoundWeight(weight, choice.geometry, choice.spec, *rounding_);
  if (!rounded.ok()) return rounded.status();
  if (!rounded->has_value()) {
    ++stats_.skipped_not_finite;
    return absl::OkStatus();
  }
  // emit (and bias correction, which needs the rounded values before emitting moves them)
  WeightOutcome outcome = OutcomeOf(weight, choice);
  if (absl::Status s = Emit(weight, **rounded, graph, outcome); !s.ok()) return s;
  // report
  stats_.CountQuantized(static_cast<int64_t>(weight.tensor->bytes().size()), outcome.bytes_after,
                        rounding_->data_aware(), (*rounded)->rounding);
  if (rounding_->data_aware()) outcome.rounding = &(*rounded)->rounding;
  rows_.push_back(ReportRow(outcome));

  // The float weight goes away when nothing reads it any more; so do its pages when mapped
  // from the input file (they are read back from the file should anything still touch them).
  if (!IsValueUsed(value)) {
    if (weight.tensor->buffer() != nullptr) weight.tensor->buffer()->ReleasePages();
    return EraseConstant(value);
  }
  return absl::OkStatus();
}

WeightOutcome QuantizeWeightsPass::OutcomeOf(const SelectedWeight& weight,
                                             const PrecisionChoice& choice) const {
  WeightOutcome outcome;
  outcome.weight = weight.value;
  outcome.tensor = weight.tensor.get();
  outcome.node = weight.uses.all.front().node->name;
  outcome.op = weight.uses.all.front().node->op_type;
  outcome.format = options_.format_text.value();
  outcome.scale_search = options_.scale_search_text.value();
  outcome.bits = choice.spec.bits;
  outcome.block = choice.geometry.block;
  outcome.plan = choice.plan;
  return outcome;
}

void QuantizeWeightsPass::KeepFloat(const SelectedWeight& weight, const PrecisionChoice& choice) {
  ++stats_.mixed_float;
  const Tensor& tensor = *weight.tensor;
  WeightOutcome outcome = OutcomeOf(weight, choice);
  outcome.format = "float";
  outcome.bits = tensor.type() == DataType::kFloat ? 32 : 16;
  outcome.bytes_after = static_cast<int64_t>(tensor.bytes().size());
  absl::StatusOr<std::vector<float>> same = tensor.ToFloats();
  outcome.error = same.ok() ? quant::ComputeErrorStats(*same, *same) : quant::ErrorStats{};
  rows_.push_back(ReportRow(outcome));
}

absl::Status QuantizeWeightsPass::Emit(const SelectedWeight& weight, RoundedWeight& rounded,
                                       Graph& graph, WeightOutcome& outcome) {
  // New nodes read only new initializers, so the start of the graph is always a valid place.
  Node* first = graph.nodes().empty() ? nullptr : graph.nodes().front().get();
  const EmitSite site{graph, first, weight.value->name()};
  // The kernels measure the error while quantizing, on dequantized values rounded to the
  // weight's type as the runtime computes them.
  if (rounded.nbits) {
    absl::StatusOr<MatMulNBitsInputs> inputs =
        EmitMatMulNBitsInputs(*rounded.nbits, site, &outcome.bytes_after);
    if (!inputs.ok()) return inputs.status();
    for (const WeightUse& use : weight.uses.nbits) {
      if (absl::Status s = ReplaceWithMatMulNBits(*use.node, *rounded.nbits, *inputs); !s.ok()) {
        return s;
      }
    }
    outcome.error = rounded.nbits->packed.stats;
  }
  if (rounded.generic) {
    QuantizedWeight& quantized = *rounded.generic;
    // Emitting moves the payload out: decode first for bias correction.
    const std::vector<float> dequantized =
        options_.bias_correction.value() ? DequantizedValues(quantized) : std::vector<float>();
    if (weight.uses.generic_format == QuantFormat::kPostScale) {
      std::vector<Node*> users;
      for (const WeightUse& use : weight.uses.generic) users.push_back(use.node);
      outcome.error = quantized.q.stats;
      return EmitPostScale(quantized, site, users, &outcome.bytes_after, &replaced_biases_);
    }
    absl::StatusOr<Value*> value =
        GenericEmitter(weight.uses.generic_format)(quantized, site, &outcome.bytes_after);
    if (!value.ok()) return value.status();
    for (const WeightUse& use : weight.uses.generic) use.node->SetInput(use.input_index, *value);
    outcome.error = quantized.q.stats;
    if (!dequantized.empty()) return CorrectBiasOf(weight, dequantized, rounded.rounding, graph);
  }
  return absl::OkStatus();
}

absl::Status QuantizeWeightsPass::CorrectBiasOf(const SelectedWeight& weight,
                                                const std::vector<float>& dequantized,
                                                const RoundingOutcome& rounding, Graph& graph) {
  // A shared weight's users see different inputs: one bias cannot serve them all.
  const std::vector<WeightUse>& uses = weight.uses.generic;
  absl::StatusOr<BiasCorrection> bias = uses.size() == 1 && !rounding.input_means.empty()
                                            ? CorrectBias(graph, *uses.front().node, *weight.tensor,
                                                          dequantized, rounding.input_means)
                                            : BiasCorrection{};
  if (!bias.ok()) return bias.status();
  ++(bias->applied ? stats_.bias_corrected : stats_.bias_skipped);
  if (bias->replaced != nullptr && std::find(replaced_biases_.begin(), replaced_biases_.end(),
                                             bias->replaced) == replaced_biases_.end()) {
    replaced_biases_.push_back(bias->replaced);  // a shared bias is listed once
  }
  return absl::OkStatus();
}

}  // namespace

std::unique_ptr<Pass> CreateQuantizeWeightsPass() {
  return std::make_unique<QuantizeWeightsPass>();
}

}  // namespace onnx_opt
