// Deterministic tensor contents for the text format's generator extension
// (`randn(...)`, `uniform(...)`, `arange(...)`, `constant(...)`) and the float16/bfloat16
// conversions the printer and parser share. Every formula uses only IEEE basic operations and
// sqrt, so results are bit-identical across machines and standard libraries; the formulas are
// spelled out in docs/text-format.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/tensor.h"

namespace onnx_opt::textgen {

// SplitMix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15, then a fixed mix.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, 1): the top 53 bits of Next() times 2^-53.
  double NextUnit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// Natural logarithm of a positive finite double from frexp and a fixed atanh series (not libm).
double DeterministicLog(double x);

enum class GenKind { kRandn, kUniform, kArange, kConstant };
struct GenSpec {
  GenKind kind = GenKind::kConstant;
  uint64_t seed = 0;
  double a = 0;  // randn: mean, uniform: low, arange: start, constant: value
  double b = 1;  // randn: std, uniform: high, arange: step
};

// Element values in double, before rounding to the element type.
std::vector<double> GenerateValues(const GenSpec& spec, int64_t count);
// Encodes values as raw_data of `type`: floating types round (double -> float -> float16/bfloat16,
// each to nearest even); integer and bool types need exact in-range integers. Fails for string,
// complex, float8 and float4 types.
absl::StatusOr<std::vector<uint8_t>> EncodeValues(DataType type, std::span<const double> values);

}  // namespace onnx_opt::textgen
