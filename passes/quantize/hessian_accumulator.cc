#include "passes/quantize/hessian_accumulator.h"

#include <Eigen/Core>
#include <algorithm>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ir/strings.h"

namespace onnx_opt {
namespace {

using FloatMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The sampled positions of one sample: every position when there are few, else an evenly strided
// subset (deterministic).
std::vector<int64_t> SamplePositions(int64_t total) {
  const int64_t count = std::min(total, HessianAccumulator::kMaxPositions);
  std::vector<int64_t> positions(count);
  for (int64_t j = 0; j < count; ++j) positions[j] = j * total / count;
  return positions;
}

// H += scale * X^T X (X: positions x K, float), into the packed lower triangle. The product is
// formed in float32 by Eigen, a panel of kPanel rows of the lower triangle at a time
// (X[:, rows]^T X[:, 0..last row]), so no K x K temporary is needed (340 MB for ISNet's K = 9216).
void AddGram(const FloatMatrix& x, double scale, PackedHessian& h) {
  constexpr int64_t kPanel = 128;
  const int64_t k = x.cols();
  const auto s = static_cast<float>(scale);
  FloatMatrix panel;
  for (int64_t i0 = 0; i0 < k; i0 += kPanel) {
    const int64_t rows = std::min(kPanel, k - i0);
    const int64_t cols = i0 + rows;
    panel.resize(rows, cols);
    panel.noalias() = x.middleCols(i0, rows).transpose() * x.leftCols(cols);
    float* row = h.lower.data() + i0 * (i0 + 1) / 2;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = i0 + r;
      const float* from = panel.data() + r * cols;
      for (int64_t j = 0; j <= i; ++j) row[j] += s * from[j];
      row += i + 1;
    }
  }
}

// The running sums of one Hessian's data: H, the sum of the vectors x and their count (each
// sampled vector stands for `scale` vectors).
struct InputAccumulator {
  PackedHessian* hessian;
  std::vector<double>* sums;
  double* count;

  void Add(const FloatMatrix& x, double scale) const {
    const Eigen::VectorXd column_sums = x.cast<double>().colwise().sum().transpose();
    for (int64_t c = 0; c < x.cols(); ++c) (*sums)[c] += scale * column_sums[c];
    *count += scale * static_cast<double>(x.rows());
    AddGram(x, scale, *hessian);
  }
};

// Convolution parameters of a Conv node for a weight [M, C/g, k...] and an input [N, C, d...].
struct ConvParams {
  int64_t group = 1;
  std::vector<int64_t> kernel, strides, dilations, pad_begin, out;
};

absl::StatusOr<ConvParams> ConvParamsOf(const Node& node, const std::vector<int64_t>& w,
                                        const std::vector<int64_t>& x) {
  const size_t s = w.size() - 2;
  ConvParams p;
  p.group = node.GetInt("group").value_or(1);
  p.kernel.assign(w.begin() + 2, w.end());
  p.strides = node.GetInts("strides").value_or(std::vector<int64_t>(s, 1));
  p.dilations = node.GetInts("dilations").value_or(std::vector<int64_t>(s, 1));
  std::vector<int64_t> pads = node.GetInts("pads").value_or(std::vector<int64_t>(2 * s, 0));
  const std::string auto_pad = node.GetString("auto_pad").value_or("NOTSET");
  if (p.strides.size() != s || p.dilations.size() != s || pads.size() != 2 * s || p.group < 1) {
    return absl::InvalidArgumentError("strides, dilations, pads or group do not fit the kernel");
  }
  p.pad_begin.resize(s);
  p.out.resize(s);
  for (size_t i = 0; i < s; ++i) {
    const int64_t in = x[i + 2];
    const int64_t span = (p.kernel[i] - 1) * p.dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      p.out[i] = (in + p.strides[i] - 1) / p.strides[i];
      const int64_t total = std::max<int64_t>(0, (p.out[i] - 1) * p.strides[i] + span - in);
      p.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (auto_pad == "VALID") {
      p.out[i] = (in - span) / p.strides[i] + 1;
      p.pad_begin[i] = 0;
    } else {
      p.out[i] = (in + pads[i] + pads[i + s] - span) / p.strides[i] + 1;
      p.pad_begin[i] = pads[i];
    }
    if (p.out[i] < 1) return absl::InvalidArgumentError("the output would be empty");
  }
  return p;
}

// Adds one sample's im2col patches to the per-group accumulators.
// Returns the number of positions added (per group).
int64_t AccumulateConv(const NpyArray& x, const ConvParams& p, int64_t channels_per_group,
                       const std::vector<InputAccumulator>& groups) {
  const size_t s = p.kernel.size();
  int64_t out_count = 1, kernel_count = 1;
  for (size_t i = 0; i < s; ++i) {
    out_count *= p.out[i];
    kernel_count *= p.kernel[i];
  }
  std::vector<int64_t> in_dims(x.shape.begin() + 2, x.shape.end());
  int64_t in_count = 1;
  for (int64_t d : in_dims) in_count *= d;
  const int64_t channels = x.shape[1];
  const std::vector<int64_t> positions = SamplePositions(x.shape[0] * out_count);
  const double scale = static_cast<double>(x.shape[0] * out_count) / positions.size();
  const int64_t k = channels_per_group * kernel_count;
  const int64_t rows = static_cast<int64_t>(positions.size());
  // Per (position, kernel offset): the sample's flat spatial input index, or -1 in the padding.
  // Shared by every channel and group.
  std::vector<int64_t> source(rows * kernel_count, -1), sample(rows);
  std::vector<int64_t> origin(s);
  for (int64_t r = 0; r < rows; ++r) {
    sample[r] = positions[r] / out_count;
    int64_t rest = positions[r] % out_count;
    for (size_t i = s; i-- > 0;) {
      origin[i] = (rest % p.out[i]) * p.strides[i] - p.pad_begin[i];
      rest /= p.out[i];
    }
    for (int64_t kidx = 0; kidx < kernel_count; ++kidx) {
      int64_t rem = kidx, flat = 0, stride = 1;
      bool inside = true;
      for (size_t i = s; i-- > 0;) {
        const int64_t at = origin[i] + (rem % p.kernel[i]) * p.dilations[i];
        rem /= p.kernel[i];
        inside = inside && at >= 0 && at < in_dims[i];
        flat += at * stride;
        stride *= in_dims[i];
      }
      if (inside) source[r * kernel_count + kidx] = flat;
    }
  }
  FloatMatrix patches(rows, k);
  for (int64_t g = 0; g < p.group; ++g) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t* from = source.data() + r * kernel_count;
      for (int64_t c = 0; c < channels_per_group; ++c) {
        const float* plane =
            x.values.data() + (sample[r] * channels + g * channels_per_group + c) * in_count;
        float* to = patches.data() + r * k + c * kernel_count;
        for (int64_t kidx = 0; kidx < kernel_count; ++kidx) {
          to[kidx] = from[kidx] < 0 ? 0.0f : plane[from[kidx]];
        }
      }
    }
    groups[g].Add(patches, scale);
  }
  return rows;
}

// Adds the rows of a [P, K] view (or its columns when `transposed`, a [K, P] view).
int64_t AccumulateRows(const NpyArray& x, int64_t k, bool transposed,
                       const InputAccumulator& accumulator) {
  const int64_t total = static_cast<int64_t>(x.values.size()) / k;
  const std::vector<int64_t> positions = SamplePositions(total);
  FloatMatrix rows(static_cast<int64_t>(positions.size()), k);
  for (size_t r = 0; r < positions.size(); ++r) {
    for (int64_t c = 0; c < k; ++c) {
      rows(static_cast<int64_t>(r), c) =
          transposed ? x.values[c * total + positions[r]] : x.values[positions[r] * k + c];
    }
  }
  accumulator.Add(rows, static_cast<double>(total) / positions.size());
  return static_cast<int64_t>(positions.size());
}

}  // namespace

std::optional<HessianAccumulator> HessianAccumulator::Create(const std::vector<int64_t>& w,
                                                             const std::vector<WeightUse>& uses,
                                                             std::string* why_not) {
  HessianAccumulator a;
  a.weight_dims_ = w;
  a.uses_ = uses;
  int64_t elements = 1;
  for (int64_t d : w) elements *= d;
  for (size_t u = 0; u < uses.size(); ++u) {
    const Node& node = *uses[u].node;
    const bool conv = node.Is("Conv") && uses[u].input_index == 1 && w.size() >= 3;
    const bool matmul = node.Is("MatMul") && uses[u].input_index == 1 && w.size() == 2;
    const bool gemm = node.Is("Gemm") && uses[u].input_index == 1 && w.size() == 2;
    if (!conv && !matmul && !gemm) {
      *why_not = absl::StrCat("unsupported use by ", node.DebugName());
      return std::nullopt;
    }
    const bool trans_b = gemm && node.GetInt("transB").value_or(0) != 0;
    const int64_t k = conv ? elements / w[0] : trans_b ? w[1] : w[0];
    const int64_t groups = conv ? node.GetInt("group").value_or(1) : 1;
    if (u == 0) {
      a.reduce_ = k;
      a.groups_ = groups;
    } else if (groups != a.groups_ || k != a.reduce_) {
      *why_not = "shared by convolutions with different groups";
      return std::nullopt;
    }
  }
  if (uses.empty() || a.groups_ < 1) {
    *why_not = uses.empty() ? "no uses" : "group < 1";
    return std::nullopt;
  }
  a.sums_.assign(a.groups_, std::vector<double>(a.reduce_, 0.0));
  a.counts_.assign(a.groups_, 0.0);
  return a;
}

absl::Status HessianAccumulator::Add(size_t use, const NpyArray& x, bool held_out,
                                     std::string_view source) {
  const Node& node = *uses_.at(use).node;
  const std::vector<int64_t>& w = weight_dims_;
  const int64_t k = reduce_;
  const Value* activation = node.input(0);
  auto mismatch = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(source), ": activation '", activation ? activation->name() : std::string(),
        "' of shape ", FormatDims(x.shape), " does not fit ", node.DebugName(), " with weight ",
        FormatDims(w), ": ", parts...));
  };
  // Allocated at the first sample: onnx-opt-calibrate creates every weight's accumulator up
  // front but measures them in passes.
  if (fitted_.empty()) fitted_.assign(groups_, PackedHessian::Zero(k));
  if (held_out && held_out_.empty()) held_out_.assign(groups_, PackedHessian::Zero(k));
  std::vector<InputAccumulator> accumulators;
  for (int64_t g = 0; g < groups_; ++g) {
    accumulators.push_back({held_out ? &held_out_[g] : &fitted_[g], &sums_[g], &counts_[g]});
  }
  if (node.Is("Conv")) {
    if (x.shape.size() != w.size() || x.shape[1] != w[1] * groups_ || w[0] % groups_ != 0) {
      return mismatch("needs [N, ", w[1] * groups_, ", ...] of rank ", w.size());
    }
    absl::StatusOr<ConvParams> p = ConvParamsOf(node, w, x.shape);
    if (!p.ok()) return mismatch(p.status().message());
    positions_ += AccumulateConv(x, *p, w[1], accumulators);
  } else if (node.Is("MatMul")) {
    if (x.shape.empty() || x.shape.back() != k) return mismatch("last axis must be ", k);
    positions_ += AccumulateRows(x, k, false, accumulators[0]);
  } else {
    const bool trans_a = node.GetInt("transA").value_or(0) != 0;
    if (x.shape.size() != 2 || x.shape[trans_a ? 0 : 1] != k) {
      return mismatch("A must be 2-D with ", k, " on axis ", trans_a ? 0 : 1);
    }
    positions_ += AccumulateRows(x, k, trans_a, accumulators[0]);
  }
  ++samples_;
  if (held_out) ++held_out_samples_;
  return absl::OkStatus();
}

PackedLayerHessians HessianAccumulator::FinishPacked() && {
  if (fitted_.empty()) fitted_.assign(groups_, PackedHessian::Zero(reduce_));
  PackedLayerHessians result;
  result.samples = samples_;
  result.positions = positions_;
  for (int64_t g = 0; g < groups_; ++g) {
    for (double& v : sums_[g]) v /= std::max(counts_[g], 1.0);
    if (held_out_.empty()) continue;
    std::vector<float>& total = fitted_[g].lower;
    const std::vector<float>& part = held_out_[g].lower;
    for (size_t i = 0; i < part.size(); ++i) total[i] += part[i];
  }
  result.input_means = std::move(sums_);
  result.hessians = std::move(fitted_);
  if (result.samples >= 2) result.held_out = std::move(held_out_);
  if (groups_ > 1) {
    // Conv rows are output channels (view [M, K, 1]); M/g consecutive channels per group.
    const int64_t per_group = weight_dims_[0] / groups_;
    for (int64_t m = 0; m < weight_dims_[0]; ++m) {
      result.row_hessian.push_back(static_cast<int32_t>(m / per_group));
    }
  }
  return result;
}

quant::Hessian PackedHessian::Unpack() const {
  quant::Hessian h = quant::Hessian::Zero(dim);
  const float* row = lower.data();
  for (int64_t i = 0; i < dim; ++i) {
    for (int64_t j = 0; j <= i; ++j) h.values[i * dim + j] = h.values[j * dim + i] = row[j];
    row += i + 1;
  }
  return h;
}

LayerHessians PackedLayerHessians::Unpack() const {
  LayerHessians out;
  for (const PackedHessian& h : hessians) out.hessians.push_back(h.Unpack());
  for (const PackedHessian& h : held_out) out.held_out.push_back(h.Unpack());
  out.row_hessian = row_hessian;
  out.samples = samples;
  out.positions = positions;
  out.input_means = input_means;
  return out;
}

std::vector<quant::Hessian> LayerHessians::Fitted() const {
  std::vector<quant::Hessian> fit = hessians;
  for (size_t g = 0; g < fit.size() && g < held_out.size(); ++g) {
    for (size_t i = 0; i < fit[g].values.size(); ++i) fit[g].values[i] -= held_out[g].values[i];
  }
  return fit;
}

}  // namespace onnx_opt
