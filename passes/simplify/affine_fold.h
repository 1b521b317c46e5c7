// The arithmetic of fuse-affine: how a per-channel affine map y*s + t after, or x*a + b before, a
// weighted operator changes its weight and bias. Pure functions over float32 vectors, so the
// tests check them without a graph.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace onnx_opt::simplify {

// The weighted operators fuse-affine folds into, with the layout of their weight.
enum class WeightedOp {
  kConv,             // W [M, C/group, k...]
  kConvTranspose,    // W [C, M/group, k...]
  kGemmB,            // B [K, N] (transB=0, and MatMul's right operand)
  kGemmBTransposed,  // B [N, K] (transB=1)
};

struct WeightLayout {
  WeightedOp op;
  std::vector<int64_t> dims;
  int64_t group = 1;
  // Output channels (M, or N for Gemm/MatMul) and input channels (C, or K).
  int64_t out_channels() const;
  int64_t in_channels() const;
  // False for dims that do not fit the op (wrong rank, group not dividing the channels).
  bool valid() const;
};

// W' with output channel o multiplied by scale[o] (scale has out_channels() entries).
std::vector<float> ScaleOutputChannels(const WeightLayout& layout, const std::vector<float>& w,
                                       const std::vector<float>& scale);
// W' with input channel c multiplied by scale[c] (scale has in_channels() entries). Not for
// kConvTranspose.
std::vector<float> ScaleInputChannels(const WeightLayout& layout, const std::vector<float>& w,
                                      const std::vector<float>& scale);
// The per-output-channel bias that a per-input-channel shift adds: for Conv without padding,
// sum over the input channels and kernel positions of W[o, c, k] * shift[c]; for Gemm/MatMul,
// shift @ B.
std::vector<float> BiasOfInputShift(const WeightLayout& layout, const std::vector<float>& w,
                                    const std::vector<float>& shift);

}  // namespace onnx_opt::simplify
