// Guards around libonnx 1.12 shape-inference functions that read out of bounds on inconsistent
// nodes instead of failing (found by the fold_constants fuzzer, docs/reliability.md).
#pragma once

namespace onnx_opt {

// Wraps the inference functions of the convolution and pooling schemas (every version) so that a
// node whose input ranks and spatial attributes disagree is left uninferred (its outputs stay
// unknown) instead of reaching libonnx's convPoolShapeInference, which indexes its attribute
// vectors by the weight's rank. Idempotent; call before any libonnx inference.
void InstallLibOnnxGuards();

}  // namespace onnx_opt
