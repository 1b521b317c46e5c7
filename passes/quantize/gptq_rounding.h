// GPTQ rounding (quant/gptq.h) for quantize-weights{calibration=FILE}: each weight rounded with
// the Hessians of the calibration data (calibration_data.h), plain rounding where there are
// none (the outcome says why).
#pragma once

#include <memory>

#include "passes/quantize/calibration_data.h"
#include "passes/quantize/rounding.h"
#include "quant/gptq.h"

namespace onnx_opt {

class GptqRounding final : public RoundingStrategy {
 public:
  GptqRounding(std::unique_ptr<CalibrationData> data, Granularity granularity,
               const quant::GptqOptions& gptq)
      : data_(std::move(data)), granularity_(granularity), gptq_(gptq) {}

  bool data_aware() const override { return true; }
  // GPTQ when the calibration data has Hessians for the weight, else plain rounding.
  absl::StatusOr<QuantizedWeight> Round(const SelectedWeight& weight, const BlockGeometry& geometry,
                                        const QuantSpec& spec, RoundingOutcome* outcome) override;

 private:
  std::unique_ptr<CalibrationData> data_;
  Granularity granularity_;
  quant::GptqOptions gptq_;
};

}  // namespace onnx_opt
