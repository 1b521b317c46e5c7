// What a run did, told to the user: a model's op counts and weight bytes, the one-line warning
// for a quantizing pass that quantized nothing or far less than the model holds, and the closing
// before/after table of `onnx-opt ... -o out` (also returned by the library's Optimize()).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <vector>

#include "ir/ir.h"
#include "passes/core/pass.h"
#include "passes/core/pass_manager.h"

namespace onnx_opt {

struct ModelSummary {
  std::map<std::string, int64_t> op_counts;  // "Conv", "com.microsoft.MatMulNBits", ...
  int64_t nodes = 0;                          // every graph, subgraphs and functions included
  // float32/float16/bfloat16 constants of rank >= 2 that MatMul, Gemm, Conv or ConvTranspose
  // read directly (biases are rank 1).
  int64_t float_weights = 0;
  int64_t float_weight_bytes = 0;
  // Weights stored quantized: constant-fed DequantizeLinear and MatMulNBits nodes.
  int64_t quantized_weights = 0;
};

ModelSummary SummarizeModel(const Model& model);

// For a pass counting "weights-quantized" (quantize-weights): a warning line, without prefix,
// when it quantized nothing, quantized under half of the float weight bytes `before` held
// (unless exclude=/weights=/mixed precision chose that), or was given calibration= and used it
// for no weight. Names the reason counts (non-zero "skipped-*" statistics) and a likely cause.
std::optional<std::string> QuantizationWarning(const Pass& pass, const ModelSummary& before);

// Chains before/after-pass hooks onto `options` that append QuantizationWarning lines of the
// passes run to `*warnings` (which must outlive the pass manager).
void CollectQuantizationWarnings(PassManagerOptions& options, std::vector<std::string>* warnings);

// onnxsim-style table: file size (omitted when a size is < 0), nodes, weights quantized and
// every op whose count changed.
std::string SummaryTable(const ModelSummary& before, const ModelSummary& after,
                         int64_t file_bytes_before, int64_t file_bytes_after);

// "1.5 MB", "812 kB", "93 B" (decimal units, as ls -h --si and onnxsim print them).
std::string HumanBytes(int64_t bytes);

}  // namespace onnx_opt
