#include "passes/quantize/quantize_weights_stats.h"

namespace onnx_opt {

QuantizeWeightsStatistics::QuantizeWeightsStatistics(Pass* pass)
    : quantized{pass, "weights-quantized", "Weights stored quantized"},
      skipped_small{pass, "skipped-small", "Weights below min-elements"},
      skipped_not_float{pass, "skipped-not-float", "Weights not float32, float16 or bfloat16"},
      skipped_not_finite{pass, "skipped-not-finite", "Weights holding NaN or infinity"},
      skipped_ragged{pass, "skipped-ragged",
                     "Weights whose reduction axis the ragged policy rejects"},
      skipped_excluded{pass, "skipped-excluded", "Uses by nodes matching exclude"},
      skipped_quantized{pass, "skipped-already-quantized",
                        "Weight inputs already fed by DequantizeLinear"},
      skipped_format{pass, "skipped-format", "Uses the chosen format cannot express at this opset"},
      skipped_layout{pass, "skipped-layout-conflict",
                     "Uses of a shared weight needing another reduction axis"},
      bytes_before{pass, "bytes-before", "Bytes of the weights quantized"},
      bytes_after{pass, "bytes-after", "Bytes of their quantized replacements"},
      mixed_lowest{pass, "mixed-lowest", "Mixed precision: weights left at the configured bits"},
      mixed_int8{pass, "mixed-promoted-int8", "Mixed precision: weights promoted to int8"},
      mixed_float{pass, "mixed-kept-float", "Mixed precision: weights kept float"},
      gptq{pass, "gptq-weights", "calibration=: weights rounded with GPTQ"},
      gptq_fallback{pass, "gptq-fallback-rtn",
                    "calibration=: weights plainly rounded (no data, op unsupported)"},
      bias_corrected{pass, "bias-corrected", "bias-correction: biases corrected"},
      bias_skipped{pass, "bias-correction-skipped",
                   "bias-correction: weights without data, shared, or no float bias"} {}

void QuantizeWeightsStatistics::CountSelection(const WeightSelection& selection) {
  skipped_excluded += selection.excluded;
  skipped_layout += selection.layout_conflict;
  skipped_format += selection.format_refused;
  switch (selection.skip) {
    case WeightSkip::kNotFloat:
      ++skipped_not_float;
      break;
    case WeightSkip::kSmall:
      ++skipped_small;
      break;
    case WeightSkip::kRagged:
      ++skipped_ragged;
      break;
    case WeightSkip::kNone:
      break;
  }
}

void QuantizeWeightsStatistics::CountQuantized(int64_t before, int64_t after, bool data_aware,
                                               const RoundingOutcome& rounding) {
  ++quantized;
  bytes_before += before;
  bytes_after += after;
  if (data_aware) ++(rounding.gptq ? gptq : gptq_fallback);
}

}  // namespace onnx_opt
