#include "passes/quantize/rounding.h"

#include <utility>

#include "passes/quantize/calibration_data.h"
#include "passes/quantize/gptq_rounding.h"

namespace onnx_opt {

absl::StatusOr<QuantizedWeight> PlainRounding::Round(const SelectedWeight& weight,
                                                     const BlockGeometry& geometry,
                                                     const QuantSpec& spec,
                                                     RoundingOutcome* outcome) {
  *outcome = RoundingOutcome{};
  absl::StatusOr<QuantizedWeight> q =
      QuantizeWeight(*weight.tensor, *weight.uses.role, granularity_, geometry, spec);
  if (!q.ok()) return absl::OutOfRangeError(q.status().message());
  return q;
}

absl::StatusOr<std::unique_ptr<RoundingStrategy>> MakeRounding(
    const QuantizeWeightsOptions& options, Model& model) {
  if (options.calibration.value().empty()) {
    return std::make_unique<PlainRounding>(options.granularity());
  }
  // Mixed precision measures every weight, then quantizes it: keep its Hessians in between.
  absl::StatusOr<std::unique_ptr<CalibrationData>> data =
      LoadCalibration(options.calibration.value(), /*cache=*/options.mixed_precision());
  if (!data.ok()) return data.status();
  if (absl::Status s = (*data)->VerifyModel(model); !s.ok()) return s;
  return std::make_unique<GptqRounding>(*std::move(data), options.granularity(), options.gptq());
}

absl::StatusOr<std::optional<RoundedWeight>> RoundWeight(const SelectedWeight& weight,
                                                         const BlockGeometry& geometry,
                                                         const QuantSpec& spec,
                                                         RoundingStrategy& strategy) {
  RoundedWeight out;
  if (!weight.uses.nbits.empty()) {
    absl::StatusOr<NBitsWeight> q = QuantizeForMatMulNBits(*weight.tensor, spec, geometry.block);
    if (!q.ok()) return std::nullopt;
    out.nbits = *std::move(q);
  }
  out.rounding.fallback_reason = "format=matmul-nbits packs with plain rounding";
  if (!weight.uses.generic.empty()) {
    absl::StatusOr<QuantizedWeight> q = strategy.Round(weight, geometry, spec, &out.rounding);
    if (absl::IsOutOfRange(q.status())) return std::nullopt;
    if (!q.ok()) return q.status();
    out.generic = *std::move(q);
  }
  return out;
}

}  // namespace onnx_opt
