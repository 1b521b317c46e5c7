#include "passes/quantize/hessian_accumulation.h"

#include <algorithm>

namespace onnx_opt {
namespace {

// The sampled positions of one sample: every position when there are few, else an evenly strided
// subset (deterministic).
std::vector<int64_t> SamplePositions(int64_t total) {
  const int64_t count = std::min(total, kMaxHessianPositions);
  std::vector<int64_t> positions(count);
  for (int64_t j = 0; j < count; ++j) positions[j] = j * total / count;
  return positions;
}

// H += scale * X^T X in double (X: positions x K, float).
void AddGram(const FloatMatrix& x, double scale, quant::Hessian& h) {
  const int64_t k = x.cols();
  Eigen::MatrixXf gram = Eigen::MatrixXf::Zero(k, k);
  gram.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      const double v = scale * static_cast<double>(gram(i, j));
      h.values[i * k + j] += v;
      if (j != i) h.values[j * k + i] += v;
    }
  }
}

}  // namespace

void InputAccumulator::Add(const FloatMatrix& x, double scale) const {
  const Eigen::VectorXd column_sums = x.cast<double>().colwise().sum().transpose();
  for (int64_t c = 0; c < x.cols(); ++c) (*sums)[c] += scale * column_sums[c];
  *count += scale * static_cast<double>(x.rows());
  AddGram(x, scale, *hessian);
}

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

}  // namespace onnx_opt
