// The round stage of quantize-weights: one strategy type per rounding algorithm. PlainRounding
// rounds each weight to the nearest code of its block scales; GptqRounding (gptq_rounding.h)
// rounds with the calibration data's Hessians. MakeRounding picks one from the options; the
// pass never asks whether calibration data exists.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "passes/quantize/quantize_weights_options.h"
#include "passes/quantize/quantized_weight.h"
#include "passes/quantize/select_uses.h"

namespace onnx_opt {

// How a weight was rounded, for the report and the statistics.
struct RoundingOutcome {
  bool gptq = false;
  std::string fallback_reason;  // why plain rounding was used (empty with gptq)
  // Relative output-error proxy sqrt(dW H dW^T / W H W^T) of the GPTQ and plain rounding.
  double proxy_error = 0;
  double proxy_error_rtn = 0;
  // The mean input vector per Hessian (LayerHessians::input_means) when calibration data exists.
  std::vector<std::vector<double>> input_means;
};

class RoundingStrategy {
 public:
  virtual ~RoundingStrategy() = default;

  // True for strategies that use data: their outcome goes into the report and the gptq-weights /
  // gptq-fallback-rtn statistics.
  virtual bool data_aware() const = 0;

  // Rounds `weight` for its generic-format uses with `geometry` and `spec`. A weight the kernels
  // reject (NaN, infinity) gives kOutOfRange; other errors are calibration data errors.
  virtual absl::StatusOr<QuantizedWeight> Round(const SelectedWeight& weight,
                                                const BlockGeometry& geometry,
                                                const QuantSpec& spec,
                                                RoundingOutcome* outcome) = 0;
};

class PlainRounding final : public RoundingStrategy {
 public:
  explicit PlainRounding(Granularity granularity) : granularity_(granularity) {}
  bool data_aware() const override { return false; }
  absl::StatusOr<QuantizedWeight> Round(const SelectedWeight& weight, const BlockGeometry& geometry,
                                        const QuantSpec& spec, RoundingOutcome* outcome) override;

 private:
  Granularity granularity_;
};

// GPTQ with the data of calibration= when given (loaded here, once per run, and checked against
// `model`), else plain rounding.
absl::StatusOr<std::unique_ptr<RoundingStrategy>> MakeRounding(
    const QuantizeWeightsOptions& options, Model& model);

// A weight rounded for every form its uses need: packed for MatMulNBits and/or rounded by the
// strategy for the generic format.
struct RoundedWeight {
  std::optional<NBitsWeight> nbits;
  std::optional<QuantizedWeight> generic;
  RoundingOutcome rounding;
};

// Rounds `weight` at `spec` with `geometry`; nullopt when the kernels reject it (NaN, infinity),
// an error for bad calibration data.
absl::StatusOr<std::optional<RoundedWeight>> RoundWeight(const SelectedWeight& weight,
                                                         const BlockGeometry& geometry,
                                                         const QuantSpec& spec,
                                                         RoundingStrategy& strategy);

}  // namespace onnx_opt
