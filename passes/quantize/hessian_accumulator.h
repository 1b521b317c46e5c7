// Streaming accumulation of the GPTQ Hessians of one weight from the activations its nodes read.
//
// Per weight, H = sum x x^T over the vectors x its rows are multiplied with:
//   Conv:   im2col patches [C/g * k...] in the weight's flattened order (kernel_shape, strides,
//           pads / auto_pad, dilations), one H per group;
//   MatMul: the rows of the activation's last axis (constant B [K, N] only);
//   Gemm:   the rows of A (columns with transA).
// At most kMaxPositions positions per sample enter H (an evenly strided subset, scaled up to the
// full count), so large feature maps stay cheap. A weight shared by several nodes sums their H.
// Samples marked held-out also go into a separate H (gptq-validate measures on it).
//
// Both calibration sources use it: the .npy manifest (calibration_data.cc, sample by
// sample from files) and onnx-opt-calibrate's helper, which streams activations from ONNX Runtime
// and stores the result in a .calib file (calib_file.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ir/ir.h"
#include "passes/quantize/npy.h"
#include "passes/quantize/weight.h"
#include "quant/gptq.h"

namespace onnx_opt {

// A symmetric K x K matrix as its lower triangle, row by row (K (K + 1) / 2 values), in
// float32: how the accumulator sums H and the .calib file stores it. A quarter of a dense double
// matrix, so ISNet's 119 weights (K up to 9216) fit: each per-sample Gram matrix is a float32
// product already, and summing those in float32 changes GPTQ's result by less than ONNX Runtime's
// own kernel differences (docs/calibration.md).
struct PackedHessian {
  int64_t dim = 0;
  std::vector<float> lower;

  static PackedHessian Zero(int64_t dim) {
    return {dim, std::vector<float>(dim * (dim + 1) / 2, 0.0f)};
  }
  // The full matrix in double (GPTQ's working precision).
  quant::Hessian Unpack() const;
};

// The Hessians of one weight, as quant::QuantizeWeightGptq takes them.
struct LayerHessians {
  std::vector<quant::Hessian> hessians;
  std::vector<int32_t> row_hessian;  // per GPTQ row; empty when one Hessian serves every row
  int64_t samples = 0;               // activation samples read (per use)
  int64_t positions = 0;             // vectors x that entered H (per group), over all samples
  // Per Hessian: the mean of the vectors x (for bias correction, bias_correction.h).
  std::vector<std::vector<double>> input_means;
  // Per Hessian: the part of H from the held-out samples (gptq-validate fits on the rest and
  // measures on these); empty with fewer than 2 samples.
  std::vector<quant::Hessian> held_out;

  // Per Hessian: the part from the samples that are not held out (total - held_out).
  std::vector<quant::Hessian> Fitted() const;
};

// The same, packed (HessianAccumulator::FinishPacked, the .calib file's arrays).
struct PackedLayerHessians {
  std::vector<PackedHessian> hessians;  // total = fitted + held-out, per group
  std::vector<PackedHessian> held_out;  // per group; empty with fewer than 2 samples
  std::vector<int32_t> row_hessian;
  int64_t samples = 0;
  int64_t positions = 0;
  std::vector<std::vector<double>> input_means;

  LayerHessians Unpack() const;
};

class HessianAccumulator {
 public:
  // Positions (patches, rows) per sample that enter H at most.
  static constexpr int64_t kMaxPositions = 2048;

  // An accumulator for a weight of shape `weight_dims` read by `uses`; nullopt with `why_not`
  // when a use is not modelled (ConvTranspose, constant MatMul A, batched B) or the uses
  // disagree on the groups.
  static std::optional<HessianAccumulator> Create(const std::vector<int64_t>& weight_dims,
                                                  const std::vector<WeightUse>& uses,
                                                  std::string* why_not);

  // The reduction length K of each vector x.
  int64_t reduce() const { return reduce_; }
  int64_t groups() const { return groups_; }

  // Adds one sample of the activation `uses[use]` reads. `held_out` puts it into the held-out
  // part too. An error (naming `source`) when the activation does not fit the node.
  absl::Status Add(size_t use, const NpyArray& x, bool held_out, std::string_view source);

  // The Hessians (total = fitted + held-out), the mean inputs and the counts.
  LayerHessians Finish() && { return std::move(*this).FinishPacked().Unpack(); }
  PackedLayerHessians FinishPacked() &&;

 private:
  HessianAccumulator() = default;

  std::vector<int64_t> weight_dims_;
  std::vector<WeightUse> uses_;
  int64_t reduce_ = 0;
  int64_t groups_ = 1;
  int64_t held_out_samples_ = 0;
  // Allocated at the first sample (fitted_) and the first held-out sample (held_out_: one
  // sample needs half the memory).
  std::vector<PackedHessian> fitted_, held_out_;
  std::vector<std::vector<double>> sums_;
  std::vector<double> counts_;  // per group: all positions of every sample, sampled or not
  int64_t samples_ = 0, positions_ = 0;
};

}  // namespace onnx_opt
