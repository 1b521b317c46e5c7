// Error-minimising choice of a block's scale and zero point (ScaleSearch::kMse and kHqq).
//
// Both searches rank candidates (scales already rounded to the stored type) by a fast float
// estimate of their squared error, then compare the winner with the min/max parameters by the
// exact error (division, round half to even, saturation) and keep the better, so their error is
// never above kMinMax's. Everything is deterministic: fixed candidate lists, fixed iteration
// counts, first best wins ties.
#include "quant/scale_search.h"

#include <algorithm>
#include <cmath>

#include "quant/block_scales.h"
#include "quant/cpu_features.h"

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

// Squared error of one candidate, for ranking only: multiplies by the reciprocal instead of
// dividing and sums in float, so it may differ from the exact error in the last bits; the winner
// is re-checked exactly against min/max at the end. lo/hi bound code - zero_point. Eight fixed
// partial sums (not the compiler's reduction) keep the result identical with and without AVX2.
template <int kUnused = 0>
inline float CandidateErrorImpl(const float* x, int64_t n, float inv, float scale, float lo,
                                float hi) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  auto error = [&](float xi) {
    float v = xi * inv;
    v = v > lo ? v : lo;
    v = v < hi ? v : hi;
    const float r = (v + kRoundMagic) - kRoundMagic;
    const float e = r * scale - xi;
    return e * e;
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
#pragma omp simd
    for (int k = 0; k < 8; ++k) acc[k] += error(x[i + k]);
  }
  for (int k = 0; i < n; ++i, ++k) acc[k] += error(x[i]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

float CandidateErrorDefault(const float* x, int64_t n, float inv, float scale, float lo, float hi) {
  return CandidateErrorImpl(x, n, inv, scale, lo, hi);
}

// The same loop compiled for AVX2 (twice the vector width), picked at run time when available.
__attribute__((target("avx2"))) float CandidateErrorAvx2(const float* x, int64_t n, float inv,
                                                         float scale, float lo, float hi) {
  return CandidateErrorImpl<1>(x, n, inv, scale, lo, hi);
}

using CandidateErrorFn = float (*)(const float*, int64_t, float, float, float, float);
// Static initialisers may run before libgcc's own CPU detection: initialise it explicitly.
bool HasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

const CandidateErrorFn kCandidateError = HasAvx2() ? CandidateErrorAvx2 : CandidateErrorDefault;

// Squared errors of many candidates at once (for ranking, like CandidateErrorImpl): eight
// candidates share one vector register of accumulators while the block's values stream by, so
// there is no horizontal reduction per candidate. Arrays hold a multiple of 8 entries.
template <int kUnused = 0>
inline void CandidateErrorsImpl(const float* x, int64_t n, int count, const float* inv,
                                const float* scale, const float* lo, const float* hi, float* err) {
  for (int c0 = 0; c0 < count; c0 += 8) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = 0; i < n; ++i) {
      const float xi = x[i];
#pragma omp simd
      for (int k = 0; k < 8; ++k) {
        float v = xi * inv[c0 + k];
        v = v > lo[c0 + k] ? v : lo[c0 + k];
        v = v < hi[c0 + k] ? v : hi[c0 + k];
        const float r = (v + kRoundMagic) - kRoundMagic;
        const float e = r * scale[c0 + k] - xi;
        acc[k] += e * e;
      }
    }
    for (int k = 0; k < 8; ++k) err[c0 + k] = acc[k];
  }
}

void CandidateErrorsDefault(const float* x, int64_t n, int count, const float* inv,
                            const float* scale, const float* lo, const float* hi, float* err) {
  CandidateErrorsImpl(x, n, count, inv, scale, lo, hi, err);
}

__attribute__((target("avx2"))) void CandidateErrorsAvx2(const float* x, int64_t n, int count,
                                                         const float* inv, const float* scale,
                                                         const float* lo, const float* hi,
                                                         float* err) {
  CandidateErrorsImpl<1>(x, n, count, inv, scale, lo, hi, err);
}

using CandidateErrorsFn = void (*)(const float*, int64_t, int, const float*, const float*,
                                   const float*, const float*, float*);
const CandidateErrorsFn kCandidateErrors = HasAvx2() ? CandidateErrorsAvx2 : CandidateErrorsDefault;

// A batch of candidate parameters, padded to a multiple of 8 by repeating the last one.
template <QType Q>
class CandidateBatch {
 public:
  void Add(BlockParams p) {
    params_[count_] = p;
    scale_[count_] = p.scale;
    zero_point_[count_] = p.zero_point;
    ++count_;
  }
  int size() const { return count_; }
  // Index of the lowest error (first one on ties).
  int Best(const float* x, int64_t n) {
    int padded = count_;
    while (padded % 8 != 0) {
      scale_[padded] = scale_[count_ - 1];
      zero_point_[padded] = zero_point_[count_ - 1];
      ++padded;
    }
    // Derived arrays in vectorisable loops rather than per Add.
    for (int c = 0; c < padded; ++c) {
      inv_[c] = 1.0f / scale_[c];
      lo_[c] = static_cast<float>(QTraits<Q>::kMin - zero_point_[c]);
      hi_[c] = static_cast<float>(QTraits<Q>::kMax - zero_point_[c]);
    }
    kCandidateErrors(x, n, padded, inv_, scale_, lo_, hi_, err_);
    int best = 0;
    for (int c = 1; c < count_; ++c) {
      if (err_[c] < err_[best]) best = c;
    }
    return best;
  }
  BlockParams params(int c) const { return params_[c]; }
  float error(int c) const { return err_[c]; }
  void Clear() { count_ = 0; }

 private:
  static constexpr int kCapacity = 128;
  int count_ = 0;
  BlockParams params_[kCapacity];
  alignas(32) int32_t zero_point_[kCapacity];
  alignas(32) float inv_[kCapacity];
  alignas(32) float scale_[kCapacity];
  alignas(32) float lo_[kCapacity];
  alignas(32) float hi_[kCapacity];
  alignas(32) float err_[kCapacity];
};

struct Candidate {
  BlockParams params;
  double error = 0;
};

template <QType Q>
Candidate Evaluate(const float* x, int64_t n, BlockParams p) {
  using T = QTraits<Q>;
  return {p,
          kCandidateError(x, n, 1.0f / p.scale, p.scale, static_cast<float>(T::kMin - p.zero_point),
                          static_cast<float>(T::kMax - p.zero_point))};
}

// The better of `best` and min/max by the exact error (min/max wins ties).
template <QType Q>
BlockParams NoWorseThanMinMax(const float* x, int64_t n, BlockParams best, BlockParams minmax) {
  const double e_best = BlockSquaredError<Q>(x, n, best.scale, best.zero_point);
  const double e_minmax = BlockSquaredError<Q>(x, n, minmax.scale, minmax.zero_point);
  return e_best < e_minmax ? best : minmax;
}

template <QType Q>
BlockParams MseSearch(const float* x, int64_t n, float min_value, float max_value,
                      const BlockConfig& config) {
  using T = QTraits<Q>;
  const BlockParams minmax =
      MinMaxParams<Q>(min_value, max_value, config.symmetric, config.scale_type);
  double lo = std::min(double{min_value}, 0.0);
  double hi = std::max(double{max_value}, 0.0);
  if (hi == lo) return minmax;  // all zeros: exact already
  // Shrinking the range by r scales the min/max scale by r; the zero point, -lo / scale shifted
  // by qmin, does not depend on r (it is re-optimised below).
  const double base_scale =
      config.symmetric ? std::max(-lo, hi) / T::kSymmetricRange : (hi - lo) / (T::kMax - T::kMin);
  const int32_t zp = minmax.zero_point;
  CandidateBatch<Q> batch;
  for (int i = 0; i < kCoarseSteps; ++i) {
    batch.Add({FinishScale(base_scale * (1.0 - i * kCoarseStep), config.scale_type), zp});
  }
  const int coarse = batch.Best(x, n);
  const double center = 1.0 - coarse * kCoarseStep;
  BlockParams best = batch.params(coarse);
  batch.Clear();
  batch.Add(best);
  for (int i = -kFineSteps + 1; i < kFineSteps; ++i) {
    const double ratio = center + i * kFineStep;
    if (i == 0 || ratio > 1.0) continue;
    batch.Add({FinishScale(base_scale * ratio, config.scale_type), zp});
  }
  best = batch.params(batch.Best(x, n));
  if (!config.symmetric) {
    batch.Clear();
    for (int dz = -kZeroPointRadius; dz <= kZeroPointRadius; ++dz) {
      const int32_t z = best.zero_point + dz;
      if (z >= T::kMin && z <= T::kMax) batch.Add({best.scale, z});
    }
    best = batch.params(batch.Best(x, n));
  }
  return NoWorseThanMinMax<Q>(x, n, best, minmax);
}

// Half-quadratic style refinement: alternately round with the current parameters and refit
// scale (and zero point when asymmetric) in closed form by least squares against the weights
// minus a shrunk (l_p, p = 1/2) residual, which discounts outliers; beta grows every iteration.
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
      // Generalised soft threshold for p = 1/2: |r|^(p-1) = 1 / sqrt(|r|).
      const double shrunk = a > 0 ? std::max(a - 1.0 / (beta * std::sqrt(a)), 0.0) : 0.0;
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
      if (!(cc > 0) || !(tc > 0)) break;  // also stops on NaN
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
      if (!(var > 0)) break;
      const double slope = (sqt - sq * st / n) / var;
      if (!(slope > 0)) break;
      const double intercept = (st - slope * sq) / n;
      if (!std::isfinite(intercept)) break;
      const double z =
          std::clamp(std::nearbyint(-intercept / slope), double{T::kMin}, double{T::kMax});
      const int32_t new_zp = static_cast<int32_t>(z);
      double num = 0, den = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double qz = codes[i] + zp - new_zp;
        num += qz * target[i];
        den += qz * qz;
      }
      if (!(den > 0) || !(num > 0)) break;
      scale = num / den;
      zp = new_zp;
    }
    scale = FinishScale(scale, config.scale_type);
    const Candidate c = Evaluate<Q>(x, n, {static_cast<float>(scale), zp});
    if (c.error < best.error) best = c;
  }
  return NoWorseThanMinMax<Q>(x, n, best.params, minmax);
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
