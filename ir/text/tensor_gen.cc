#include "ir/text/tensor_gen.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "quant/float16.h"

namespace onnx_opt::textgen {

uint64_t SplitMix64::Next() {
  state_ += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double DeterministicLog(double x) {
  int exponent = 0;
  double m = std::frexp(x, &exponent);  // exact: x = m * 2^exponent, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2;
    exponent -= 1;
  }
  // ln(m) = 2 atanh(s) with s = (m-1)/(m+1), |s| < 0.172: 20 odd terms reach full precision.
  double s = (m - 1) / (m + 1);
  double s2 = s * s;
  double term = s;
  double sum = 0;
  for (int k = 1; k <= 39; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return 2 * sum + exponent * 0.69314718055994530942;
}

std::vector<double> GenerateValues(const GenSpec& spec, int64_t count) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(count));
  switch (spec.kind) {
    case GenKind::kConstant:
      out.assign(static_cast<size_t>(count), spec.a);
      break;
    case GenKind::kArange:
      for (int64_t i = 0; i < count; ++i) out.push_back(spec.a + static_cast<double>(i) * spec.b);
      break;
    case GenKind::kUniform: {
      SplitMix64 rng(spec.seed);
      for (int64_t i = 0; i < count; ++i)
        out.push_back(spec.a + (spec.b - spec.a) * rng.NextUnit());
      break;
    }
    case GenKind::kRandn: {
      // Marsaglia's polar method: each accepted pair (u, v) yields two normal samples.
      SplitMix64 rng(spec.seed);
      while (static_cast<int64_t>(out.size()) < count) {
        double u = 2 * rng.NextUnit() - 1;
        double v = 2 * rng.NextUnit() - 1;
        double s = u * u + v * v;
        if (s >= 1 || s == 0) continue;
        double factor = std::sqrt(-2 * DeterministicLog(s) / s);
        out.push_back(spec.a + spec.b * (u * factor));
        if (static_cast<int64_t>(out.size()) < count) out.push_back(spec.a + spec.b * (v * factor));
      }
      break;
    }
  }
  return out;
}

namespace {

template <typename T>
void Append(std::vector<uint8_t>& out, T v) {
  uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

// The integer value of v when it is an exact integer within [lo, hi].
absl::StatusOr<int64_t> ExactInteger(double v, double lo, double hi, DataType type) {
  if (!(v >= lo && v <= hi) || std::trunc(v) != v) {
    return absl::InvalidArgumentError(
        absl::StrCat("value ", v, " is not representable in ", ToAbsl(DataTypeName(type))));
  }
  return static_cast<int64_t>(v);
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> EncodeValues(DataType type, std::span<const double> values) {
  std::vector<uint8_t> out;
  auto integers = [&](double lo, double hi, auto store) -> absl::Status {
    for (double v : values) {
      absl::StatusOr<int64_t> i = ExactInteger(v, lo, hi, type);
      if (!i.ok()) return i.status();
      store(*i);
    }
    return absl::OkStatus();
  };
  absl::Status status;
  switch (type) {
    case DataType::kFloat:
      for (double v : values) Append(out, static_cast<float>(v));
      break;
    case DataType::kDouble:
      for (double v : values) Append(out, v);
      break;
    case DataType::kFloat16:
      for (double v : values) Append(out, quant::FloatToHalf(static_cast<float>(v)));
      break;
    case DataType::kBFloat16:
      for (double v : values) Append(out, quant::FloatToBFloat16(static_cast<float>(v)));
      break;
    case DataType::kInt8:
      status = integers(-128, 127, [&](int64_t i) { Append(out, static_cast<int8_t>(i)); });
      break;
    case DataType::kUint8:
      status = integers(0, 255, [&](int64_t i) { Append(out, static_cast<uint8_t>(i)); });
      break;
    case DataType::kInt16:
      status = integers(-32768, 32767, [&](int64_t i) { Append(out, static_cast<int16_t>(i)); });
      break;
    case DataType::kUint16:
      status = integers(0, 65535, [&](int64_t i) { Append(out, static_cast<uint16_t>(i)); });
      break;
    case DataType::kInt32:
      status = integers(-2147483648.0, 2147483647.0,
                        [&](int64_t i) { Append(out, static_cast<int32_t>(i)); });
      break;
    case DataType::kUint32:
      status = integers(0, 4294967295.0, [&](int64_t i) { Append(out, static_cast<uint32_t>(i)); });
      break;
    case DataType::kInt64:
      // Doubles hold integers exactly up to 2^53; generated int64 contents stay within that.
      status =
          integers(-9007199254740992.0, 9007199254740992.0, [&](int64_t i) { Append(out, i); });
      break;
    case DataType::kUint64:
      status = integers(0, 9007199254740992.0,
                        [&](int64_t i) { Append(out, static_cast<uint64_t>(i)); });
      break;
    case DataType::kBool:
      status = integers(0, 1, [&](int64_t i) { Append(out, static_cast<uint8_t>(i)); });
      break;
    case DataType::kInt4:
    case DataType::kUint4: {
      bool is_signed = type == DataType::kInt4;
      std::vector<uint8_t> nibbles;
      status = integers(is_signed ? -8 : 0, is_signed ? 7 : 15,
                        [&](int64_t i) { nibbles.push_back(static_cast<uint8_t>(i & 0xF)); });
      for (size_t i = 0; i < nibbles.size(); i += 2) {
        uint8_t high = i + 1 < nibbles.size() ? nibbles[i + 1] : 0;
        out.push_back(static_cast<uint8_t>(nibbles[i] | (high << 4)));
      }
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("numeric contents are not supported for ",
                                                     ToAbsl(DataTypeName(type)),
                                                     " (use hex\"...\")"));
  }
  if (!status.ok()) return status;
  return out;
}

}  // namespace onnx_opt::textgen
