// Internal: the scale maths of blockwise quantization (code ranges, scales and zero points from a
// block's range, rounding to the scale's float type, a block's squared error), shared by the
// kernels (block_kernels.h) and the searches (scale_search.h). Not part of the public API.
#pragma once

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>

#include "quant/float16.h"
#include "quant/types.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant::internal {

template <QType Q>
struct QTraits {
  static constexpr int32_t kMin = QTypeMin(Q);
  static constexpr int32_t kMax = QTypeMax(Q);
  static constexpr bool kSigned = QTypeIsSigned(Q);
  // Zero point of symmetric quantization: 0 for signed types, the midpoint for unsigned ones.
  static constexpr int32_t kSymmetricZeroPoint = kSigned ? 0 : (kMax + 1) / 2;
  // Largest code distance from the symmetric zero point usable on both sides (7, 127, 32767).
  static constexpr int32_t kSymmetricRange = kMax - kSymmetricZeroPoint;
  // One value per element in memory (4-bit types use a byte per code before packing).
  using Storage =
      std::conditional_t<QTypeBits(Q) == 16, std::conditional_t<kSigned, int16_t, uint16_t>,
                         std::conditional_t<kSigned, int8_t, uint8_t>>;
};

// Adding and subtracting 1.5 * 2^23 leaves an integer rounded by the FPU's round-to-nearest-even,
// for |v| <= 2^22 (codes are clamped to 16 bits first). Vectorises, unlike nearbyint on SSE2.
inline constexpr float kRoundMagic = 12582912.0f;

struct BlockParams {
  float scale = 1;
  int32_t zero_point = 0;
};

// Rounds a positive scale to `type` and clamps it into that type's positive normal range, so it
// is never zero, denormal or infinite.
inline float FinishScale(double scale, FloatType type) {
  switch (type) {
    case FloatType::kFloat16: {
      const double clamped = std::clamp(scale, 0x1p-14, 65504.0);
      return RoundToHalf(static_cast<float>(clamped));
    }
    case FloatType::kBFloat16: {
      // Largest finite bfloat16 is 0x7F7F.
      const double clamped = std::clamp(scale, static_cast<double>(FLT_MIN),
                                        static_cast<double>(BFloat16ToFloat(0x7F7F)));
      return RoundToBFloat16(static_cast<float>(clamped));
    }
    case FloatType::kFloat32:
      break;
  }
  return static_cast<float>(
      std::clamp(scale, static_cast<double>(FLT_MIN), static_cast<double>(FLT_MAX)));
}

// Zero point for an asymmetric range [lo, hi] (lo <= 0 <= hi) and a chosen scale.
template <QType Q>
inline int32_t AsymmetricZeroPoint(double lo, float scale) {
  using T = QTraits<Q>;
  const double zp = std::nearbyint(T::kMin - lo / scale);
  return static_cast<int32_t>(std::clamp(zp, double{T::kMin}, double{T::kMax}));
}

// Scale and zero point from a block's range (see weight_quantizer.h for the rules).
template <QType Q>
inline BlockParams MinMaxParams(float min_value, float max_value, bool symmetric,
                                FloatType scale_type) {
  using T = QTraits<Q>;
  // NaN/infinite weights are rejected by the caller afterwards; keep the arithmetic defined.
  if (!std::isfinite(min_value) || !std::isfinite(max_value)) return {1.0f, T::kSymmetricZeroPoint};
  if (symmetric) {
    const double amax = std::max(std::fabs(double{min_value}), std::fabs(double{max_value}));
    if (amax == 0) return {1.0f, T::kSymmetricZeroPoint};
    return {FinishScale(amax / T::kSymmetricRange, scale_type), T::kSymmetricZeroPoint};
  }
  const double lo = std::min(double{min_value}, 0.0);
  const double hi = std::max(double{max_value}, 0.0);
  if (hi == lo) return {1.0f, std::clamp(0, T::kMin, T::kMax)};
  const float scale = FinishScale((hi - lo) / (T::kMax - T::kMin), scale_type);
  return {scale, AsymmetricZeroPoint<Q>(lo, scale)};
}

// A float rounded to the weight's own type, branch-free so that loops vectorise. Equal to
// RoundToHalf / RoundToBFloat16 for every finite input (tested against them).
template <FloatType V>
inline float RoundToType(float v) {
  if constexpr (V == FloatType::kFloat32) {
    return v;
  } else if constexpr (V == FloatType::kBFloat16) {
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    return std::bit_cast<float>((bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u);
  } else {
    // Adding m = +-2^(e+13), e = max(exponent of v, -14), leaves exactly the bits float16 keeps
    // (10 below the leading one; multiples of 2^-24 in the subnormal range) and lets the FPU
    // round them to nearest even; subtracting m again is exact.
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    // Beyond 2^16 everything overflows to infinity anyway; the clamp keeps m finite.
    const uint32_t exponent =
        std::clamp(bits & 0x7F800000u, uint32_t{127 - 14} << 23, uint32_t{127 + 16} << 23);
    const float m = std::bit_cast<float>((bits & 0x80000000u) | (exponent + (13u << 23)));
    // (v + m) - m is +0 where v rounds to zero from below: put the sign back.
    const float r =
        std::bit_cast<float>(std::bit_cast<uint32_t>((v + m) - m) | (bits & 0x80000000u));
    return std::fabs(r) > 65504.0f ? std::copysign(std::numeric_limits<float>::infinity(), r) : r;
  }
}

// Squared error of quantizing n contiguous values with p (no codes written). Used by searches.
template <QType Q>
inline double BlockSquaredError(const float* x, int64_t n, float scale, int32_t zp) {
  using T = QTraits<Q>;
  const float lo = static_cast<float>(T::kMin - zp);
  const float hi = static_cast<float>(T::kMax - zp);
  double sse = 0;
#pragma omp simd reduction(+ : sse)
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] / scale;
    v = v > lo ? v : lo;
    v = v < hi ? v : hi;
    const float r = (v + kRoundMagic) - kRoundMagic;
    const float e = r * scale - x[i];
    sse += static_cast<double>(e) * e;
  }
  return sse;
}

struct BlockConfig {
  bool symmetric = true;
  ScaleSearch search = ScaleSearch::kMinMax;
  FloatType scale_type = FloatType::kFloat32;
  // Dequantized values are rounded to this type before the error is measured.
  FloatType error_type = FloatType::kFloat32;
};

}  // namespace onnx_opt::quant::internal
