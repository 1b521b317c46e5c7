// The scale maths of quantize-activations: activation ranges chosen from a .calib histogram
// (min/max, percentile, entropy, mean squared error), the uint8/int8 parameters of a range,
// symmetric per-channel weights and int32 biases, and the SQNR a range gives a histogram.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "passes/quantize/calib_file.h"

namespace onnx_opt {

enum class RangeMethod { kMinMax, kPercentile, kEntropy, kMse };

// "minmax", "percentile", "entropy", "mse"; nullopt for anything else.
std::optional<RangeMethod> ParseRangeMethod(std::string_view text);

struct FloatRange {
  double lo = 0;
  double hi = 0;
};

// The range of `stats` that `method` keeps. percentile: the values between the (100 - p) and
// p percentiles of the histogram; entropy: the clipping that minimises the KL divergence
// between the histogram and its quantized copy (TensorRT's method, on both sides of zero);
// mse: the clipping that minimises the expected squared error (rounding inside, clipping
// outside, for the uint8 or int8 grid `is_signed` names). Every method returns a range inside
// [min(min, 0), max(max, 0)].
FloatRange ChooseRange(const CalibTensorStats& stats, RangeMethod method, double percentile,
                       bool is_signed);

// Per-tensor parameters: value = (q - zero_point) * scale.
struct QuantParams {
  float scale = 1;
  int32_t zero_point = 0;
  bool is_signed = false;  // int8 (symmetric, zero point 0) or uint8 (asymmetric)
};

// uint8 asymmetric over [min(lo, 0), max(hi, 0)] (zero exactly representable), or int8
// symmetric over [-a, a] with a = max(|lo|, |hi|). A zero-width range gets scale 1.
QuantParams ActivationParams(FloatRange range, bool is_signed);

// The range a QuantParams represents exactly: [(qmin - zp) * s, (qmax - zp) * s].
FloatRange RepresentedRange(const QuantParams& params);

// Weights quantized symmetrically per slice along `axis` to integers in [-qmax, qmax] with
// qmax = 2^(bits-1) - 1; `zero_point` is added to every value (0 for int8, 128 for uint8).
struct ChannelQuantized {
  std::vector<float> scales;    // one per slice
  std::vector<int32_t> values;  // same layout as the weights, zero point included
};
ChannelQuantized QuantizePerChannel(const std::vector<float>& weights,
                                    const std::vector<int64_t>& dims, int64_t axis, int bits,
                                    int32_t zero_point);

// Bias values as int32 with scale input_scale * weight_scales[c] (zero point 0), saturated.
std::vector<int32_t> QuantizeBias(const std::vector<float>& bias, float input_scale,
                                  const std::vector<float>& weight_scales);

// Expected signal-to-quantization-noise ratio (dB) of the histogram's values quantized with
// `params` (rounding error inside the range, clipping error outside). Infinity when the
// histogram is empty or the noise is zero.
double HistogramSqnrDb(const CalibTensorStats& stats, const QuantParams& params);

}  // namespace onnx_opt
