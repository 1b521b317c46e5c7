// Error-minimising choice of a block's scale and zero point (ScaleSearch::kMse and kHqq).
//
// Both searches evaluate candidates with the exact quantizer (division, round half to even,
// saturation) and the scale rounded to the stored type, and both include the min/max parameters
// among their candidates, so their squared error is never above kMinMax's. Everything is
// deterministic: fixed candidate lists, fixed iteration counts, first best wins ties.
#include <algorithm>
#include <cmath>

#include "quant/block_kernels.h"

namespace onnx_opt::quant::internal {
namespace {

// Coarse grid: 100 shrink ratios of the clipping range, 1.0 down to 0.505.
constexpr int kCoarseSteps = 100;
constexpr double kCoarseStep = 0.005;
// Fine grid around the best coarse ratio.
constexpr int kFineSteps = 10;
constexpr double kFineStep = kCoarseStep / kFineSteps;
// Zero points tried around the range-derived one when asymmetric.
constexpr int kZeroPointRadius = 2;
// HQQ iterations and its half-quadratic penalty schedule.
constexpr int kHqqIterations = 20;
constexpr double kHqqBetaStart = 10.0;
constexpr double kHqqBetaGrowth = 1.01;
constexpr double kHqqP = 0.7;

struct Candidate {
  BlockParams params;
  double error = 0;
};

template <QType Q>
Candidate Evaluate(const float* x, int64_t n, BlockParams p) {
  return {p, BlockSquaredError<Q>(x, n, p.scale, p.zero_point)};
}

// Parameters for the range [lo, hi] shrunk by `ratio` (lo <= 0 <= hi, or amax = hi symmetric).
template <QType Q>
BlockParams ShrunkParams(double lo, double hi, double ratio, bool symmetric, FloatType type) {
  using T = QTraits<Q>;
  if (symmetric) {
    return {FinishScale(hi * ratio / T::kSymmetricRange, type), T::kSymmetricZeroPoint};
  }
  const double slo = lo * ratio;
  const double shi = hi * ratio;
  const float scale = FinishScale((shi - slo) / (T::kMax - T::kMin), type);
  return {scale, AsymmetricZeroPoint<Q>(slo, scale)};
}

template <QType Q>
BlockParams MseSearch(const float* x, int64_t n, float min_value, float max_value,
                      const BlockConfig& config) {
  const BlockParams minmax =
      MinMaxParams<Q>(min_value, max_value, config.symmetric, config.scale_type);
  double lo = std::min(double{min_value}, 0.0);
  double hi = std::max(double{max_value}, 0.0);
  if (config.symmetric) {
    hi = std::max(-lo, hi);
    lo = -hi;
  }
  if (hi == lo) return minmax;  // all zeros: exact already
  Candidate best = Evaluate<Q>(x, n, minmax);
  double best_ratio = 1.0;
  for (int i = 1; i < kCoarseSteps; ++i) {
    const double ratio = 1.0 - i * kCoarseStep;
    const Candidate c =
        Evaluate<Q>(x, n, ShrunkParams<Q>(lo, hi, ratio, config.symmetric, config.scale_type));
    if (c.error < best.error) {
      best = c;
      best_ratio = ratio;
    }
  }
  const double center = best_ratio;
  for (int i = -kFineSteps + 1; i < kFineSteps; ++i) {
    const double ratio = center + i * kFineStep;
    if (i == 0 || ratio > 1.0) continue;
    const Candidate c =
        Evaluate<Q>(x, n, ShrunkParams<Q>(lo, hi, ratio, config.symmetric, config.scale_type));
    if (c.error < best.error) best = c;
  }
  if (!config.symmetric) {
    using T = QTraits<Q>;
    const BlockParams base = best.params;
    for (int dz = -kZeroPointRadius; dz <= kZeroPointRadius; ++dz) {
      const int32_t zp = base.zero_point + dz;
      if (dz == 0 || zp < T::kMin || zp > T::kMax) continue;
      const Candidate c = Evaluate<Q>(x, n, {base.scale, zp});
      if (c.error < best.error) best = c;
    }
  }
  return best.params;
}

// Half-quadratic style refinement: alternately round with the current parameters and refit
// scale (and zero point when asymmetric) in closed form by least squares against the weights
// minus a shrunk (l_p, p < 1) residual, which discounts outliers; beta grows every iteration.
template <QType Q>
BlockParams HqqSearch(const float* x, int64_t n, float min_value, float max_value,
                      const BlockConfig& config, std::vector<float>& codes,
                      std::vector<float>& target) {
  using T = QTraits<Q>;
  const BlockParams minmax =
      MinMaxParams<Q>(min_value, max_value, config.symmetric, config.scale_type);
  Candidate best = Evaluate<Q>(x, n, minmax);
  if (best.error == 0) return minmax;
  codes.resize(n);
  target.resize(n);
  double scale = minmax.scale;
  int32_t zp = minmax.zero_point;
  double beta = kHqqBetaStart;
  for (int it = 0; it < kHqqIterations; ++it) {
    const float fscale = static_cast<float>(scale);
    const float lo = static_cast<float>(T::kMin - zp);
    const float hi = static_cast<float>(T::kMax - zp);
    // Round with the current parameters; codes hold q - zp.
    for (int64_t i = 0; i < n; ++i) {
      float v = x[i] / fscale;
      v = v > lo ? v : lo;
      v = v < hi ? v : hi;
      codes[i] = (v + kRoundMagic) - kRoundMagic;
    }
    // Shrink the residual: W_e = sign(r) * max(|r| - |r|^(p-1) / beta, 0); fit x - W_e.
    for (int64_t i = 0; i < n; ++i) {
      const double r = x[i] - scale * codes[i];
      const double a = std::fabs(r);
      const double shrunk = a > 0 ? std::max(a - std::pow(a, kHqqP - 1.0) / beta, 0.0) : 0.0;
      target[i] = static_cast<float>(x[i] - std::copysign(shrunk, r));
    }
    beta *= kHqqBetaGrowth;
    if (config.symmetric) {
      // target ~ scale * c: scale = <t, c> / <c, c>.
      double tc = 0;
      double cc = 0;
      for (int64_t i = 0; i < n; ++i) {
        tc += static_cast<double>(target[i]) * codes[i];
        cc += static_cast<double>(codes[i]) * codes[i];
      }
      if (cc == 0 || tc <= 0) break;
      scale = tc / cc;
    } else {
      // target ~ scale * (q - z) with q = c + zp: regress t on q, then round z and refit scale.
      double sq = 0, st = 0, sqq = 0, sqt = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double q = codes[i] + zp;
        sq += q;
        st += target[i];
        sqq += q * q;
        sqt += q * target[i];
      }
      const double var = sqq - sq * sq / n;
      if (var <= 0) break;
      const double slope = (sqt - sq * st / n) / var;
      if (slope <= 0) break;
      const double intercept = (st - slope * sq) / n;
      const double z =
          std::clamp(std::nearbyint(-intercept / slope), double{T::kMin}, double{T::kMax});
      const int32_t new_zp = static_cast<int32_t>(z);
      double num = 0, den = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double qz = codes[i] + zp - new_zp;
        num += qz * target[i];
        den += qz * qz;
      }
      if (den == 0 || num <= 0) break;
      scale = num / den;
      zp = new_zp;
    }
    scale = FinishScale(scale, config.scale_type);
    const Candidate c = Evaluate<Q>(x, n, {static_cast<float>(scale), zp});
    if (c.error < best.error) best = c;
  }
  return best.params;
}

}  // namespace

template <QType Q>
BlockParams SearchParams(const float* x, int64_t n, float min_value, float max_value,
                         const BlockConfig& config) {
  if (config.search == ScaleSearch::kMse) return MseSearch<Q>(x, n, min_value, max_value, config);
  thread_local std::vector<float> codes;
  thread_local std::vector<float> target;
  return HqqSearch<Q>(x, n, min_value, max_value, config, codes, target);
}

template BlockParams SearchParams<QType::kInt4>(const float*, int64_t, float, float,
                                                const BlockConfig&);
template BlockParams SearchParams<QType::kUint4>(const float*, int64_t, float, float,
                                                 const BlockConfig&);
template BlockParams SearchParams<QType::kInt8>(const float*, int64_t, float, float,
                                                const BlockConfig&);
template BlockParams SearchParams<QType::kUint8>(const float*, int64_t, float, float,
                                                 const BlockConfig&);
template BlockParams SearchParams<QType::kInt16>(const float*, int64_t, float, float,
                                                 const BlockConfig&);
template BlockParams SearchParams<QType::kUint16>(const float*, int64_t, float, float,
                                                  const BlockConfig&);

}  // namespace onnx_opt::quant::internal
