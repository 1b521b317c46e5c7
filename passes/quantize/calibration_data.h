// Calibration data for data-aware rounding (GPTQ, gptq_rounding.h) in quantize-weights: per
// weight, the Hessians H = sum x x^T of the vectors its rows multiply (LayerHessians,
// hessian_accumulator.h), whatever file they come from.
//
// LoadCalibration is the one place calibration= is read. Two sources:
//   - a .calib file written by onnx-opt-calibrate (calib_file.h: Hessians measured by the tool,
//     checked against the model by weight name, shape and SHA-256): CalibFileData;
//   - the older .npy manifest the evaluation harness dumps, for calibration inputs, with the
//     activation each weight's node reads (Conv input 0, MatMul's non-constant input, Gemm's A):
//       {"format": "onnx-opt-calibration-1",
//        "values": {"<activation value name>": ["relative/path/a0.npy", ...], ...}}
//     (paths relative to the manifest's folder): ActivationManifest, which accumulates each
//     weight's H from them when the weight is quantized.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/quantize/calib_file.h"
#include "passes/quantize/hessian_accumulator.h"
#include "passes/quantize/weight.h"
#include "passes/quantize/weight_layout.h"

namespace onnx_opt {

class CalibrationData {
 public:
  virtual ~CalibrationData() = default;

  // Hessians of `weight` blocked with `geometry` for its `uses`, cached under `key`. nullopt
  // (with `why_not`) when a use is not modelled (ConvTranspose, constant MatMul A, batched B,
  // per-tensor granularity) or the source has no data for it; an error when the data cannot be
  // read or does not fit its node.
  absl::StatusOr<std::optional<LayerHessians>> HessiansFor(const WeightKey& key,
                                                           const Tensor& weight,
                                                           const BlockGeometry& geometry,
                                                           const std::vector<WeightUse>& uses,
                                                           std::string* why_not);

  // An error unless `model` holds the weights the data was measured on (.calib files).
  virtual absl::Status VerifyModel(Model& model) const { return absl::OkStatus(); }

  // Keep each weight's Hessians for a second request (default true).
  void set_cache(bool cache) { cache_enabled_ = cache; }

 protected:
  // The Hessians of a weight whose uses HessiansFor found modelled; `accumulator` is ready for
  // them (sources measured elsewhere ignore it).
  virtual absl::StatusOr<std::optional<LayerHessians>> Compute(const WeightKey& key,
                                                               const std::vector<WeightUse>& uses,
                                                               HessianAccumulator accumulator,
                                                               std::string* why_not) = 0;

 private:
  struct Cached {
    std::optional<LayerHessians> hessians;
    std::string why_not;
  };
  bool cache_enabled_ = true;
  absl::flat_hash_map<WeightKey, Cached> cache_;
};

// The .npy activation manifest (onnx-opt-calibration-1).
class ActivationManifest final : public CalibrationData {
 public:
  // Reads the manifest; every file it lists must exist. Errors name the manifest or the file.
  static absl::StatusOr<std::unique_ptr<ActivationManifest>> Load(const std::string& path);

 protected:
  absl::StatusOr<std::optional<LayerHessians>> Compute(const WeightKey& key,
                                                       const std::vector<WeightUse>& uses,
                                                       HessianAccumulator accumulator,
                                                       std::string* why_not) override;

 private:
  absl::flat_hash_map<std::string, std::vector<std::string>> files_;  // value -> .npy paths
};

// A .calib file (onnx-opt-calibrate).
class CalibFileData final : public CalibrationData {
 public:
  explicit CalibFileData(std::unique_ptr<CalibFile> file) : file_(std::move(file)) {}
  absl::Status VerifyModel(Model& model) const override { return file_->VerifyModel(model); }

 protected:
  absl::StatusOr<std::optional<LayerHessians>> Compute(const WeightKey& key,
                                                       const std::vector<WeightUse>& uses,
                                                       HessianAccumulator accumulator,
                                                       std::string* why_not) override;

 private:
  std::unique_ptr<CalibFile> file_;
};

// calibration=FILE as per-weight statistics, or null for an empty path (plain rounding). A
// .calib file or an activation manifest, by its first bytes. `cache`: keep each weight's
// Hessians for a second request (mixed precision measures, then quantizes).
absl::StatusOr<std::unique_ptr<CalibrationData>> LoadCalibration(const std::string& path,
                                                                 bool cache);

}  // namespace onnx_opt
