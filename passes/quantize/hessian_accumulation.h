// Hessians of calibration activations for GPTQ: H = sum x x^T over the vectors x a weight's rows
// multiply (im2col patches for Conv, rows for MatMul/Gemm), with the sum of x for the mean.
// At most kMaxHessianPositions positions per sample enter H (an evenly strided subset, scaled up
// to the full count), so large feature maps stay cheap.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/quantize/npy.h"
#include "quant/gptq.h"

namespace onnx_opt {

// Positions (patches, rows) per sample that enter H at most.
inline constexpr int64_t kMaxHessianPositions = 2048;

using FloatMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The running sums of one Hessian's data: H, the sum of the vectors x and their count (each
// sampled vector stands for `scale` vectors).
struct InputAccumulator {
  quant::Hessian* hessian;
  std::vector<double>* sums;
  double* count;

  // Adds the rows of `x` (positions x K), each standing for `scale` vectors.
  void Add(const FloatMatrix& x, double scale) const;
};

// Convolution parameters of a Conv node for a weight [M, C/g, k...] and an input [N, C, d...].
struct ConvParams {
  int64_t group = 1;
  std::vector<int64_t> kernel, strides, dilations, pad_begin, out;
};

// The parameters of Conv `node` for a weight of dims `w` and an input of dims `x`.
absl::StatusOr<ConvParams> ConvParamsOf(const Node& node, const std::vector<int64_t>& w,
                                        const std::vector<int64_t>& x);

// Adds one sample's im2col patches to the per-group accumulators.
// Returns the number of positions added (per group).
int64_t AccumulateConv(const NpyArray& x, const ConvParams& p, int64_t channels_per_group,
                       const std::vector<InputAccumulator>& groups);

// Adds the rows of a [P, K] view (or its columns when `transposed`, a [K, P] view).
int64_t AccumulateRows(const NpyArray& x, int64_t k, bool transposed,
                       const InputAccumulator& accumulator);

}  // namespace onnx_opt
