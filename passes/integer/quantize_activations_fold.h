// Clean-ups of the QDQ graph quantize-activations writes, each returning how many rewrites
// it made:
// - a positive scalar Mul/Div, or an Add/Sub of a scalar, reading a per-tensor
//   DequantizeLinear becomes a DequantizeLinear of the same integers with the scale (or zero
//   point) changed, so no float op is left between the integer kernels;
// - DequantizeLinear -> QuantizeLinear with the same parameters is dropped (the values are
//   already on the grid), and a DequantizeLinear -> QuantizeLinear that follows a fold reads
//   the folded values directly;
// - Q/DQ nodes whose outputs nobody reads are removed (ORT would run them);
// - a Conv/ConvTranspose/Gemm left float with a per-tensor DequantizeLinear in front and a
//   QuantizeLinear behind would be quantized by ORT itself (WeightBiasQuantization: per-tensor
//   int8 weights over the full 8 bits, which saturate on AVX2): its bias (a zero one when it
//   has none) becomes int32 behind a DequantizeLinear, which ORT's rule skips, at the cost of
//   dequantizing C values per run.
#pragma once

#include <cstdint>

#include "ir/ir.h"

namespace onnx_opt {

int64_t FoldScalarAffines(Graph& graph);
int64_t RemoveRequantizePairs(Graph& graph);
int64_t RemoveDeadQdq(Graph& graph);
int64_t ShieldFloatWeightedNodes(Graph& graph);

}  // namespace onnx_opt
