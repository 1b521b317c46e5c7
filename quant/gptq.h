// Data-aware rounding of a weight (GPTQ, Frantar et al. 2022): error-compensating rounding that
// minimises the layer's output error on calibration inputs instead of the weight error.
//
// The weight is seen as rows x K (K = the blocked axis of its BlockLayout, rows = every
// (outer, inner) pair). A row w feeds dot products <w, x> with activation vectors x; with
// H = sum over calibration positions of x x^T (K x K), the output error of a rounded row w + dw
// is dw H dw^T. Columns are rounded in order; the rounding error of column i is spread over the
// columns not yet rounded so that it cancels in the output as far as H allows:
//   Hinv = upper Cholesky factor U of (H + damp * mean(diag H) * I)^-1 (U^T U = inverse)
//   err = (w_i - dq(w_i)) / U[i, i];   w_j -= err * U[i, j]  for j > i
// At the first column of each quantization block the row's scale and zero point are chosen from
// the block's current (error-updated) weights with the configured scale search, exactly as
// QuantizeWeight chooses them. The result has QuantizeWeight's layout and formats, so every graph
// form of the quantize-weights pass writes it unchanged, and DequantizeWeight reproduces it.
//
// Deterministic: rows are processed in fixed chunks whose results do not depend on the number of
// threads.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "quant/types.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant {

// A symmetric K x K matrix (row-major), e.g. sum x x^T of a layer's inputs.
struct Hessian {
  int64_t dim = 0;
  std::vector<double> values;  // dim * dim

  static Hessian Zero(int64_t dim) { return {dim, std::vector<double>(dim * dim, 0.0)}; }
  double at(int64_t i, int64_t j) const { return values[i * dim + j]; }
};

struct GptqOptions {
  // Added to the diagonal: damp * mean(diag H). Dead inputs (zero diagonal) get 1 instead.
  double damp = 0.01;
  // Act-order: round the columns in order of decreasing H diagonal (most input energy first)
  // instead of in index order. Block scales and zero points are then chosen up front from the
  // original weights (static groups), since a block's columns are no longer rounded together.
  bool act_order = false;
  // Callers estimating H from few vectors add shrink * K / vectors to `damp` (the quantize-weights
  // calibration code does); the kernel itself only uses `damp`.
  double shrink = 0;
  // Also caller-level: check GPTQ against plain rounding on held-out calibration samples.
  bool validate = false;
};

// `gptq` with shrink * k / vectors added to its damp, for an H estimated from `vectors` vectors
// of length k (unchanged when vectors is 0).
GptqOptions ShrinkDamped(GptqOptions gptq, int64_t k, int64_t vectors);

struct GptqResult {
  QuantizedWeight weight;  // stats: weight-space error of the GPTQ rounding
  // Output-error proxy sum over rows of dW H dW^T (H undamped) and the signal W H W^T, for the
  // GPTQ result and for plain rounding (QuantizeWeight with the same options).
  double proxy_error_gptq = 0;
  double proxy_error_rtn = 0;
  double proxy_signal = 0;
  ErrorStats rtn_stats;

  // sqrt(proxy error / proxy signal): relative output error of the layer on calibration data.
  double RelativeProxyError() const;
  double RelativeProxyErrorRtn() const;
};

// Rows of a layout in GPTQ order: row r = o * inner + i holds elements (o, 0..K-1, i).
inline int64_t GptqRows(const BlockLayout& layout) { return layout.outer * layout.inner; }

// Quantizes the raw_data bytes of a float32/float16/bfloat16 weight (layout.num_elements()
// values, row-major) with GPTQ. `hessians` are K x K (K = layout.axis_dim); `row_hessian` maps
// every row (GptqRows) to one of them, or is empty when there is exactly one. Fails on a size
// mismatch, a bad map, or a NaN/infinite weight or Hessian.
absl::StatusOr<GptqResult> QuantizeWeightGptq(FloatType type, absl::Span<const uint8_t> bytes,
                                              const BlockLayout& layout,
                                              const WeightQuantOptions& options,
                                              absl::Span<const Hessian> hessians,
                                              absl::Span<const int32_t> row_hessian,
                                              const GptqOptions& gptq = {});

// The same for float32 values.
absl::StatusOr<GptqResult> QuantizeWeightGptq(absl::Span<const float> weight,
                                              const BlockLayout& layout,
                                              const WeightQuantOptions& options,
                                              absl::Span<const Hessian> hessians,
                                              absl::Span<const int32_t> row_hessian,
                                              const GptqOptions& gptq = {});

// GPTQ onto a grid the caller chose: one block per row (layout.block_size >= axis_dim), row r
// (GptqRows order) has scale row_scales[r], zero point 0 and codes in [-max_code, max_code]
// (max_code <= 127). For quantize-activations' per-channel weights, whose range (7 bits on
// AVX2 without VNNI) no QType expresses. Returns the codes in layout order, without zero point
// (ProxyError measures the result).
absl::StatusOr<std::vector<int32_t>> RoundToRowGridGptq(
    absl::Span<const float> weight, const BlockLayout& layout, absl::Span<const float> row_scales,
    int32_t max_code, absl::Span<const Hessian> hessians, absl::Span<const int32_t> row_hessian,
    const GptqOptions& gptq = {});

// sum over rows of d H d^T for a difference d (layout order) and per-row Hessians.
double ProxyError(absl::Span<const float> difference, const BlockLayout& layout,
                  absl::Span<const Hessian> hessians, absl::Span<const int32_t> row_hessian);

}  // namespace onnx_opt::quant
