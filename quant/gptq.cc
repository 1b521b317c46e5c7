#include "quant/gptq.h"

// Threads come from ParallelFor over fixed row chunks (and fixed tiles in inverse_cholesky.cc);
// Eigen itself stays serial (EIGEN_DONT_PARALLELIZE, quant/CMakeLists.txt) so that the results
// do not depend on the thread count.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "quant/block_kernels.h"
#include "quant/float16.h"
#include "quant/inverse_cholesky.h"
#include "quant/packing.h"
#include "quant/parallel.h"

namespace onnx_opt::quant {
namespace {

using internal::BlockConfig;
using internal::BlockParams;
using internal::QTraits;
using Matrix = RowMajorMatrix;

// Rows handled together: a fixed partition, so GEMM blockings (and results) never depend on the
// number of threads.
constexpr int64_t kRowChunk = 64;
// Columns per lazy batch: the rounding updates stay inside the batch, the rest of the row gets
// one GEMM per batch.
constexpr int64_t kBatchColumns = 128;
float RoundTo(FloatType type, float v) {
  switch (type) {
    case FloatType::kFloat16:
      return RoundToHalf(v);
    case FloatType::kBFloat16:
      return RoundToBFloat16(v);
    case FloatType::kFloat32:
      break;
  }
  return v;
}

// Where the parameters and codes of one chunk of rows go.
struct ChunkOutput {
  std::vector<int32_t> codes;        // rows x K
  std::vector<float> dequantized;    // rows x K, as DequantizeWeight computes them
  std::vector<float> scales;         // rows x num_blocks
  std::vector<int32_t> zero_points;  // rows x num_blocks
};

// A grid given by the caller instead of chosen per block: one scale per row (a single block
// spans the row), zero point 0, codes in [-max_code, max_code].
struct FixedGrid {
  absl::Span<const float> row_scales;  // the chunk's rows
  int32_t max_code = 0;
};

// GPTQ on `w` (rows x K, updated in place) with the inverse-Hessian factor `u`. With a column
// `order` (act-order), w and u are in that order, column c of w is column order[c] of the weight,
// and every block's parameters are chosen up front from the original weights (static groups).
// With a `grid`, the parameters are the grid's.
template <QType Q>
void GptqRows(Matrix& w, const Matrix& u, int64_t block, const BlockConfig& config,
              const std::vector<int64_t>& order, const FixedGrid* grid, ChunkOutput& out) {
  using T = QTraits<Q>;
  const int64_t rows = w.rows();
  const int64_t k = w.cols();
  const int64_t num_blocks = (k + block - 1) / block;
  const bool reordered = !order.empty();
  const bool static_groups = reordered || grid != nullptr;
  const int32_t code_min = grid != nullptr ? -grid->max_code : T::kMin;
  const int32_t code_max = grid != nullptr ? grid->max_code : T::kMax;
  out.codes.assign(rows * k, 0);
  out.dequantized.assign(rows * k, 0);
  out.scales.assign(rows * num_blocks, 1);
  out.zero_points.assign(rows * num_blocks, 0);
  std::vector<float> block_values;
  std::vector<BlockParams> params(rows);
  std::vector<BlockParams> static_params;
  if (grid != nullptr) {
    static_params.resize(rows * num_blocks);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t b = 0; b < num_blocks; ++b) {
        static_params[r * num_blocks + b] = {grid->row_scales[r], 0};
        out.scales[r * num_blocks + b] = grid->row_scales[r];
      }
    }
  } else if (reordered) {
    std::vector<int64_t> position(k);
    for (int64_t c = 0; c < k; ++c) position[order[c]] = c;
    static_params.resize(rows * num_blocks);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t b = 0; b < num_blocks; ++b) {
        const int64_t len = std::min(block, k - b * block);
        block_values.resize(len);
        for (int64_t c = 0; c < len; ++c) {
          block_values[c] = static_cast<float>(w(r, position[b * block + c]));
        }
        float mn, mx;
        internal::MinMax(block_values.data(), len, mn, mx);
        const BlockParams p = internal::ChooseParams<Q>(block_values.data(), len, mn, mx, config);
        static_params[r * num_blocks + b] = p;
        out.scales[r * num_blocks + b] = p.scale;
        out.zero_points[r * num_blocks + b] = p.zero_point;
      }
    }
  }
  // Batches never straddle a block start: a block's parameters are chosen from fully updated
  // weights (the in-batch updates reach every column of the batch, the GEMM the rest).
  const int64_t width =
      static_groups || block > kBatchColumns ? kBatchColumns : block * (kBatchColumns / block);
  Matrix errors;
  for (int64_t i1 = 0; i1 < k;) {
    int64_t i2 = std::min(k, i1 + width);
    if (!static_groups && block > kBatchColumns) i2 = std::min(i2, (i1 / block + 1) * block);
    const int64_t batch = i2 - i1;
    errors.setZero(rows, batch);
    for (int64_t j = 0; j < batch; ++j) {
      const int64_t col = i1 + j;
      const int64_t target = reordered ? order[col] : col;  // column of the weight
      if (static_groups) {
        for (int64_t r = 0; r < rows; ++r)
          params[r] = static_params[r * num_blocks + target / block];
      } else if (col % block == 0) {
        const int64_t len = std::min(block, k - col);
        block_values.resize(len);
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t c = 0; c < len; ++c) block_values[c] = static_cast<float>(w(r, col + c));
          float mn, mx;
          internal::MinMax(block_values.data(), len, mn, mx);
          params[r] = internal::ChooseParams<Q>(block_values.data(), len, mn, mx, config);
          out.scales[r * num_blocks + col / block] = params[r].scale;
          out.zero_points[r * num_blocks + col / block] = params[r].zero_point;
        }
      }
      const double pivot = u(col, col);
      for (int64_t r = 0; r < rows; ++r) {
        // The same float arithmetic as QuantizeContiguous, so codes match ONNX QuantizeLinear.
        const BlockParams p = params[r];
        const float lo = static_cast<float>(code_min - p.zero_point);
        const float hi = static_cast<float>(code_max - p.zero_point);
        float v = static_cast<float>(w(r, col)) / p.scale;
        v = v > lo ? v : lo;
        v = v < hi ? v : hi;
        const float q = (v + internal::kRoundMagic) - internal::kRoundMagic;
        out.codes[r * k + target] = static_cast<int32_t>(q) + p.zero_point;
        const float dq = q * p.scale;
        out.dequantized[r * k + target] = dq;
        errors(r, j) = (w(r, col) - dq) / pivot;
      }
      if (j + 1 < batch) {
        w.block(0, col + 1, rows, batch - j - 1).noalias() -=
            errors.col(j) * u.block(col, col + 1, 1, batch - j - 1);
      }
    }
    if (i2 < k) w.rightCols(k - i2).noalias() -= errors * u.block(i1, i2, batch, k - i2);
    i1 = i2;
  }
}

void RunGptqRows(QType q, Matrix& w, const Matrix& u, int64_t block, const BlockConfig& config,
                 const std::vector<int64_t>& order, const FixedGrid* grid, ChunkOutput& out) {
  VisitQType(q,
             [&](auto t) { GptqRows<decltype(t)::value>(w, u, block, config, order, grid, out); });
}

// Element index of (row, column) in layout order.
inline int64_t ElementIndex(const BlockLayout& l, int64_t row, int64_t col) {
  const int64_t o = row / l.inner;
  const int64_t i = row % l.inner;
  return (o * l.axis_dim + col) * l.inner + i;
}

struct RowChunk {
  int32_t hessian = 0;
  std::vector<int64_t> rows;
};

// Rows grouped by Hessian, cut into chunks of kRowChunk.
std::vector<RowChunk> MakeChunks(int64_t rows, int64_t groups,
                                 absl::Span<const int32_t> row_hessian) {
  std::vector<std::vector<int64_t>> by_group(groups);
  for (int64_t r = 0; r < rows; ++r)
    by_group[row_hessian.empty() ? 0 : row_hessian[r]].push_back(r);
  std::vector<RowChunk> chunks;
  for (int64_t g = 0; g < groups; ++g) {
    for (size_t start = 0; start < by_group[g].size(); start += kRowChunk) {
      const size_t end = std::min(by_group[g].size(), start + kRowChunk);
      chunks.push_back({static_cast<int32_t>(g), std::vector<int64_t>(by_group[g].begin() + start,
                                                                      by_group[g].begin() + end)});
    }
  }
  return chunks;
}

absl::Status CheckInputs(const BlockLayout& layout, absl::Span<const Hessian> hessians,
                         absl::Span<const int32_t> row_hessian) {
  if (absl::Status s = layout.Validate(); !s.ok()) return s;
  if (hessians.empty()) return absl::InvalidArgumentError("GPTQ needs at least one Hessian");
  for (const Hessian& h : hessians) {
    if (h.dim != layout.axis_dim || static_cast<int64_t>(h.values.size()) != h.dim * h.dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Hessian of size ", h.dim, " does not match the reduction axis of ", layout.axis_dim));
    }
  }
  if (row_hessian.empty()) {
    if (hessians.size() != 1) {
      return absl::InvalidArgumentError("several Hessians need a row -> Hessian map");
    }
    return absl::OkStatus();
  }
  if (static_cast<int64_t>(row_hessian.size()) != GptqRows(layout)) {
    return absl::InvalidArgumentError(absl::StrCat("row -> Hessian map has ", row_hessian.size(),
                                                   " entries for ", GptqRows(layout), " rows"));
  }
  for (int32_t g : row_hessian) {
    if (g < 0 || g >= static_cast<int32_t>(hessians.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("row -> Hessian map names Hessian ", g, " of ", hessians.size()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

GptqOptions ShrinkDamped(GptqOptions gptq, int64_t k, int64_t vectors) {
  if (vectors > 0) gptq.damp += gptq.shrink * static_cast<double>(k) / static_cast<double>(vectors);
  return gptq;
}

double GptqResult::RelativeProxyError() const {
  return proxy_signal > 0 ? std::sqrt(proxy_error_gptq / proxy_signal) : 0.0;
}
double GptqResult::RelativeProxyErrorRtn() const {
  return proxy_signal > 0 ? std::sqrt(proxy_error_rtn / proxy_signal) : 0.0;
}

double ProxyError(absl::Span<const float> difference, const BlockLayout& layout,
                  absl::Span<const Hessian> hessians, absl::Span<const int32_t> row_hessian) {
  const int64_t k = layout.axis_dim;
  const std::vector<RowChunk> chunks =
      MakeChunks(GptqRows(layout), static_cast<int64_t>(hessians.size()), row_hessian);
  std::vector<double> partial(chunks.size(), 0.0);
  ParallelFor(static_cast<int64_t>(chunks.size()), [&](int, int64_t c) {
    const RowChunk& chunk = chunks[c];
    const int64_t rows = static_cast<int64_t>(chunk.rows.size());
    Matrix d(rows, k);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t col = 0; col < k; ++col) {
        d(r, col) = difference[ElementIndex(layout, chunk.rows[r], col)];
      }
    }
    const Hessian& h = hessians[chunk.hessian];
    Eigen::Map<const Matrix> hm(h.values.data(), k, k);
    partial[c] = (d * hm).cwiseProduct(d).sum();
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

absl::StatusOr<GptqResult> QuantizeWeightGptq(absl::Span<const float> weight,
                                              const BlockLayout& layout,
                                              const WeightQuantOptions& options,
                                              absl::Span<const Hessian> hessians,
                                              absl::Span<const int32_t> row_hessian,
                                              const GptqOptions& gptq) {
  return QuantizeWeightGptq(
      FloatType::kFloat32,
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(weight.data()), weight.size() * 4),
      layout, options, hessians, row_hessian, gptq);
}

namespace {

// Per Hessian: the inverse-Hessian factor and (act-order) the column order.
struct Factors {
  std::vector<Matrix> upper;
  std::vector<std::vector<int64_t>> orders;
};

absl::StatusOr<Factors> FactorHessians(absl::Span<const Hessian> hessians, int64_t k,
                                       const GptqOptions& gptq) {
  Factors f;
  f.orders.resize(hessians.size());
  for (size_t g = 0; g < hessians.size(); ++g) {
    const Hessian* h = &hessians[g];
    Hessian permuted;
    if (gptq.act_order) {
      // Columns with the most input energy first (ties in index order): their errors can still
      // be compensated by every other column.
      std::vector<int64_t>& order = f.orders[g];
      order.resize(k);
      for (int64_t i = 0; i < k; ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(),
                       [h](int64_t a, int64_t b) { return h->at(a, a) > h->at(b, b); });
      permuted = Hessian::Zero(k);
      for (int64_t i = 0; i < k; ++i) {
        for (int64_t j = 0; j < k; ++j) permuted.values[i * k + j] = h->at(order[i], order[j]);
      }
      h = &permuted;
    }
    absl::StatusOr<Matrix> u = InverseCholeskyUpper(h->values, h->dim, gptq.damp);
    if (!u.ok()) return u.status();
    f.upper.push_back(*std::move(u));
  }
  return f;
}

// Codes and dequantized values in layout order; scales and zero points [outer, blocks, inner].
struct RoundedRows {
  std::vector<int32_t> codes;
  std::vector<float> dequantized;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
};

// GPTQ over every row chunk of `original` (layout order). `row_scales` (per GPTQ row, with
// max_code) fixes the grid; empty: parameters chosen per block by `config`.
RoundedRows RoundAllRows(QType qtype, absl::Span<const float> original, const BlockLayout& layout,
                         const BlockConfig& config, const Factors& factors,
                         const std::vector<RowChunk>& chunks, absl::Span<const float> row_scales,
                         int32_t max_code) {
  const int64_t k = layout.axis_dim;
  const int64_t num_blocks = layout.num_blocks();
  RoundedRows out;
  out.codes.resize(layout.num_elements());
  out.dequantized.resize(layout.num_elements());
  out.scales.assign(layout.num_params(), 1);
  out.zero_points.assign(layout.num_params(), 0);
  ParallelFor(static_cast<int64_t>(chunks.size()), [&](int, int64_t c) {
    const RowChunk& chunk = chunks[c];
    const int64_t rows = static_cast<int64_t>(chunk.rows.size());
    const std::vector<int64_t>& order = factors.orders[chunk.hessian];
    Matrix w(rows, k);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t col = 0; col < k; ++col) {
        w(r, col) = original[ElementIndex(layout, chunk.rows[r], order.empty() ? col : order[col])];
      }
    }
    std::vector<float> chunk_scales;
    FixedGrid grid;
    if (!row_scales.empty()) {
      for (int64_t row : chunk.rows) chunk_scales.push_back(row_scales[row]);
      grid = {chunk_scales, max_code};
    }
    ChunkOutput rounded;
    RunGptqRows(qtype, w, factors.upper[chunk.hessian], layout.block_size, config, order,
                row_scales.empty() ? nullptr : &grid, rounded);
    // Chunks own disjoint rows: no two write the same element.
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t row = chunk.rows[r];
      for (int64_t col = 0; col < k; ++col) {
        const int64_t e = ElementIndex(layout, row, col);
        out.codes[e] = rounded.codes[r * k + col];
        out.dequantized[e] = rounded.dequantized[r * k + col];
      }
      const int64_t o = row / layout.inner;
      const int64_t i = row % layout.inner;
      for (int64_t b = 0; b < num_blocks; ++b) {
        const int64_t p = (o * num_blocks + b) * layout.inner + i;
        out.scales[p] = rounded.scales[r * num_blocks + b];
        out.zero_points[p] = rounded.zero_points[r * num_blocks + b];
      }
    }
  });
  return out;
}

// Proxy error of `approx` against `original` (both layout order).
double ProxyErrorOf(absl::Span<const float> approx, absl::Span<const float> original,
                    const BlockLayout& layout, absl::Span<const Hessian> hessians,
                    absl::Span<const int32_t> row_hessian) {
  std::vector<float> diff(original.size());
  for (size_t e = 0; e < diff.size(); ++e) diff[e] = approx[e] - original[e];
  return ProxyError(diff, layout, hessians, row_hessian);
}

}  // namespace

absl::StatusOr<GptqResult> QuantizeWeightGptq(FloatType type, absl::Span<const uint8_t> bytes,
                                              const BlockLayout& layout,
                                              const WeightQuantOptions& options,
                                              absl::Span<const Hessian> hessians,
                                              absl::Span<const int32_t> row_hessian,
                                              const GptqOptions& gptq) {
  if (absl::Status s = CheckInputs(layout, hessians, row_hessian); !s.ok()) return s;
  // Plain rounding first: it validates the weight (size, NaN) and is the reference figure.
  absl::StatusOr<QuantizedWeight> rtn = QuantizeWeightBytes(type, bytes, layout, options);
  if (!rtn.ok()) return rtn.status();
  absl::StatusOr<std::vector<float>> original = DecodeFloats(type, bytes);
  if (!original.ok()) return original.status();
  absl::StatusOr<Factors> factors = FactorHessians(hessians, layout.axis_dim, gptq);
  if (!factors.ok()) return factors.status();
  const std::vector<RowChunk> chunks =
      MakeChunks(GptqRows(layout), static_cast<int64_t>(hessians.size()), row_hessian);
  const BlockConfig config{options.symmetric, options.search, options.scale_type,
                           options.error_type};
  RoundedRows rounded =
      RoundAllRows(options.qtype, *original, layout, config, *factors, chunks, {}, 0);
  GptqResult result;
  QuantizedWeight& q = result.weight;
  q.qtype = options.qtype;
  q.layout = layout;
  q.scales = std::move(rounded.scales);
  q.data = PackCodes(options.qtype, rounded.codes);
  if (!options.symmetric || !QTypeIsSigned(options.qtype)) {
    q.zero_points = PackCodes(options.qtype, rounded.zero_points);
  }
  // Weight-space error of the values the runtime computes (rounded to the weight's type).
  const int64_t n = layout.num_elements();
  std::vector<float> runtime(n);
  for (int64_t e = 0; e < n; ++e) runtime[e] = RoundTo(options.error_type, rounded.dequantized[e]);
  q.stats = ComputeErrorStats(*original, runtime);

  absl::StatusOr<std::vector<float>> rtn_values = DequantizeWeight(*rtn);
  if (!rtn_values.ok()) return rtn_values.status();
  result.proxy_error_gptq =
      ProxyErrorOf(rounded.dequantized, *original, layout, hessians, row_hessian);
  result.proxy_error_rtn = ProxyErrorOf(*rtn_values, *original, layout, hessians, row_hessian);
  result.proxy_signal = ProxyError(*original, layout, hessians, row_hessian);
  result.rtn_stats = rtn->stats;
  return result;
}

absl::StatusOr<std::vector<int32_t>> RoundToRowGridGptq(
    absl::Span<const float> weight, const BlockLayout& layout, absl::Span<const float> row_scales,
    int32_t max_code, absl::Span<const Hessian> hessians, absl::Span<const int32_t> row_hessian,
    const GptqOptions& gptq) {
  if (absl::Status s = CheckInputs(layout, hessians, row_hessian); !s.ok()) return s;
  if (layout.block_size < layout.axis_dim) {
    return absl::InvalidArgumentError("a row grid needs one block per row");
  }
  if (static_cast<int64_t>(weight.size()) != layout.num_elements() ||
      static_cast<int64_t>(row_scales.size()) != GptqRows(layout)) {
    return absl::InvalidArgumentError(absl::StrCat("a row grid needs ", layout.num_elements(),
                                                   " values and ", GptqRows(layout), " scales"));
  }
  if (max_code < 1 || max_code > 127) {
    return absl::InvalidArgumentError(absl::StrCat("max code ", max_code, " is not in [1, 127]"));
  }
  for (float s : row_scales) {
    if (!(s > 0) || !std::isfinite(s)) return absl::InvalidArgumentError("a row scale is not > 0");
  }
  for (float v : weight) {
    if (!std::isfinite(v)) return absl::InvalidArgumentError("the weight holds NaN or infinity");
  }
  absl::StatusOr<Factors> factors = FactorHessians(hessians, layout.axis_dim, gptq);
  if (!factors.ok()) return factors.status();
  const std::vector<RowChunk> chunks =
      MakeChunks(GptqRows(layout), static_cast<int64_t>(hessians.size()), row_hessian);
  const BlockConfig config{true, ScaleSearch::kMinMax, FloatType::kFloat32, FloatType::kFloat32};
  RoundedRows rounded =
      RoundAllRows(QType::kInt8, weight, layout, config, *factors, chunks, row_scales, max_code);
  return std::move(rounded.codes);
}

}  // namespace onnx_opt::quant
