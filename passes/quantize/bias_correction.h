// The bias-correction stage of quantize-weights{bias-correction=true}.
//
// Rounding a weight W to Q shifts the mean of each output channel o of its node by
// sum_k (W[o,k] - Q[o,k]) mean(x)[k], x being the vectors the row multiplies (im2col patches for
// Conv, rows of the activation for MatMul/Gemm; calibration data gives their mean). Adding that
// shift to the node's bias removes the systematic part of the rounding error, which downstream
// normalisation-free layers (folded batch norm) would otherwise carry on.

#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/ir.h"

namespace onnx_opt {

struct BiasCorrection {
  bool applied = false;
  std::string why_not;  // set when not applied
  // The bias value the node read before (null when it had none). It is left in the graph, maybe
  // unused: the caller may still hold pointers to it (a list of weights being visited).
  Value* replaced = nullptr;
};

// Adds the correction to the bias of `node`, which reads the weight at input 1:
//   Conv:   input 2 (created when absent);
//   Gemm:   C, scaled by alpha / beta (created when absent);
//   MatMul: the constant [N] operand of the Add that is the MatMul output's only user.
// `quantized` holds the weight's row-major values after rounding; `mean` holds one mean input
// vector per Conv group (one for MatMul and Gemm) of the reduction length. A node whose bias is not
// a float32 constant is left alone (why_not says so).
absl::StatusOr<BiasCorrection> CorrectBias(Graph& graph, Node& node, const Tensor& weight,
                                           std::span<const float> quantized,
                                           const std::vector<std::vector<double>>& mean);

}  // namespace onnx_opt
