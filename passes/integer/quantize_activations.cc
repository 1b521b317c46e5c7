// quantize-activations: static integer inference in the QDQ form ONNX Runtime fuses. Each
// selected Conv/Gemm/MatMul reads DequantizeLinear(QuantizeLinear(x)) with uint8 asymmetric
// per-tensor parameters taken from the activation ranges of a .calib file, an int8 weight
// quantized per output channel (7-bit range by default), an int32 bias with scale s_x * s_w[c],
// and its output goes through QuantizeLinear/DequantizeLinear too, so ORT sees input, weight
// and output quantized and runs the integer kernel (QLinearConv, QLinearMatMul, QGemm).
//
// Before:
//   main (float[1,3,8,8] x) => (float[1,4,8,8] y)
//   <float[4,3,3,3] w = {...}, float[4] b = {...}>
//   {
//     y = Conv <pads = [1, 1, 1, 1]> (x, w, b)
//   }
// After (calibration=model.calib, x in [-1, 1], y in [-2, 3]):
//   main (float[1,3,8,8] x) => (float[1,4,8,8] y)
//   <float x_scale = {0.00784}, uint8 x_zero_point = {128}, int8[4,3,3,3] w_quantized = {...},
//    float[4] w_scale = {...}, int8[4] w_zero_point = {0, 0, 0, 0}, int32[4] b_quantized = {...},
//    float[4] b_scale = {...}, int32[4] b_zero_point = {...}, float y_scale = {0.0196},
//    uint8 y_zero_point = {102}>
//   {
//     x_quantized = QuantizeLinear (x, x_scale, x_zero_point)
//     x_dequantized = DequantizeLinear (x_quantized, x_scale, x_zero_point)
//     w_dequantized = DequantizeLinear <axis = 0> (w_quantized, w_scale, w_zero_point)
//     b_dequantized = DequantizeLinear <axis = 0> (b_quantized, b_scale, b_zero_point)
//     y_float = Conv <pads = [1, 1, 1, 1]> (x_dequantized, w_dequantized, b_dequantized)
//     y_quantized = QuantizeLinear (y_float, y_scale, y_zero_point)
//     y = DequantizeLinear (y_quantized, y_scale, y_zero_point)
//   }
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/core/pass.h"
#include "passes/integer/act_ranges.h"
#include "passes/integer/layer_decisions.h"
#include "passes/integer/layer_decisions_regions.h"
#include "passes/integer/quantize_activations_plan.h"
#include "passes/integer/quantize_activations_report.h"
#include "passes/integer/quantize_activations_rewrite.h"
#include "passes/integer/quantize_activations_tensors.h"
#include "passes/integer/quantize_dynamic.h"
#include "passes/simplify/shape_inference.h"

namespace onnx_opt {
namespace {

const std::vector<std::string> kOpTypeChoices = {
    "Conv",        "Gemm",    "MatMul",  "Add",       "Mul",    "Concat",    "GlobalAveragePool",
    "AveragePool", "MaxPool", "Sigmoid", "LeakyRelu", "Resize", "Transpose", "Reshape"};

class QuantizeActivationsPass : public Pass {
 public:
  QuantizeActivationsPass() {
    percentile_.Range(50, 100);
    min_sqnr_.Range(0, 200);
    min_output_sqnr_.Range(0, 200);
    weight_bits_.Range(2, 8);
  }
  std::string_view name() const override { return "quantize-activations"; }
  std::string_view summary() const override {
    return "Static uint8 activations, per-channel int8 weights and int32 biases in the QDQ form "
           "ONNX Runtime runs as integer kernels";
  }
  std::string_view description() const override {
    return "Activation ranges come from the `ranges` statistics of a .calib file measured on "
           "this graph (onnx-opt-calibrate; tensor names must match, a missing one is an error "
           "naming it). Each selected node's float inputs and its output (after a Relu that is "
           "its only user, which ORT folds into the QuantizeLinear) get QuantizeLinear + "
           "DequantizeLinear; Conv/Gemm/MatMul constant weights become int8 per output channel "
           "behind a DequantizeLinear with `axis`, biases int32 with scale s_x * s_w[c]. Binary "
           "and pooling ops are quantized only when every float operand is an activation. "
           "Per layer, a node stays float where the ORT latency table (built in, or "
           "latency-table=) predicts int8 no faster (depthwise and small convs, uint8 Resize on "
           "AVX2), where a tensor's histogram-predicted SQNR is below min-sqnr=, where the "
           "output noise measured with the node alone quantized (the .calib file's layer_noise, "
           "onnx-opt-calibrate --what ranges,layer-noise) does not fit min-output-sqnr= (the "
           "noisiest, or with budget-order=saving those with the most noise per microsecond "
           "saved, go float until the sum over the integer layers fits), where its "
           "neighbours all stay float, or where the table predicts it, or its connected integer "
           "region, slower once the Q/DQ its float neighbours need are counted; the whole plan "
           "stays float when the .calib file timed exactly it slower than float "
           "(onnx-opt-calibrate --what plan-speed, min-plan-speedup=). A float Conv/Gemm between "
           "Q/DQ reads its bias as int32 behind a DequantizeLinear so ORT does not quantize it "
           "itself. Scalar Mul/Div/Add/Sub chains before a quantized tensor fold into its "
           "QuantizeLinear, those after a "
           "DequantizeLinear into its parameters; unused Q/DQ go. report= lists every node's "
           "decision with its figures. Needs opset >= 13 (per-axis DequantizeLinear): run "
           "upgrade-opset first. Only the main graph; nodes inside subgraphs are counted as "
           "skipped.";
  }
  PassConvergence convergence() const override { return PassConvergence::kIdempotent; }

  absl::Status ValidateOptions() const override {
    if (mode_.value() == "static" && calibration_.value().empty()) {
      return absl::InvalidArgumentError(
          "option 'calibration' is required with mode=static (a .calib "
          "file from onnx-opt-calibrate)");
    }
    return absl::OkStatus();
  }

  absl::Status RunOnModel(Model& model) override {
    if (mode_.value() == "dynamic") return RunDynamic(model);
    if (!model.graph) return absl::OkStatus();
    if (model.OpsetVersion("").value_or(0) < 13) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the model imports opset ", model.OpsetVersion("").value_or(0),
          "; per-channel DequantizeLinear needs opset >= 13 (run upgrade-opset{target=13} "
          "first)"));
    }
    // Types tell a float tensor without a range (an error) from a tensor of another type.
    ShapeInferenceStats inferred;
    if (absl::Status s = InferModelShapes(model, &inferred); !s.ok()) return s;
    model.WalkGraphs([this, &model](Graph& graph) {
      if (&graph != model.graph.get()) stats_.nodes_in_subgraphs += graph.num_nodes();
    });
    absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(calibration_.value());
    if (!file.ok()) return file.status();
    // Ranges and histograms only: the Hessians (GPTQ) are read weight by weight when used.
    absl::StatusOr<CalibContents> contents = (*file)->ReadTensors();
    if (!contents.ok()) return contents.status();
    absl::flat_hash_map<std::string, const CalibTensorStats*> stats;
    for (const CalibTensorStats& t : contents->tensors) stats[t.name] = &t;

    Graph& graph = *model.graph;
    NodeSelection selection;
    selection.op_types = op_types_.value();
    selection.only_nodes.insert(nodes_.value().begin(), nodes_.value().end());
    selection.exclude_nodes.insert(exclude_nodes_.value().begin(), exclude_nodes_.value().end());
    QuantizationPlan plan = PlanQuantization(graph, selection);
    DropUntypedWithoutRange(plan, stats);
    QuantizeActivationsReport report;
    RangeOptions ranges;
    ranges.method = *ParseRangeMethod(method_.value());
    ranges.percentile = percentile_.value();
    ranges.is_signed = activations_.value() == "int8";
    ranges.calibration = calibration_.value();
    if (absl::Status s = CheckRanges(plan, stats, ranges.calibration); !s.ok()) return s;
    absl::StatusOr<DecisionOptions> decisions = MakeDecisionOptions(
        prefer_.value() == "accuracy",
        min_sqnr_.is_set() ? std::optional<double>(min_sqnr_.value()) : std::nullopt,
        latency_table_.value(), &loaded_table_);
    if (!decisions.ok()) return decisions.status();
    absl::flat_hash_map<std::string, double> layer_noise;
    for (const CalibLayerNoise& n : contents->layer_noise) layer_noise[n.node] = n.output_noise;
    if (min_output_sqnr_.is_set() && min_output_sqnr_.value() > 0 && layer_noise.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "min-output-sqnr needs the layer-noise statistics, which calibration file ",
          calibration_.value(),
          " does not hold (make it with onnx-opt-calibrate --what ranges,layer-noise)"));
    }
    if (!layer_noise.empty()) {
      decisions->layer_noise = &layer_noise;
      decisions->min_output_sqnr_db = min_output_sqnr_.value();
      decisions->budget_by_saving = budget_order_.value() == "saving";
    }
    const size_t float_before = plan.kept_float.size();
    DecideLayers(plan, stats, ranges, *decisions);
    for (size_t i = float_before; i < plan.kept_float.size(); ++i) {
      const std::string& reason = plan.kept_float[i].reason;
      if (reason.find("min-output-sqnr") != std::string::npos) ++stats_.noise_kept;
      if (reason.find("whole-graph estimate") != std::string::npos) ++stats_.boundary_kept;
    }
    if (contents->plan_speed && min_plan_speedup_.value() > 0) {
      const size_t integer_before = plan.quantized.size();
      report.plan_speed =
          ApplyMeasuredPlanSpeed(plan, *contents->plan_speed, min_plan_speedup_.value());
      stats_.measured_slower_kept += static_cast<int64_t>(integer_before - plan.quantized.size());
    }
    absl::StatusOr<TensorPlan> tensors = PlanTensors(plan, stats, ranges, &report.tensors);
    if (!tensors.ok()) return tensors.status();

    std::unique_ptr<ChannelGptq> gptq;
    if (gptq_.value() && !plan.quantized.empty()) {
      absl::StatusOr<std::unique_ptr<ChannelGptq>> opened = ChannelGptq::Open(calibration_.value());
      if (!opened.ok()) return opened.status();
      gptq = *std::move(opened);
    }
    if (absl::Status s =
            ApplyQuantizationPlan(graph, plan, *tensors, static_cast<int>(weight_bits_.value()),
                                  weights_signed_.value(), gptq.get(), &report.nodes, stats_);
        !s.ok()) {
      return s;
    }
    if (report_.value().empty()) return absl::OkStatus();
    report.calibration = calibration_.value();
    report.method = method_.value();
    report.activations = activations_.value();
    report.weight_bits = static_cast<int>(weight_bits_.value());
    report.weights_signed = weights_signed_.value();
    return WriteQuantizeActivationsReport(report_.value(), report);
  }

 private:
  // mode=dynamic (passes/integer/quantize_dynamic.h): the selected Conv and MatMul nodes; uint8
  // weights unless weights-signed is given (u8 x u8 does not saturate on AVX2 without VNNI).
  absl::Status RunDynamic(Model& model) {
    DynamicQuantOptions options;
    options.weights_signed = weights_signed_.is_set() && weights_signed_.value();
    options.op_types.clear();
    for (const std::string& op : op_types_.value()) {
      if (op == "Conv" || op == "MatMul") options.op_types.push_back(op);
    }
    options.nodes = nodes_.value();
    options.exclude_nodes = exclude_nodes_.value();
    absl::StatusOr<DynamicQuantResult> r = QuantizeDynamic(model, options);
    if (!r.ok()) return r.status();
    stats_.nodes_quantized += r->convs + r->matmuls;
    stats_.weights_quantized += r->convs + r->matmuls;
    stats_.tensors_quantized += r->activations;
    stats_.nodes_kept_float += r->skipped;
    return absl::OkStatus();
  }

  PassOption<std::string> mode_{this,
                                "mode",
                                "static: ranges from a .calib file; dynamic: computed at run time "
                                "(DynamicQuantizeLinear + ConvInteger/MatMulInteger on the "
                                "selected Conv and MatMul, no calibration; 8-bit weights per "
                                "output channel, uint8 unless weights-signed is given)",
                                "static",
                                {"static", "dynamic"}};
  PassOption<std::string> calibration_{
      this, "calibration", "The .calib file (onnx-opt-calibrate, `ranges`) measured on this graph",
      ""};
  PassOption<std::string> method_{this,
                                  "method",
                                  "How an activation range is chosen from its histogram",
                                  "mse",
                                  {"minmax", "percentile", "entropy", "mse"}};
  PassOption<double> percentile_{this, "percentile",
                                 "method=percentile: keep values between the (100 - p) and p "
                                 "percentiles",
                                 99.99};
  PassOption<std::string> activations_{this,
                                       "activations",
                                       "uint8 asymmetric or int8 symmetric per-tensor activations",
                                       "uint8",
                                       {"uint8", "int8"}};
  PassOption<int64_t> weight_bits_{
      this, "weight-bits",
      "Bits of the per-channel weight range: 7 by default because AVX2 without VNNI sums "
      "uint8 x int8 products in saturating int16 (8-bit weights overflow on the real kernels)",
      7};
  PassOption<bool> gptq_{this, "gptq",
                         "Round the weights with GPTQ where the .calib file has their Hessians "
                         "(--what hessians) and GPTQ beats plain rounding on held-out samples",
                         true};
  PassOption<bool> weights_signed_{
      this, "weights-signed", "int8 weights (zero point 0); false: uint8 (zero point 128)", true};
  PassOption<std::vector<std::string>> op_types_{
      this, "op-types", "Op types to quantize",
      std::vector<std::string>{"Conv", "Gemm", "MatMul", "Add", "Mul", "Concat",
                               "GlobalAveragePool", "AveragePool"},
      kOpTypeChoices};
  PassOption<std::vector<std::string>> nodes_{
      this, "nodes", "Only these nodes (names; an unnamed node by its first output)", {}};
  PassOption<std::vector<std::string>> exclude_nodes_{
      this, "exclude-nodes", "Keep these nodes float (names, as for nodes)", {}};
  PassOption<std::string> prefer_{
      this,
      "prefer",
      "speed: quantize a layer where the latency table predicts int8 faster; accuracy: only "
      "where it predicts >= 1.25x, and min-sqnr defaults to 30 dB",
      "speed",
      {"speed", "accuracy"}};
  PassOption<double> min_sqnr_{this, "min-sqnr",
                               "Keep float a layer with a tensor whose histogram-predicted SQNR "
                               "is below this (dB; 0: no noise rule)",
                               0.0};
  PassOption<double> min_output_sqnr_{
      this, "min-output-sqnr",
      "When the .calib file holds layer-noise statistics: keep float the layers of largest "
      "measured output noise until the sum over the integer ones is below the noise of this "
      "SQNR (dB; 0: no budget; set without those statistics: an error)",
      20.0};
  PassOption<std::string> budget_order_{
      this,
      "budget-order",
      "Which layers min-output-sqnr keeps float first: noise = the noisiest; saving = the most "
      "measured noise per microsecond the latency table says int8 saves (not faster on ocr-det "
      "at the load measured, docs/results.md)",
      "noise",
      {"noise", "saving"}};
  PassOption<std::string> latency_table_{
      this, "latency-table",
      "ORT op-latency JSON (bench/op-latency.mjs); empty: the built-in "
      "passes/integer/ort_latency.json; none: no latency rule",
      ""};
  PassOption<double> min_plan_speedup_{
      this, "min-plan-speedup",
      "When the .calib file timed this very plan (onnx-opt-calibrate --what plan-speed): keep "
      "all of it float if its measured speed-up over the float graph is below this (0: ignore "
      "the measurement)",
      1.0};
  std::unique_ptr<LatencyTable> loaded_table_;
  PassOption<std::string> report_{
      this, "report", "Write every node's decision and every tensor's range to this JSON file", ""};
  QuantizeActivationsStatistics stats_{this};
};

}  // namespace

std::unique_ptr<Pass> CreateQuantizeActivationsPass() {
  return std::make_unique<QuantizeActivationsPass>();
}

}  // namespace onnx_opt
