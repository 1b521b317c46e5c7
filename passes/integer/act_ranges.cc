#include "passes/integer/act_ranges.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace onnx_opt {
namespace {

// Bin i of the histogram covers [-R + i w, -R + (i + 1) w] with w = 2R / bins.
struct Bins {
  const std::vector<double>& counts;
  double lo_edge;
  double width;
  double total = 0;
  explicit Bins(const CalibTensorStats& s)
      : counts(s.histogram),
        lo_edge(-s.histogram_range),
        width(s.histogram.empty() ? 0 : 2 * s.histogram_range / s.histogram.size()) {
    for (double c : counts) total += c;
  }
  double Left(size_t i) const { return lo_edge + width * static_cast<double>(i); }
};

int32_t QMin(const QuantParams& p) { return p.is_signed ? -128 : 0; }
int32_t QMax(const QuantParams& p) { return p.is_signed ? 127 : 255; }

double RoundTrip(double x, const QuantParams& p) {
  double q = std::nearbyint(x / p.scale) + p.zero_point;
  q = std::clamp(q, static_cast<double>(QMin(p)), static_cast<double>(QMax(p)));
  return (q - p.zero_point) * p.scale;
}

// Sum over the histogram of count * (expected squared round-trip error); values are taken as
// uniform inside a bin and sampled at 4 points of it.
double HistogramNoise(const Bins& bins, const QuantParams& p) {
  constexpr int kSamples = 4;
  double noise = 0;
  for (size_t i = 0; i < bins.counts.size(); ++i) {
    if (bins.counts[i] == 0) continue;
    double err = 0;
    for (int k = 0; k < kSamples; ++k) {
      double x = bins.Left(i) + bins.width * (k + 0.5) / kSamples;
      double d = x - RoundTrip(x, p);
      err += d * d;
    }
    noise += bins.counts[i] * err / kSamples;
  }
  return noise;
}

// The value below which `fraction` of the histogram lies (bin edges, interpolated inside).
double Quantile(const Bins& bins, double fraction) {
  double target = fraction * bins.total, seen = 0;
  for (size_t i = 0; i < bins.counts.size(); ++i) {
    if (seen + bins.counts[i] >= target && bins.counts[i] > 0) {
      return bins.Left(i) + bins.width * (target - seen) / bins.counts[i];
    }
    seen += bins.counts[i];
  }
  return bins.Left(bins.counts.size());
}

// KL(P || Q) as TensorRT calibrates: P is the histogram clipped to [lo, hi] with the outliers
// added to the edge bins, Q the in-range bins alone merged into `levels` buckets, each bucket's
// mass spread over its non-empty bins; both normalised. Clipping shows as P's heavy edge bins.
double ClippedKl(const Bins& bins, double lo, double hi, int levels) {
  auto first = static_cast<size_t>(std::max(0.0, std::floor((lo - bins.lo_edge) / bins.width)));
  auto last = std::min(bins.counts.size(),
                       static_cast<size_t>(std::ceil((hi - bins.lo_edge) / bins.width)));
  if (last <= first || last - first < static_cast<size_t>(levels)) {
    return std::numeric_limits<double>::infinity();
  }
  const std::vector<double> in_range(bins.counts.begin() + first, bins.counts.begin() + last);
  std::vector<double> p = in_range;
  for (size_t i = 0; i < first; ++i) p.front() += bins.counts[i];
  for (size_t i = last; i < bins.counts.size(); ++i) p.back() += bins.counts[i];
  const size_t n = p.size();
  std::vector<double> q(n, 0);
  double q_total = 0;
  for (int b = 0; b < levels; ++b) {
    size_t begin = n * b / levels, end = n * (b + 1) / levels;
    double mass = 0;
    int nonzero = 0;
    for (size_t i = begin; i < end; ++i) {
      mass += in_range[i];
      nonzero += in_range[i] > 0;
    }
    for (size_t i = begin; i < end; ++i) q[i] = in_range[i] > 0 ? mass / nonzero : 0;
    q_total += mass;
  }
  if (q_total <= 0) return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] <= 0) continue;
    // An edge bin empty in range but holding outliers: Q has no mass there; smooth it.
    double qi = q[i] > 0 ? q[i] / q_total : 1e-12;
    kl += p[i] / bins.total * std::log(p[i] / bins.total / qi);
  }
  return kl;
}

}  // namespace

std::optional<RangeMethod> ParseRangeMethod(std::string_view text) {
  if (text == "minmax") return RangeMethod::kMinMax;
  if (text == "percentile") return RangeMethod::kPercentile;
  if (text == "entropy") return RangeMethod::kEntropy;
  if (text == "mse") return RangeMethod::kMse;
  return std::nullopt;
}

FloatRange ChooseRange(const CalibTensorStats& stats, RangeMethod method, double percentile,
                       bool is_signed) {
  constexpr int kLevels = 256;
  const FloatRange full{std::min(stats.min, 0.0), std::max(stats.max, 0.0)};
  const Bins bins(stats);
  if (method == RangeMethod::kMinMax || bins.total <= 0 || bins.width <= 0) return full;
  if (method == RangeMethod::kPercentile) {
    double tail = (100.0 - percentile) / 100.0;
    return {std::clamp(Quantile(bins, tail), full.lo, 0.0),
            std::clamp(Quantile(bins, 1.0 - tail), 0.0, full.hi)};
  }
  // entropy and mse: shrink each end of [min, max] towards zero in turn (hi, lo, hi again),
  // keeping the candidate of lowest cost; the ends are independent because activations are
  // often far from symmetric (a long positive tail, a short negative one).
  constexpr int kCandidates = 64;
  auto cost = [&](const FloatRange& r) {
    return method == RangeMethod::kMse ? HistogramNoise(bins, ActivationParams(r, is_signed))
                                       : ClippedKl(bins, r.lo, r.hi, kLevels);
  };
  FloatRange best = full;
  double best_cost = cost(full);
  for (int round = 0; round < 3; ++round) {
    const bool upper = round != 1;
    const double end = upper ? full.hi : full.lo;
    if (end == 0) continue;
    for (int c = kCandidates - 1; c >= 1; --c) {
      FloatRange r = best;
      (upper ? r.hi : r.lo) = end * c / kCandidates;
      if (double k = cost(r); k < best_cost) {
        best_cost = k;
        best = r;
      }
    }
  }
  return best;
}

QuantParams ActivationParams(FloatRange range, bool is_signed) {
  QuantParams p;
  p.is_signed = is_signed;
  double lo = std::min(range.lo, 0.0), hi = std::max(range.hi, 0.0);
  if (is_signed) {
    double a = std::max(-lo, hi);
    p.scale = a > 0 ? static_cast<float>(a / 127.0) : 1.0f;
    return p;
  }
  if (hi - lo <= 0) return p;
  p.scale = static_cast<float>((hi - lo) / 255.0);
  p.zero_point = std::clamp(static_cast<int32_t>(std::nearbyint(-lo / p.scale)), 0, 255);
  return p;
}

FloatRange RepresentedRange(const QuantParams& p) {
  return {static_cast<double>(QMin(p) - p.zero_point) * p.scale,
          static_cast<double>(QMax(p) - p.zero_point) * p.scale};
}

ChannelQuantized QuantizePerChannel(const std::vector<float>& weights,
                                    const std::vector<int64_t>& dims, int64_t axis, int bits,
                                    int32_t zero_point) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= dims[d];
  for (size_t d = axis + 1; d < dims.size(); ++d) inner *= dims[d];
  const int64_t channels = dims[axis];
  const double qmax = (1 << (bits - 1)) - 1;
  ChannelQuantized out;
  out.scales.assign(channels, 0.0f);
  out.values.resize(weights.size());
  auto index = [&](int64_t o, int64_t c, int64_t i) { return (o * channels + c) * inner + i; };
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t i = 0; i < inner; ++i) {
        out.scales[c] = std::max(out.scales[c], std::fabs(weights[index(o, c, i)]));
      }
    }
  }
  for (float& s : out.scales) s = s > 0 ? static_cast<float>(s / qmax) : 1.0f;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = index(o, c, i);
        double q = std::clamp(std::nearbyint(static_cast<double>(weights[k]) / out.scales[c]),
                              -qmax, qmax);
        out.values[k] = static_cast<int32_t>(q) + zero_point;
      }
    }
  }
  return out;
}

std::vector<int32_t> QuantizeBias(const std::vector<float>& bias, float input_scale,
                                  const std::vector<float>& weight_scales) {
  std::vector<int32_t> out(bias.size());
  constexpr double kMax = std::numeric_limits<int32_t>::max();
  for (size_t c = 0; c < bias.size(); ++c) {
    double scale = static_cast<double>(input_scale) * weight_scales[c];
    out[c] = static_cast<int32_t>(std::clamp(std::nearbyint(bias[c] / scale), -kMax, kMax));
  }
  return out;
}

double HistogramSqnrDb(const CalibTensorStats& stats, const QuantParams& params) {
  const Bins bins(stats);
  double signal = 0;
  for (size_t i = 0; i < bins.counts.size(); ++i) {
    double centre = bins.Left(i) + bins.width / 2;
    signal += bins.counts[i] * centre * centre;
  }
  double noise = HistogramNoise(bins, params);
  if (bins.total <= 0 || noise <= 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(signal / noise);
}

}  // namespace onnx_opt
