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
// With target-size or max-error the pass runs twice over the model: first it only measures each
// weight at every candidate precision (quantize_weights_mixed.h chooses), then it quantizes each
// weight at its chosen precision.
#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "passes/core/pass.h"
#include "passes/quantize/quant_formats.h"
#include "passes/quantize/quant_report.h"
#include "passes/quantize/quantize_weights_bias.h"
#include "passes/quantize/quantize_weights_calibration.h"
#include "passes/quantize/quantize_weights_mixed.h"
#include "passes/quantize/quantize_weights_options.h"
#include "passes/quantize/quantize_weights_uses.h"
#include "passes/core/registry.h"
#include "passes/core/utils.h"

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
  absl::Status QuantizeValue(Value* weight, Graph& graph);
  absl::Status SkipNotFinite() {
    ++skipped_not_finite_;
    return absl::OkStatus();
  }
  // `user_name` / `user_op` are copied: the user node may have been replaced (MatMulNBits).
  void AddReportRow(const Value& weight, const Tensor& tensor, std::string user_name,
                    std::string user_op, int64_t block, int bits, int64_t bytes_after,
                    const quant::ErrorStats& error, const MixedCandidate* plan);
  absl::Status RunMixedPrecision(Model& model);

  QuantizeWeightsOptions options_{this};
  PassStatistic quantized_{this, "weights-quantized", "Weights stored quantized"};
  PassStatistic skipped_small_{this, "skipped-small", "Weights below min-elements"};
  PassStatistic skipped_not_float_{this, "skipped-not-float",
                                   "Weights not float32, float16 or bfloat16"};
  PassStatistic skipped_not_finite_{this, "skipped-not-finite", "Weights holding NaN or infinity"};
  PassStatistic skipped_ragged_{this, "skipped-ragged",
                                "Weights whose reduction axis the ragged policy rejects"};
  PassStatistic skipped_excluded_{this, "skipped-excluded", "Uses by nodes matching exclude"};
  PassStatistic skipped_quantized_{this, "skipped-already-quantized",
                                   "Weight inputs already fed by DequantizeLinear"};
  PassStatistic skipped_format_{this, "skipped-format",
                                "Uses the chosen format cannot express at this opset"};
  PassStatistic skipped_layout_{this, "skipped-layout-conflict",
                                "Uses of a shared weight needing another reduction axis"};
  PassStatistic bytes_before_{this, "bytes-before", "Bytes of the weights quantized"};
  PassStatistic bytes_after_{this, "bytes-after", "Bytes of their quantized replacements"};
  PassStatistic mixed_lowest_{this, "mixed-lowest",
                              "Mixed precision: weights left at the configured bits"};
  PassStatistic mixed_int8_{this, "mixed-promoted-int8",
                            "Mixed precision: weights promoted to int8"};
  PassStatistic mixed_float_{this, "mixed-kept-float", "Mixed precision: weights kept float"};
  PassStatistic gptq_{this, "gptq-weights", "calibration=: weights rounded with GPTQ"};
  PassStatistic gptq_fallback_{this, "gptq-fallback-rtn",
                               "calibration=: weights plainly rounded (no data, op unsupported)"};
  PassStatistic bias_corrected_{this, "bias-corrected", "bias-correction: biases corrected"};
  PassStatistic bias_skipped_{this, "bias-correction-skipped",
                              "bias-correction: weights without data, shared, or no float bias"};
  std::unique_ptr<CalibrationData> calibration_;
  std::vector<Value*> replaced_biases_;  // bias-correction: old biases, erased after the walk

  std::unique_ptr<std::regex> exclude_;
  std::unique_ptr<std::regex> weights_;
  int64_t opset_ = 0;
  std::vector<WeightReportRow> rows_;
  bool planning_ = false;
  std::vector<MixedCandidate> candidates_;
  absl::flat_hash_map<std::string, size_t> plan_;  // key -> index in candidates_
};

absl::Status QuantizeWeightsPass::RunOnModel(Model& model) {
  opset_ = model.OpsetVersion("").value_or(1);
  if (absl::Status s = options_.CheckOpset(opset_); !s.ok()) return s;
  exclude_ = options_.ExcludeRegex();
  weights_ = options_.WeightsRegex();
  rows_.clear();
  absl::StatusOr<std::unique_ptr<CalibrationData>> c =
      LoadCalibration(options_.calibration.value(), options_.mixed_precision());
  if (!c.ok()) return c.status();
  calibration_ = *std::move(c);
  if (calibration_ != nullptr) {
    if (absl::Status s = calibration_->VerifyModel(model); !s.ok()) return s;
  }
  if (absl::Status s = VerifyCalibFileModel(options_.sensitivity.value(), model); !s.ok()) return s;
  if (options_.mixed_precision()) {
    if (absl::Status s = RunMixedPrecision(model); !s.ok()) return s;
  } else if (absl::Status s = Pass::RunOnModel(model); !s.ok()) {
    return s;
  }
  if (quantized_.value() > 0) {
    // int4/uint4 and DequantizeLinear-21 need IR version 10; MatMulNBits needs its domain.
    if (options_.UsesOpset21Types(opset_) && model.ir_version < 10) model.ir_version = 10;
    if (options_.format() == QuantFormat::kMatMulNBits && !model.OpsetVersion("com.microsoft")) {
      model.SetOpsetVersion("com.microsoft", 1);
    }
  }
  if (!options_.report.value().empty()) return WriteReport(options_.report.value(), rows_);
  return absl::OkStatus();
}

absl::Status QuantizeWeightsPass::RunMixedPrecision(Model& model) {
  // The planning walk must leave the statistics as they were.
  PassStatistic* all[] = {&quantized_,          &skipped_small_,  &skipped_not_float_,
                          &skipped_not_finite_, &skipped_ragged_, &skipped_excluded_,
                          &skipped_quantized_,  &skipped_format_, &skipped_layout_,
                          &bytes_before_,       &bytes_after_};
  std::vector<int64_t> saved;
  for (PassStatistic* s : all) saved.push_back(s->value());
  const int64_t model_bytes = ModelTensorBytes(model);  // target-size is the whole model's
  candidates_.clear();
  plan_.clear();
  planning_ = true;
  absl::Status planned = Pass::RunOnModel(model);
  planning_ = false;
  if (!planned.ok()) return planned;
  for (size_t i = 0; i < std::size(all); ++i) {
    all[i]->Reset();
    *all[i] += saved[i];
  }
  if (absl::Status s = AttachSensitivities(options_.sensitivity.value(), candidates_); !s.ok()) {
    return s;
  }
  ChoosePrecisions(candidates_, MixedTargetOf(options_, candidates_, model_bytes));
  for (size_t i = 0; i < candidates_.size(); ++i) plan_[candidates_[i].key] = i;
  return Pass::RunOnModel(model);
}

absl::Status QuantizeWeightsPass::RunOnGraph(Graph& graph, Model& model) {
  for (const auto& node : graph.nodes()) {
    if (!options_.HandlesOp(*node)) continue;
    for (size_t i = 0; i < node->inputs().size(); ++i) {
      if (IsDequantizedWeight(*node, static_cast<int>(i))) ++skipped_quantized_;
    }
  }
  std::vector<Value*> candidates = graph.initializers();
  for (const auto& node : graph.nodes()) {
    if (IsConstantNode(*node) && node->output(0) != nullptr) candidates.push_back(node->output(0));
  }
  replaced_biases_.clear();
  for (Value* weight : candidates) {
    if (absl::Status s = QuantizeValue(weight, graph); !s.ok()) return s;
  }
  // Biases replaced by bias correction go once the walk over `candidates` is done.
  for (Value* bias : replaced_biases_) {
    if (IsValueUsed(bias)) continue;
    if (absl::Status s = EraseConstant(bias); !s.ok()) return s;
  }
  replaced_biases_.clear();
  return absl::OkStatus();
}

absl::Status QuantizeWeightsPass::QuantizeValue(Value* weight, Graph& graph) {
  TensorPtr tensor = GetConstantTensor(weight);
  if (tensor == nullptr) return absl::OkStatus();
  if (weights_ && !std::regex_search(weight->name(), *weights_)) return absl::OkStatus();
  WeightUses uses = SelectWeightUses(*weight, *tensor, options_, exclude_.get(), opset_);
  skipped_excluded_ += uses.excluded;
  skipped_layout_ += uses.layout_conflict;
  if (uses.all.empty()) return absl::OkStatus();
  const DataType type = tensor->type();
  if (type != DataType::kFloat && type != DataType::kFloat16 && type != DataType::kBFloat16) {
    ++skipped_not_float_;
    return absl::OkStatus();
  }
  if (tensor->num_elements() < options_.MinElements()) {
    ++skipped_small_;
    return absl::OkStatus();
  }
  std::string skip_reason;
  std::optional<BlockGeometry> geometry =
      ChooseGeometry(tensor->dims(), *uses.role, options_.granularity(),
                     options_.block_size.value(), options_.ragged(), &skip_reason);
  if (!geometry) {
    ++skipped_ragged_;
    return absl::OkStatus();
  }
  skipped_format_ += uses.format_refused;
  if (uses.empty()) return absl::OkStatus();
  const std::vector<HandledUse>& nbits_uses = uses.nbits;
  const std::vector<HandledUse>& generic_uses = uses.generic;
  const QuantFormat generic_format = uses.generic_format;

  QuantSpec spec = options_.spec();
  const MixedCandidate* plan = nullptr;
  const std::string key = absl::StrCat(GraphDebugName(graph), "\n", weight->name());
  std::vector<WeightUse> calibrated_uses;
  for (const HandledUse& use : generic_uses) calibrated_uses.push_back({use.node, use.input_index});
  if (options_.mixed_precision()) {
    if (planning_) {
      // A weight the kernels reject gets no plan; the second walk skips it and counts why.
      absl::StatusOr<std::optional<MixedCandidate>> c =
          MeasurePrecisions(key, *tensor, *uses.role, options_, !nbits_uses.empty(),
                            !generic_uses.empty(), calibration_.get(), calibrated_uses);
      if (!c.ok()) return c.status();
      if (c->has_value()) candidates_.push_back(**std::move(c));
      return absl::OkStatus();
    }
    if (auto it = plan_.find(key); it != plan_.end()) plan = &candidates_[it->second];
    if (plan != nullptr) {
      spec.bits = plan->levels[plan->chosen].bits;
      if (spec.bits == 0) {
        ++mixed_float_;
        const int float_bits = tensor->type() == DataType::kFloat ? 32 : 16;
        absl::StatusOr<std::vector<float>> same = tensor->ToFloats();
        AddReportRow(*weight, *tensor, uses.all.front().node->name, uses.all.front().node->op_type,
                     geometry->block, float_bits, static_cast<int64_t>(tensor->bytes().size()),
                     same.ok() ? quant::ComputeErrorStats(*same, *same) : quant::ErrorStats{},
                     plan);
        rows_.back().format = "float";
        return absl::OkStatus();
      }
      ++(spec.bits == options_.spec().bits ? mixed_lowest_ : mixed_int8_);
      if (std::optional<BlockGeometry> g =
              MixedGeometry(*tensor, *uses.role, options_, spec.bits)) {
        geometry = g;
      }
    }
  }

  // Quantize first so a weight the kernels reject (NaN, infinity) is skipped untouched.
  std::optional<NBitsWeight> nbits;
  std::optional<QuantizedWeight> quantized;
  if (!nbits_uses.empty()) {
    absl::StatusOr<NBitsWeight> q = QuantizeForMatMulNBits(*tensor, spec, geometry->block);
    if (!q.ok()) return SkipNotFinite();
    nbits = *std::move(q);
  }
  RoundingOutcome rounding;
  rounding.fallback_reason = "format=matmul-nbits packs with plain rounding";
  if (!generic_uses.empty()) {
    absl::StatusOr<QuantizedWeight> q = QuantizeMaybeCalibrated(
        calibration_.get(), key, *tensor, *uses.role, options_.granularity(), *geometry, spec,
        calibrated_uses, options_.gptq(), &rounding);
    if (absl::IsOutOfRange(q.status())) return SkipNotFinite();
    if (!q.ok()) return q.status();
    quantized = *std::move(q);
  }
  // The report names the first user, which a MatMulNBits rewrite erases: keep its names.
  std::string user_name = uses.all.front().node->name;
  std::string user_op = uses.all.front().node->op_type;
  // New nodes read only new initializers, so the start of the graph is always a valid place.
  Node* first = graph.nodes().empty() ? nullptr : graph.nodes().front().get();
  const EmitSite site{graph, first, weight->name()};
  int64_t bytes_after = 0;
  // The kernels measure the error while quantizing, on dequantized values rounded to the
  // weight's type as the runtime computes them.
  quant::ErrorStats error;
  if (nbits) {
    absl::StatusOr<MatMulNBitsInputs> inputs = EmitMatMulNBitsInputs(*nbits, site, &bytes_after);
    if (!inputs.ok()) return inputs.status();
    for (const HandledUse& use : nbits_uses) {
      if (absl::Status s = ReplaceWithMatMulNBits(*use.node, *nbits, *inputs); !s.ok()) return s;
    }
    error = nbits->packed.stats;
  }
  if (quantized) {
    // Emitting moves the payload out: decode first for bias correction.
    const std::vector<float> dequantized =
        options_.bias_correction.value() ? DequantizedValues(*quantized) : std::vector<float>();
    absl::StatusOr<Value*> value =
        generic_format == QuantFormat::kQdq       ? EmitQdq(*quantized, site, &bytes_after)
        : generic_format == QuantFormat::kQdqAxis ? EmitQdqAxis(*quantized, site, &bytes_after)
                                                  : EmitArith(*quantized, site, &bytes_after);
    if (!value.ok()) return value.status();
    for (const HandledUse& use : generic_uses) use.node->SetInput(use.input_index, *value);
    error = quantized->q.stats;
    if (!dequantized.empty()) {
      // A shared weight's users see different inputs: one bias cannot serve them all.
      absl::StatusOr<BiasCorrection> bias =
          generic_uses.size() == 1 && !rounding.input_means.empty()
              ? CorrectBias(graph, *generic_uses.front().node, *tensor, dequantized,
                            rounding.input_means)
              : BiasCorrection{};
      if (!bias.ok()) return bias.status();
      ++(bias->applied ? bias_corrected_ : bias_skipped_);
      if (bias->replaced != nullptr && std::find(replaced_biases_.begin(), replaced_biases_.end(),
                                                 bias->replaced) == replaced_biases_.end()) {
        replaced_biases_.push_back(bias->replaced);  // a shared bias is listed once
      }
    }
  }
  ++quantized_;
  bytes_before_ += static_cast<int64_t>(tensor->bytes().size());
  bytes_after_ += bytes_after;
  AddReportRow(*weight, *tensor, std::move(user_name), std::move(user_op), geometry->block,
               spec.bits, bytes_after, error, plan);
  if (calibration_ != nullptr) {
    ++(rounding.gptq ? gptq_ : gptq_fallback_);
    SetRounding(rounding, rows_.back());
  }

  // The float weight goes away when nothing reads it any more; so do its pages when mapped
  // from the input file (they are read back from the file should anything still touch them).
  if (!IsValueUsed(weight)) {
    if (tensor->buffer() != nullptr) tensor->buffer()->ReleasePages();
    return EraseConstant(weight);
  }
  return absl::OkStatus();
}

void QuantizeWeightsPass::AddReportRow(const Value& weight, const Tensor& tensor,
                                       std::string user_name, std::string user_op, int64_t block,
                                       int bits, int64_t bytes_after,
                                       const quant::ErrorStats& error, const MixedCandidate* plan) {
  WeightReportRow row;
  row.weight = weight.name();
  row.graph = GraphDebugName(*weight.graph());
  row.node = std::move(user_name);
  row.op = std::move(user_op);
  row.shape = tensor.dims();
  row.format = options_.format_text.value();
  row.bits = bits;
  row.scale_search = options_.scale_search_text.value();
  if (plan != nullptr) SetMixedFields(*plan, row);
  row.block = block;
  row.bytes_before = static_cast<int64_t>(tensor.bytes().size());
  row.bytes_after = bytes_after;
  SetError(error.sum_squared_signal, error.sum_squared_error, row);
  rows_.push_back(std::move(row));
}

}  // namespace

std::unique_ptr<Pass> CreateQuantizeWeightsPass() {
  return std::make_unique<QuantizeWeightsPass>();
}

}  // namespace onnx_opt
