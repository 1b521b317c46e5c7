// The statistics of quantize-weights (what `--stats` prints for it), declared in one place, and
// how each stage's result counts: the selection's skips, a quantized weight, a weight mixed
// precision keeps float, a bias correction.
#pragma once

#include <cstdint>

#include "passes/core/pass.h"
#include "passes/quantize/rounding.h"
#include "passes/quantize/select_uses.h"

namespace onnx_opt {

struct QuantizeWeightsStatistics {
  // Registers every counter with `pass`, in the order `--stats` lists them.
  explicit QuantizeWeightsStatistics(Pass* pass);

  // select: the uses refused and why the weight itself was not selected.
  void CountSelection(const WeightSelection& selection);
  // A weight stored quantized: `bytes_before` its float tensor, `bytes_after` its replacement;
  // with data-aware rounding, whether GPTQ or plain rounding produced it.
  void CountQuantized(int64_t bytes_before, int64_t bytes_after, bool data_aware,
                      const RoundingOutcome& rounding);

  PassStatistic quantized;
  PassStatistic skipped_small;
  PassStatistic skipped_not_float;
  PassStatistic skipped_not_finite;
  PassStatistic skipped_ragged;
  PassStatistic skipped_excluded;
  PassStatistic skipped_quantized;
  PassStatistic skipped_format;
  PassStatistic skipped_layout;
  PassStatistic bytes_before;
  PassStatistic bytes_after;
  PassStatistic mixed_lowest;
  PassStatistic mixed_int8;
  PassStatistic mixed_float;
  PassStatistic gptq;
  PassStatistic gptq_fallback;
  PassStatistic bias_corrected;
  PassStatistic bias_skipped;
};

}  // namespace onnx_opt
