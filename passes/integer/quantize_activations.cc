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
#include "passes/core/utils.h"
#include "passes/integer/act_ranges.h"
#include "passes/integer/quantize_activations_emit.h"
#include "passes/integer/quantize_activations_plan.h"
#include "passes/integer/quantize_activations_report.h"
#include "passes/integer/quantize_dynamic.h"
#include "passes/simplify/shape_inference.h"

namespace onnx_opt {
namespace {

const std::vector<std::string> kOpTypeChoices = {
    "Conv",    "Gemm",    "MatMul",  "Add",     "Mul",       "Concat",  "GlobalAveragePool",
    "AveragePool", "MaxPool", "Sigmoid", "LeakyRelu", "Resize", "Transpose", "Reshape"};

class QuantizeActivationsPass : public Pass {
 public:
  QuantizeActivationsPass() {
    percentile_.Range(50, 100);
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
           "and pooling ops are quantized only when every float operand is an activation. Needs "
           "opset >= 13 (per-axis DequantizeLinear): run upgrade-opset first. Only the main "
           "graph; nodes inside subgraphs are counted as skipped.";
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
      if (&graph != model.graph.get()) nodes_in_subgraphs_ += graph.num_nodes();
    });
    absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(calibration_.value());
    if (!file.ok()) return file.status();
    absl::StatusOr<CalibContents> contents = (*file)->ReadAll();
    if (!contents.ok()) return contents.status();
    absl::flat_hash_map<std::string, const CalibTensorStats*> stats;
    for (const CalibTensorStats& t : contents->tensors) stats[t.name] = &t;

    Graph& graph = *model.graph;
    NodeSelection selection;
    selection.op_types = op_types_.value();
    selection.only_nodes.insert(nodes_.value().begin(), nodes_.value().end());
    selection.exclude_nodes.insert(exclude_nodes_.value().begin(), exclude_nodes_.value().end());
    QuantizationPlan plan = PlanQuantization(graph, selection);
    // A tensor still untyped after inference and without a range is taken for a non-float one
    // (the file holds every float tensor the runtime typed).
    std::erase_if(plan.quantized, [&](const QuantizedNode& q) {
      std::vector<Value*> values = {QuantizedOutput(*q.node)};
      for (int i : q.activation_inputs) values.push_back(q.node->input(i));
      for (Value* v : values) {
        if (v->type.is_tensor() && v->type.elem_type != DataType::kUndefined) continue;
        if (stats.contains(v->name())) continue;
        plan.kept_float.push_back(
            {q.node, absl::StrCat("tensor '", v->name(), "' has no type and no range")});
        return true;
      }
      return false;
    });

    // Every tensor to quantize, once, in plan order, with the node that needs it.
    std::vector<std::pair<Value*, const Node*>> tensors;
    absl::flat_hash_map<const Value*, QuantParams> params;
    QuantizeActivationsReport report;
    const bool is_signed = activations_.value() == "int8";
    const RangeMethod method = *ParseRangeMethod(method_.value());
    auto add = [&](Value* v, const Node* node, std::string_view role) -> absl::Status {
      if (params.contains(v)) return absl::OkStatus();
      auto it = stats.find(v->name());
      if (it == stats.end() || it->second->count == 0) {
        return absl::NotFoundError(absl::StrCat(
            "calibration file ", calibration_.value(),
            " has no range for tensor '", v->name(), "' (", ToAbsl(role), " of ", node->DebugName(),
            "); measure the file on the graph this pass quantizes (onnx-opt-calibrate)"));
      }
      const CalibTensorStats& s = *it->second;
      FloatRange range = ChooseRange(s, method, percentile_.value(), is_signed);
      QuantParams p = ActivationParams(range, is_signed);
      params[v] = p;
      tensors.emplace_back(v, node);
      report.tensors.push_back({v->name(), s.min, s.max, range, p, HistogramSqnrDb(s, p)});
      return absl::OkStatus();
    };
    for (const QuantizedNode& q : plan.quantized) {
      for (int i : q.activation_inputs) {
        if (absl::Status s = add(q.node->input(i), q.node, "input"); !s.ok()) return s;
      }
      if (absl::Status s = add(QuantizedOutput(*q.node), q.node, "output"); !s.ok()) return s;
    }

    QdqEmitter emitter(graph);
    const bool weights_signed = weights_signed_.value();
    const int bits = static_cast<int>(weight_bits_.value());
    for (const QuantizedNode& q : plan.quantized) {
      report.nodes.push_back({SelectionName(*q.node), q.node->op_type, true, ""});
      ++nodes_quantized_;
      if (q.weight_input < 0) continue;
      std::vector<float> scales =
          emitter.QuantizeWeight(q.node, q.weight_input, q.weight_axis, bits, weights_signed);
      ++weights_quantized_;
      if (q.bias_input < 0) continue;
      emitter.QuantizeBias(q.node, q.bias_input, params[q.node->input(0)].scale, scales);
      ++biases_quantized_;
    }
    for (const FloatNode& f : plan.kept_float) {
      report.nodes.push_back({SelectionName(*f.node), f.node->op_type, false, f.reason});
      ++nodes_kept_float_;
    }
    for (const auto& [value, node] : tensors) {
      emitter.InsertActivationQdq(value, params[value]);
      ++tensors_quantized_;
    }
    emitter.EraseUnusedConstants();
    if (report_.value().empty()) return absl::OkStatus();
    report.calibration = calibration_.value();
    report.method = method_.value();
    report.activations = activations_.value();
    report.weight_bits = bits;
    report.weights_signed = weights_signed;
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
    nodes_quantized_ += r->convs + r->matmuls;
    weights_quantized_ += r->convs + r->matmuls;
    tensors_quantized_ += r->activations;
    nodes_kept_float_ += r->skipped;
    return absl::OkStatus();
  }

  PassOption<std::string> mode_{this, "mode",
                                "static: ranges from a .calib file; dynamic: computed at run time "
                                "(DynamicQuantizeLinear + ConvInteger/MatMulInteger on the "
                                "selected Conv and MatMul, no calibration; 8-bit weights per "
                                "output channel, uint8 unless weights-signed is given)",
                                "static", {"static", "dynamic"}};
  PassOption<std::string> calibration_{
      this, "calibration", "The .calib file (onnx-opt-calibrate, `ranges`) measured on this graph",
      ""};
  PassOption<std::string> method_{
      this, "method", "How an activation range is chosen from its histogram", "percentile",
      {"minmax", "percentile", "entropy", "mse"}};
  PassOption<double> percentile_{this, "percentile",
                                 "method=percentile: keep values between the (100 - p) and p "
                                 "percentiles",
                                 99.99};
  PassOption<std::string> activations_{
      this, "activations", "uint8 asymmetric or int8 symmetric per-tensor activations", "uint8",
      {"uint8", "int8"}};
  PassOption<int64_t> weight_bits_{
      this, "weight-bits",
      "Bits of the per-channel weight range: 7 by default because AVX2 without VNNI sums "
      "uint8 x int8 products in saturating int16 (8-bit weights overflow on the real kernels)",
      7};
  PassOption<bool> weights_signed_{this, "weights-signed",
                                   "int8 weights (zero point 0); false: uint8 (zero point 128)",
                                   true};
  PassOption<std::vector<std::string>> op_types_{
      this, "op-types", "Op types to quantize",
      std::vector<std::string>{"Conv", "Gemm", "MatMul", "Add", "Mul", "Concat",
                               "GlobalAveragePool", "AveragePool"},
      kOpTypeChoices};
  PassOption<std::vector<std::string>> nodes_{
      this, "nodes", "Only these nodes (names; an unnamed node by its first output)", {}};
  PassOption<std::vector<std::string>> exclude_nodes_{
      this, "exclude-nodes", "Keep these nodes float (names, as for nodes)", {}};
  PassOption<std::string> report_{
      this, "report", "Write every node's decision and every tensor's range to this JSON file",
      ""};
  PassStatistic nodes_quantized_{this, "nodes-quantized", "Nodes given quantized inputs/output"};
  PassStatistic nodes_kept_float_{this, "nodes-kept-float",
                                  "Nodes of the selected op types left float"};
  PassStatistic tensors_quantized_{this, "tensors-quantized",
                                   "Activations given QuantizeLinear/DequantizeLinear"};
  PassStatistic weights_quantized_{this, "weights-per-channel", "Weights quantized per output channel"};
  PassStatistic biases_quantized_{this, "biases-quantized", "int32 biases"};
  PassStatistic nodes_in_subgraphs_{this, "nodes-in-subgraphs-skipped",
                                    "Nodes inside subgraphs or functions (not quantized)"};
};

}  // namespace

std::unique_ptr<Pass> CreateQuantizeActivationsPass() {
  return std::make_unique<QuantizeActivationsPass>();
}

}  // namespace onnx_opt
