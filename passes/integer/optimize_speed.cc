// optimize-speed: the one-line integer-inference pipeline of issue 15. It builds its nested
// pipeline from its options and the model and runs it:
//
//   upgrade-opset{target=T}      only when the default-domain opset is below 13 (per-axis
//                                DequantizeLinear, which int8 weights need, came with 13)
//   float32-compute              a float16 model computes in float32 (interface kept)
//   simplify                     folds BatchNormalization and affines into the convolutions, so
//                                the graph quantized is the one that runs
//   quantize-activations{...}    calibrated static QDQ with per-layer decisions (wt-qact)
//   quantize-weights{bits=4,...} weights=int4 only: blockwise int4 MatMul weights written as
//                                com.microsoft.MatMulNBits (any opset; ORT's int4 kernel)
//
// The first three steps are the preparation: `prepare-only=true` runs only them, and
// onnx-opt-calibrate --prepare speed runs exactly that, so the .calib names the tensors of the
// graph that quantize-activations sees. ONNX Runtime fuses the QDQ form into its integer kernels
// itself (QLinearConv, QLinearMatMul, QGemm, QLinearAdd...), so no fusion pass runs for it.
//
// Before (calibration=m.calib):
//   main (float[1,3,8,8] x) => (float[1,4,8,8] y) <float[4,3,3,3] w, float[4] b, ...> {
//     c = Conv <pads = [1, 1, 1, 1]> (x, w, b)
//     y = Mul (c, s)                     # per-channel scale
//   }
// After (scales and zero points from m.calib):
//   main (float[1,3,8,8] x) => (float[1,4,8,8] y) <int8[4,3,3,3] w_q, int32[4] b_q, ...> {
//     xq = QuantizeLinear (x, x_s, x_z)
//     xd = DequantizeLinear (xq, x_s, x_z)
//     wd = DequantizeLinear <axis = 0> (w_q, w_s, w_z)
//     bd = DequantizeLinear <axis = 0> (b_q, b_s)
//     c = Conv <pads = [1, 1, 1, 1]> (xd, wd, bd)      # the Mul folded into w and b
//     cq = QuantizeLinear (c, c_s, c_z)
//     y = DequantizeLinear (cq, c_s, c_z)
//   }
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "passes/core/pass.h"
#include "passes/core/pipeline.h"
#include "passes/core/registry.h"
#include "passes/quantize/calib_file.h"

namespace onnx_opt {
namespace {

// Per-axis DequantizeLinear (int8 weights, one scale per output channel) needs opset 13.
constexpr int64_t kMinQuantizedOpset = 13;

class OptimizeSpeedPass : public Pass {
 public:
  OptimizeSpeedPass() { opset_.Range(kMinQuantizedOpset, 21); }

  std::string_view name() const override { return "optimize-speed"; }
  std::string_view summary() const override {
    return "Calibrated integer inference in one pass: opset upgrade where needed, simplify, "
           "quantize-activations (and int4 MatMul weights)";
  }
  std::string_view description() const override {
    return "Runs a nested pipeline built from the options and the model: upgrade-opset{target="
           "opset} when the model's default-domain opset is below 13 (per-axis "
           "DequantizeLinear needs 13), float32-compute (float16 compute runs in float32), "
           "simplify, "
           "quantize-activations{calibration=FILE and the "
           "method, prefer, min-sqnr, min-output-sqnr, latency-table, report, exclude-nodes and "
           "quantize-options given} and, "
           "with weights=int4, quantize-weights{bits=4,block-size=32,ops=MatMul} in front of it "
           "(ONNX Runtime runs those as MatMulNBits; quantize-activations then leaves MatMuls "
           "alone). The steps before quantize-activations are the preparation that "
           "`prepare-only=true` runs "
           "alone and that `onnx-opt-calibrate MODEL --samples DIR --prepare speed -o m.calib` "
           "applies before it measures, so the calibration names the tensors quantized here; a "
           "file measured on another graph is refused with that hint. The two-command workflow: "
           "calibrate, then `onnx-opt MODEL -p 'optimize-speed{calibration=m.calib}' -o "
           "fast.onnx`. "
           "ONNX Runtime fuses the QDQ form into its integer kernels itself. The nested passes' "
           "errors name the pass.";
  }

  absl::Status ValidateOptions() const override {
    if (!prepare_only_.value() && calibration_.value().empty()) {
      return absl::InvalidArgumentError(
          "optimize-speed: option 'calibration' is required (a .calib file from "
          "onnx-opt-calibrate MODEL --samples DIR --prepare speed -o FILE), unless "
          "prepare-only=true");
    }
    return absl::OkStatus();
  }

  absl::Status RunOnModel(Model& model) override {
    std::vector<std::string> preparation;
    std::optional<int64_t> opset = model.OpsetVersion("");
    if (!opset) return absl::InvalidArgumentError("optimize-speed: model imports no ONNX opset");
    if (*opset < kMinQuantizedOpset) {
      preparation.push_back(absl::StrCat("upgrade-opset{target=", opset_.value(), "}"));
      ++upgraded_;
    }
    preparation.push_back("float32-compute");
    preparation.push_back("simplify");
    if (absl::Status s = RunText(absl::StrJoin(preparation, ","), model); !s.ok()) return s;
    if (prepare_only_.value()) return absl::OkStatus();

    if (absl::Status s = VerifyCalibFileModel(calibration_.value(), model); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("optimize-speed: ", s.message(),
                                 " (measure it on the prepared graph: onnx-opt-calibrate MODEL "
                                 "--samples DIR --prepare speed -o FILE)"));
    }
    return RunText(QuantizationText(), model);
  }

 private:
  std::string QuantizationText() const {
    // Only what the user set goes through, so quantize-activations' own defaults apply.
    std::vector<std::string> options = {
        absl::StrCat("calibration=", QuotePipelineValue(calibration_.value()))};
    for (const PassOptionBase* o : {static_cast<const PassOptionBase*>(&method_),
                                    static_cast<const PassOptionBase*>(&prefer_),
                                    static_cast<const PassOptionBase*>(&min_sqnr_),
                                    static_cast<const PassOptionBase*>(&min_output_sqnr_),
                                    static_cast<const PassOptionBase*>(&latency_table_),
                                    static_cast<const PassOptionBase*>(&report_)}) {
      if (o->is_set())
        options.push_back(absl::StrCat(o->name(), "=", QuotePipelineValue(o->ValueText())));
    }
    if (!exclude_nodes_.value().empty()) {
      std::vector<std::string> quoted;
      for (const std::string& n : exclude_nodes_.value()) quoted.push_back(QuotePipelineValue(n));
      options.push_back(absl::StrCat("exclude-nodes=", absl::StrJoin(quoted, ",")));
    }
    if (weights_.value() == "int4") {
      // MatMul weights go the weight-only way (blockwise int4, MatMulNBits in ORT), so
      // quantize-activations takes its default op types without MatMul.
      options.push_back("op-types=Conv,Gemm,Add,Mul,Concat,GlobalAveragePool,AveragePool");
    }
    if (!extra_.value().empty()) options.push_back(extra_.value());
    std::string text = absl::StrCat("quantize-activations{", absl::StrJoin(options, ","), "}");
    if (weights_.value() == "int4") {
      text = absl::StrCat("quantize-weights{bits=4,block-size=32,ops=MatMul,format=matmul-nbits},",
                          text);
    }
    return text;
  }

  // Parses `text` against the built-in passes and runs it; errors name the nested pass.
  absl::Status RunText(const std::string& text, Model& model) {
    PassRegistry registry = MakeDefaultPassRegistry();
    absl::StatusOr<std::vector<std::unique_ptr<Pass>>> passes = ParsePipeline(text, registry);
    if (!passes.ok()) {
      return absl::Status(passes.status().code(),
                          absl::StrCat("optimize-speed: nested pipeline '", text,
                                       "': ", passes.status().message()));
    }
    for (const std::unique_ptr<Pass>& pass : *passes) {
      if (absl::Status s = pass->RunOnModel(model); !s.ok()) {
        return absl::Status(
            s.code(), absl::StrCat("optimize-speed/", ToAbsl(pass->name()), ": ", s.message()));
      }
      ++passes_run_;
    }
    return absl::OkStatus();
  }

  PassOption<std::string> calibration_{
      this, "calibration",
      "The .calib file of onnx-opt-calibrate MODEL --samples DIR --prepare speed (ranges of the "
      "prepared graph's tensors)",
      ""};
  PassOption<std::string> weights_{
      this,
      "weights",
      "int8: every quantized layer's weights int8 per output channel (QDQ); int4: MatMul weights "
      "blockwise int4 (block 32, MatMulNBits in ONNX Runtime), the rest int8",
      "int8",
      {"int8", "int4"}};
  PassOption<std::string> method_{
      this,
      "method",
      "Passed to quantize-activations when set: how ranges come from histograms",
      "mse",
      {"minmax", "percentile", "entropy", "mse"}};
  PassOption<std::string> prefer_{
      this,
      "prefer",
      "Passed to quantize-activations when set: speed keeps a layer integer when it is faster "
      "and within the noise budget; accuracy keeps float what is close to the budget",
      "speed",
      {"speed", "accuracy"}};
  PassOption<double> min_sqnr_{
      this, "min-sqnr", "Passed to quantize-activations when set: per-layer SQNR floor in dB", 0};
  PassOption<double> min_output_sqnr_{
      this, "min-output-sqnr",
      "Passed to quantize-activations when set: the model's output-noise budget in dB, spent on "
      "the layer noise a .calib file made with --what ranges,layer-noise holds (quantize-"
      "activations applies its default, 20 dB, whenever the file holds it)",
      20};
  PassOption<std::string> latency_table_{
      this, "latency-table",
      "Passed to quantize-activations when set: the ORT op-latency JSON (none: no latency rule)",
      ""};
  PassOption<std::string> report_{
      this, "report", "Passed to quantize-activations: JSON report of every layer's decision", ""};
  PassOption<std::vector<std::string>> exclude_nodes_{
      this, "exclude-nodes", "Passed to quantize-activations: nodes that stay float", {}};
  PassOption<std::string> extra_{
      this, "quantize-options",
      "More quantize-activations options, as its pipeline text (e.g. \"weight-bits=8,"
      "activations=int8\")",
      ""};
  PassOption<bool> prepare_only_{
      this, "prepare-only",
      "Run only the preparation (opset upgrade where needed, float32-compute, simplify): what "
      "onnx-opt-calibrate --prepare speed measures",
      false};
  PassOption<int64_t> opset_{this, "opset",
                             "Opset a model below 13 is upgraded to (models at 13 or above keep "
                             "theirs)",
                             21};
  PassStatistic upgraded_{this, "opset-upgraded", "Models upgraded because their opset was < 13"};
  PassStatistic passes_run_{this, "nested-passes-run", "Nested passes run"};
};

}  // namespace

std::unique_ptr<Pass> CreateOptimizeSpeedPass() { return std::make_unique<OptimizeSpeedPass>(); }

}  // namespace onnx_opt
