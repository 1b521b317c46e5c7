// Exact conversions between float32 and the 16-bit float formats of ONNX (IEEE float16 and
// bfloat16), as raw uint16_t bit patterns. Widening is exact; narrowing rounds to nearest, ties to
// even, overflows to infinity and keeps NaN a (quiet) NaN of the same sign.
//
// These rely on the default floating-point environment (round to nearest, no flush-to-zero); the
// project never builds with -ffast-math.
#pragma once

#include <bit>
#include <cstdint>

namespace onnx_opt::quant {

// float16 bits -> float32, exact (subnormals, infinities and NaN included).
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1F) {  // infinity or NaN: keep the payload
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // signed zero
    bits = sign;
  } else {  // subnormal: mantissa * 2^-24 is exact in float32
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    bits = sign | std::bit_cast<uint32_t>(magnitude);
  }
  return std::bit_cast<float>(bits);
}

// float32 -> float16 bits, round to nearest even.
inline uint16_t FloatToHalf(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) {  // NaN: force the quiet bit, keep the top payload bits
    return static_cast<uint16_t>(sign | 0x7E00u | ((magnitude >> 13) & 0x3FFu));
  }
  if (magnitude >= 0x47800000u) {  // >= 65536 (or infinity): overflows
    return static_cast<uint16_t>(sign | 0x7C00u);
  }
  if (magnitude < 0x38800000u) {  // below 2^-14: the result is subnormal or zero
    // Adding 0.5 puts the value's multiple of 2^-24 into the low mantissa bits of a float whose
    // exponent is that of 0.5; the FPU's own round-to-nearest-even does the rounding.
    const float shifted = std::bit_cast<float>(magnitude) + 0.5f;
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(shifted) - 0x3F000000u));
  }
  // Normal range: rebias the exponent and round the 13 dropped mantissa bits to nearest even. A
  // carry out of the mantissa correctly bumps the exponent (up to infinity for >= 65520).
  const uint32_t odd = (magnitude >> 13) & 1u;
  const uint32_t rounded = magnitude - ((127u - 15u) << 23) + 0xFFFu + odd;
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

// bfloat16 bits -> float32, exact.
inline float BFloat16ToFloat(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

// float32 -> bfloat16 bits, round to nearest even.
inline uint16_t FloatToBFloat16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {  // NaN: keep it a quiet NaN
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  }
  const uint32_t odd = (bits >> 16) & 1u;
  return static_cast<uint16_t>((bits + 0x7FFFu + odd) >> 16);
}

// Rounds a float32 to the nearest value representable in float16 (as a float32).
inline float RoundToHalf(float f) { return HalfToFloat(FloatToHalf(f)); }
// Rounds a float32 to the nearest value representable in bfloat16 (as a float32).
inline float RoundToBFloat16(float f) { return BFloat16ToFloat(FloatToBFloat16(f)); }

}  // namespace onnx_opt::quant
