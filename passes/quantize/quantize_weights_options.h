// Options of quantize-weights: declaration and typed accessors (quantize_weights_options.cc),
// validation of combinations and of the opset (quantize_weights_validate.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "passes/core/pass.h"
#include "passes/quantize/quantized_weight.h"
#include "passes/quantize/weight_layout.h"
#include "quant/gptq.h"

namespace onnx_opt {

class QuantizeWeightsOptions {
 public:
  explicit QuantizeWeightsOptions(Pass* pass);

  // Rejects impossible combinations with one line naming the options involved.
  absl::Status Validate() const;
  // runtime=opencv-*: rejects what that OpenCV cannot load (part of Validate).
  absl::Status ValidateRuntime() const;
  // Rejects a model whose default opset cannot express the chosen format.
  absl::Status CheckOpset(int64_t opset) const;
  // True when the emitted nodes use opset-21 DequantizeLinear or int4 types (IR version 10).
  bool UsesOpset21Types(int64_t opset) const;

  QuantFormat format() const;
  // bits, or 8 when a runtime=opencv-* run leaves it unset.
  int64_t Bits() const;
  bool ForOpenCv() const { return runtime.value() != "ort"; }
  Granularity granularity() const;
  RaggedPolicy ragged() const;
  QuantSpec spec() const;
  // True when target-size or max-error asks for a per-weight choice of precision.
  bool mixed_precision() const;
  // Weights with fewer elements stay float: min-elements, except that with target-size (of the
  // file), no min-elements and no sensitivity file every weight is a candidate.
  int64_t MinElements() const;
  // The precisions mixed precision chooses among, cheapest first: bits, 8 (when bits < 8), and
  // 0 for keeping the float weight.
  std::vector<int> MixedLevels() const;
  // Block size for a mixed-precision level: int8-block-size for promoted int8, else block-size.
  int64_t BlockSizeFor(int level_bits) const;
  bool HandlesOp(const Node& node) const;
  // GPTQ settings (calibration=) from gptq-damp and gptq-act-order.
  quant::GptqOptions gptq() const;
  // Compiled `exclude` / `weights` (null when empty); Validate has checked they compile.
  std::unique_ptr<std::regex> ExcludeRegex() const;
  std::unique_ptr<std::regex> WeightsRegex() const;

  PassOption<int64_t> bits;
  PassOption<bool> is_signed;
  PassOption<bool> symmetric;
  PassOption<std::string> granularity_text;
  PassOption<int64_t> block_size;
  PassOption<std::string> ragged_text;
  PassOption<int64_t> min_elements;
  PassOption<std::vector<std::string>> ops;
  PassOption<std::string> exclude;
  PassOption<std::string> weights;
  PassOption<std::string> format_text;
  // The runtime the model is for: OpenCV changes the defaults (bits=8, ragged=divisor) and
  // refuses what it cannot load (int4, int16, short last blocks, MatMulNBits; 4.6 any form here).
  PassOption<std::string> runtime;
  PassOption<std::string> report;
  PassOption<std::string> scale_search_text;
  PassOption<double> target_size;
  // "file" (default): target-size is the whole model's; "weights": only the candidates' float
  // bytes, the meaning before (the evaluation configs keep it so their figures stay comparable).
  PassOption<std::string> target_size_of;
  PassOption<double> max_error;
  PassOption<int64_t> int8_block_size;
  PassOption<std::string> sensitivity;
  PassOption<std::string> calibration;
  PassOption<double> gptq_damp;
  PassOption<bool> gptq_act_order;
  PassOption<double> gptq_shrink;
  PassOption<bool> gptq_validate;
  PassOption<bool> bias_correction;
};

}  // namespace onnx_opt
