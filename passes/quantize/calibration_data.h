// Calibration data for data-aware rounding (GPTQ, gptq_rounding.h) in quantize-weights.
//
// The evaluation harness dumps, for calibration inputs, the activation each weight's node reads
// (Conv input 0, MatMul's non-constant input, Gemm's A) as .npy files listed in a manifest:
//   {"format": "onnx-opt-calibration-1",
//    "values": {"<activation value name>": ["relative/path/a0.npy", ...], ...}}
// (paths relative to the manifest's folder). From them this file accumulates, per weight, the
// Hessian H = sum x x^T of the vectors x the weight's rows are multiplied with:
//   Conv:   im2col patches [C/g * k...] in the weight's flattened order (kernel_shape, strides,
//           pads / auto_pad, dilations), one H per group;
//   MatMul: the rows of the activation's last axis (constant B [K, N] only);
//   Gemm:   the rows of A (columns with transA).
// (hessian_accumulation.h). A weight shared by several nodes sums their H.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/quantize/weight.h"
#include "passes/quantize/weight_layout.h"
#include "quant/gptq.h"

namespace onnx_opt {

// The Hessians of one weight, as quant::QuantizeWeightGptq takes them.
struct LayerHessians {
  std::vector<quant::Hessian> hessians;
  std::vector<int32_t> row_hessian;  // per GPTQ row; empty when one Hessian serves every row
  int64_t samples = 0;               // activation files read
  int64_t positions = 0;             // vectors x that entered H (per group), over all samples
  // Per Hessian: the mean of the vectors x (for bias correction, quantize_weights_bias.h).
  std::vector<std::vector<double>> input_means;
  // Per Hessian: the part of H from the odd-numbered samples (gptq-validate fits on the rest and
  // measures on these); empty with fewer than 2 samples.
  std::vector<quant::Hessian> held_out;
};

// Per-weight statistics of calibration data, whatever file they come from. Subclasses compute
// them (Compute); HessiansFor caches them per weight.
class CalibrationData {
 public:
  virtual ~CalibrationData() = default;

  // Hessians of `weight` blocked with `geometry` for its `uses`, cached under `key`. nullopt
  // (with `why_not`) when a use is not modelled (ConvTranspose, constant MatMul A, batched B,
  // per-tensor granularity) or has no data; an error when the data cannot be read or does not
  // fit its node.
  absl::StatusOr<std::optional<LayerHessians>> HessiansFor(const WeightKey& key,
                                                           const Tensor& weight,
                                                           const BlockGeometry& geometry,
                                                           const std::vector<WeightUse>& uses,
                                                           std::string* why_not);

  // Keep each weight's Hessians for a second request (default true).
  void set_cache(bool cache) { cache_enabled_ = cache; }

 protected:
  virtual absl::StatusOr<std::optional<LayerHessians>> Compute(const Tensor& weight,
                                                               const BlockGeometry& geometry,
                                                               const std::vector<WeightUse>& uses,
                                                               std::string* why_not) = 0;

 private:
  struct Cached {
    std::optional<LayerHessians> hessians;
    std::string why_not;
  };
  bool cache_enabled_ = true;
  absl::flat_hash_map<WeightKey, Cached> cache_;
};

// The activation manifest eval/activations.js writes (onnx-opt-calibration-1): one .npy per
// activation value and run; the Hessians are accumulated from them on request.
class ActivationManifest final : public CalibrationData {
 public:
  // Reads the manifest; every file it lists must exist. Errors name the manifest or the file.
  static absl::StatusOr<std::unique_ptr<ActivationManifest>> Load(const std::string& path);

 protected:
  absl::StatusOr<std::optional<LayerHessians>> Compute(const Tensor& weight,
                                                       const BlockGeometry& geometry,
                                                       const std::vector<WeightUse>& uses,
                                                       std::string* why_not) override;

 private:
  std::string path_;
  absl::flat_hash_map<std::string, std::vector<std::string>> files_;  // value -> .npy paths
};

// The one place calibration= is read: the file at `path` as per-weight statistics (today the
// activation manifest). `cache`: keep each weight's Hessians for a second request (mixed
// precision measures, then quantizes).
absl::StatusOr<std::unique_ptr<CalibrationData>> LoadCalibration(const std::string& path,
                                                                 bool cache);

}  // namespace onnx_opt
