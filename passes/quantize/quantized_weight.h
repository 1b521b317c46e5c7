// A weight quantized blockwise (the result of the rounding stage of quantize-weights, the input
// of the emitters in emitters.h), and plain rounding through the quant/ kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/quantize/weight_layout.h"
#include "quant/matmul_nbits.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt {

// The graph forms a quantized weight is written in (emitters.h).
enum class QuantFormat { kQdq, kQdqAxis, kArith, kMatMulNBits, kPostScale };

struct QuantSpec {
  int bits = 4;
  bool is_signed = true;
  bool symmetric = true;
  quant::ScaleSearch search = quant::ScaleSearch::kMinMax;
};

// One weight quantized blockwise along its reduction axis.
struct QuantizedWeight {
  std::vector<int64_t> dims;  // of the original weight
  WeightRole role;
  Granularity granularity = Granularity::kBlock;
  BlockGeometry geometry;
  DataType float_type = DataType::kFloat;  // of the weight, its scales and the dequantized value
  QuantSpec spec;
  // Codes in view order [outer, reduce, inner] (= the weight's row-major order), scales and zero
  // points [outer, num_blocks, inner]; see quant/weight_quantizer.h.
  quant::QuantizedWeight q;
};

// Bytes of the initializers holding a quantized weight: codes, scales (in the weight's float
// type) and zero points; shape constants some forms add are not counted.
int64_t PayloadBytes(const QuantizedWeight& weight);

// What quantizing `weight` with a geometry and spec starts from: the result with every field but
// `q` filled in, and the kernels' layout and options (scales and error in the weight's type).
struct QuantizeRequest {
  QuantizedWeight result;
  quant::BlockLayout layout;
  quant::WeightQuantOptions options;
};
QuantizeRequest PrepareQuantize(const Tensor& weight, const WeightRole& role,
                                Granularity granularity, const BlockGeometry& geometry,
                                const QuantSpec& spec);

// Quantizes `weight` (float, float16 or bfloat16) with the given geometry. q.stats measure the
// error after rounding the dequantized values to the weight's type, as the runtime computes them.
absl::StatusOr<QuantizedWeight> QuantizeWeight(const Tensor& weight, const WeightRole& role,
                                               Granularity granularity,
                                               const BlockGeometry& geometry,
                                               const QuantSpec& spec);
// The values DequantizeLinear produces, in row-major order, as float (rounded to float_type).
std::vector<float> DequantizedValues(const QuantizedWeight& weight);

// Integer element type for bits/signedness (int4, uint4, int8, ...).
DataType QuantizedType(const QuantSpec& spec);

// A [K, N] MatMul weight quantized along K for com.microsoft.MatMulNBits (quant/matmul_nbits.h).
// Codes are unsigned around 2^(bits-1) whatever `signed` says; symmetric omits zero points.
struct NBitsWeight {
  quant::MatMulNBitsWeight packed;
  DataType float_type = DataType::kFloat;
};
absl::StatusOr<NBitsWeight> QuantizeForMatMulNBits(const Tensor& weight, const QuantSpec& spec,
                                                   int64_t block);
// The values MatMulNBits computes with, [K, N] row-major, as float.
std::vector<float> DequantizedValues(const NBitsWeight& weight);
int64_t PayloadBytes(const NBitsWeight& weight);

// The kernels' element type of a weight's float type (float32, float16, bfloat16).
quant::FloatType KernelFloatType(DataType type);

}  // namespace onnx_opt
