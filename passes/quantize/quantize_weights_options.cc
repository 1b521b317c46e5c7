#include "passes/quantize/quantize_weights_options.h"

#include <algorithm>

namespace onnx_opt {

QuantizeWeightsOptions::QuantizeWeightsOptions(Pass* pass)
    : bits(pass, "bits", "Bits per weight: 4, 8 or 16", 4),
      is_signed(pass, "signed", "Signed integers (int4/int8/int16) rather than unsigned", true),
      symmetric(pass, "symmetric", "Zero point fixed at the middle of the range", true),
      granularity_text(pass, "granularity", "One scale per block, output channel or tensor",
                       "block", {"block", "channel", "tensor"}),
      block_size(pass, "block-size", "Weights per block along the reduction axis", 32),
      ragged_text(pass, "ragged",
                  "Reduction axis not a multiple of block-size: allow a short last block, use "
                  "the largest divisor not above block-size, or skip the weight",
                  "allow", {"allow", "divisor", "skip"}),
      min_elements(pass, "min-elements",
                   "Leave weights with fewer elements alone (with target-size and no sensitivity: "
                   "default 1, every weight is a candidate)",
                   1024),
      ops(pass, "ops", "Ops whose weights are quantized",
          {"Conv", "ConvTranspose", "MatMul", "Gemm"}, {"Conv", "ConvTranspose", "MatMul", "Gemm"}),
      exclude(pass, "exclude", "Regular expression (ECMAScript, searched) of node names to skip",
              ""),
      weights(pass, "weights",
              "Regular expression (ECMAScript, searched) of weight names to quantize (empty: all)",
              ""),
      format_text(pass, "format", "Graph form of the quantized weight", "qdq",
                  {"qdq", "qdq-axis", "arith", "matmul-nbits", "post-scale"}),
      runtime(pass, "runtime",
              "Runtime the model is for: opencv-* default to bits=8 and ragged=divisor and "
              "refuse what OpenCV cannot load",
              "ort", {"ort", "opencv-4.12", "opencv-5", "opencv-4.6"}),
      report(pass, "report", "Write per-weight sizes and errors to this JSON file", ""),
      scale_search_text(pass, "scale-search",
                        "Per-block scale choice: min/max, squared-error grid search, or "
                        "half-quadratic (HQQ) iterations",
                        "minmax", {"minmax", "mse", "hqq"}),
      target_size(pass, "target-size",
                  "Mixed precision: size of the model's tensors (the file, less its graph "
                  "structure), as a ratio of their bytes before the pass when <= 1, else in bytes "
                  "(0: off)",
                  0.0),
      target_size_of(pass, "target-size-of",
                     "What target-size measures: the model file, or only the weights quantized "
                     "(those of at least min-elements)",
                     "file", {"file", "weights"}),
      max_error(pass, "max-error",
                "Mixed precision: largest relative Frobenius error per weight (0: off)", 0.0),
      int8_block_size(pass, "int8-block-size",
                      "Mixed precision: block size of weights promoted to int8 (0: block-size)", 0),
      sensitivity(pass, "sensitivity",
                  "Mixed precision: rank weights by the model-output noise measured in this "
                  ".calib file (onnx-opt-calibrate --what sensitivity) or sensitivity JSON file "
                  "instead of their weight error",
                  ""),
      calibration(pass, "calibration",
                  "Data-aware rounding (GPTQ) from the Hessians in this .calib file "
                  "(onnx-opt-calibrate) or the layer inputs listed in this calibration manifest "
                  "(onnx-opt-calibration-1 JSON); empty: plain rounding",
                  ""),
      gptq_damp(pass, "gptq-damp",
                "GPTQ: damping added to the Hessian diagonal, as a fraction of its mean", 0.01),
      gptq_act_order(pass, "gptq-act-order",
                     "GPTQ: round columns by decreasing input energy, block scales fixed up front",
                     true),
      gptq_shrink(pass, "gptq-shrink",
                  "GPTQ: extra damping shrink * K / calibration vectors, for weights whose "
                  "Hessian comes from few vectors (pooled inputs, small feature maps)",
                  0.0),
      gptq_validate(pass, "gptq-validate",
                    "GPTQ: fit each weight on half the calibration samples and keep plain "
                    "rounding when that is better on the other half",
                    true),
      bias_correction(pass, "bias-correction",
                      "Add each weight's rounding-induced output mean shift, measured on the "
                      "calibration data, back to the bias of its Conv/Gemm (or the Add after "
                      "its MatMul)",
                      false) {
  gptq_damp.Range(0, 100);
  gptq_shrink.Range(0, 1000);
  int8_block_size.Range(0, int64_t{1} << 30);
  target_size.Range(0, 1e18);
  max_error.Range(0, 1e6);
  block_size.Range(2, int64_t{1} << 30);
  min_elements.Range(0, static_cast<double>(int64_t{1} << 53));
}

QuantFormat QuantizeWeightsOptions::format() const {
  const std::string& f = format_text.value();
  if (f == "qdq-axis") return QuantFormat::kQdqAxis;
  if (f == "arith") return QuantFormat::kArith;
  if (f == "matmul-nbits") return QuantFormat::kMatMulNBits;
  if (f == "post-scale" || (!format_text.is_set() && runtime.value() == "opencv-4.6")) {
    return QuantFormat::kPostScale;
  }
  return QuantFormat::kQdq;
}

Granularity QuantizeWeightsOptions::granularity() const {
  const std::string& g = granularity_text.value();
  if (g == "channel") return Granularity::kChannel;
  if (g == "tensor") return Granularity::kTensor;
  // post-scale scales output channels: its default granularity.
  if (!granularity_text.is_set() && format() == QuantFormat::kPostScale)
    return Granularity::kChannel;
  return Granularity::kBlock;
}

int64_t QuantizeWeightsOptions::Bits() const {
  return (ForOpenCv() || format() == QuantFormat::kPostScale) && !bits.is_set() ? 8 : bits.value();
}

RaggedPolicy QuantizeWeightsOptions::ragged() const {
  const std::string& r = ragged_text.value();
  if (r == "skip") return RaggedPolicy::kSkip;
  // qdq-axis and arith cannot express a short last block, and OpenCV loads none (its
  // broadcastBlockedMatrix needs a divisor): their default is the divisor rule.
  if (r == "divisor" || format() == QuantFormat::kQdqAxis || format() == QuantFormat::kArith ||
      ForOpenCv()) {
    return RaggedPolicy::kDivisor;
  }
  return RaggedPolicy::kAllow;
}

QuantSpec QuantizeWeightsOptions::spec() const {
  const std::string& s = scale_search_text.value();
  const quant::ScaleSearch search = s == "mse"   ? quant::ScaleSearch::kMse
                                    : s == "hqq" ? quant::ScaleSearch::kHqq
                                                 : quant::ScaleSearch::kMinMax;
  return QuantSpec{static_cast<int>(Bits()), is_signed.value(), symmetric.value(), search};
}

int64_t QuantizeWeightsOptions::BlockSizeFor(int level_bits) const {
  if (level_bits == 8 && Bits() != 8 && int8_block_size.value() > 0) {
    return int8_block_size.value();
  }
  return block_size.value();
}

bool QuantizeWeightsOptions::mixed_precision() const {
  return target_size.value() > 0 || max_error.value() > 0;
}

int64_t QuantizeWeightsOptions::MinElements() const {
  // A sensitivity file lists the weights it measured (those of at least min-elements): with
  // one, small weights stay out of the candidates (their bytes still count in the budget).
  if (target_size.value() > 0 && target_size_of.value() == "file" && !min_elements.is_set() &&
      sensitivity.value().empty()) {
    return 1;
  }
  return std::max<int64_t>(min_elements.value(), 1);
}

std::vector<int> QuantizeWeightsOptions::MixedLevels() const {
  std::vector<int> levels = {static_cast<int>(Bits())};
  // qdq-axis and arith cannot store int4, so int8 is the only step up for them too.
  if (Bits() < 8) levels.push_back(8);
  levels.push_back(0);
  return levels;
}

quant::GptqOptions QuantizeWeightsOptions::gptq() const {
  quant::GptqOptions o;
  o.damp = gptq_damp.value();
  o.act_order = gptq_act_order.value();
  o.shrink = gptq_shrink.value();
  o.validate = gptq_validate.value();
  return o;
}

bool QuantizeWeightsOptions::HandlesOp(const Node& node) const {
  if (!node.domain.empty()) return false;
  const auto& list = ops.value();
  return std::find(list.begin(), list.end(), node.op_type) != list.end();
}

std::unique_ptr<std::regex> QuantizeWeightsOptions::ExcludeRegex() const {
  if (exclude.value().empty()) return nullptr;
  return std::make_unique<std::regex>(exclude.value(), std::regex::ECMAScript);
}

std::unique_ptr<std::regex> QuantizeWeightsOptions::WeightsRegex() const {
  if (weights.value().empty()) return nullptr;
  return std::make_unique<std::regex>(weights.value(), std::regex::ECMAScript);
}

}  // namespace onnx_opt
