#include "evaluator/kernel.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "ir/unaligned.h"
#include "quant/float16.h"

namespace onnx_opt::eval {

absl::StatusOr<const Tensor*> KernelContext::Required(size_t i) const {
  const Tensor* t = input(i);
  if (t == nullptr) return Invalid(absl::StrCat("input ", i, " is missing"));
  return t;
}

int64_t KernelContext::IntAttr(std::string_view name, int64_t fallback) const {
  return node_.GetInt(name).value_or(fallback);
}

float KernelContext::FloatAttr(std::string_view name, float fallback) const {
  return node_.GetFloat(name).value_or(fallback);
}

absl::Status KernelContext::Unsupported(std::string_view why) const {
  return absl::UnimplementedError(absl::StrCat(node_.DebugName(), ": ", ToAbsl(why)));
}

absl::Status KernelContext::Invalid(std::string_view why) const {
  return absl::InvalidArgumentError(absl::StrCat(node_.DebugName(), ": ", ToAbsl(why)));
}

absl::Status KernelContext::CheckOutput(DataType type, std::span<const int64_t> dims) const {
  std::optional<int64_t> count = ElementCount(dims);
  if (!count) {
    return Invalid(absl::StrCat("output shape [", absl::StrJoin(dims, ","),
                                "] has negative dims or too many elements"));
  }
  std::optional<int64_t> bytes = RawByteSize(type, *count);
  if (type == DataType::kString) bytes = *count;  // strings only move; count them as bytes
  if (!bytes || *bytes > limits_.max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(node_.DebugName(), ": output of ", *count,
                                                     " elements is over max-bytes ",
                                                     limits_.max_bytes));
  }
  return absl::OkStatus();
}

absl::Status KernelContext::CheckDecodable(const Tensor& t) const {
  if (t.num_elements() > limits_.max_bytes / 2) {
    return absl::ResourceExhaustedError(absl::StrCat(
        node_.DebugName(), ": input of ", t.num_elements(), " elements is too big to evaluate"));
  }
  return absl::OkStatus();
}

void KernelContext::SetOutput(size_t i, TensorPtr t) {
  if (outputs_.size() <= i) outputs_.resize(i + 1);
  outputs_[i] = std::move(t);
}

bool IsReal(DataType t) {
  return t == DataType::kFloat || t == DataType::kDouble || t == DataType::kFloat16 ||
         t == DataType::kBFloat16;
}

bool IsInteger(DataType t) {
  switch (t) {
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
    case DataType::kBool:
      return true;
    default:
      return false;
  }
}

int ElementBytes(DataType t) {
  const int bits = BitsPerElement(t);
  return bits % 8 == 0 ? bits / 8 : 0;
}

namespace {

// double -> float with IEEE overflow to infinity (a plain cast of an out-of-range double is UB).
float NarrowToFloat(double d) {
  constexpr double kOverflow = 3.4028235677973366e38;  // FLT_MAX + half an ulp
  if (std::isnan(d)) return std::numeric_limits<float>::quiet_NaN();
  if (d >= kOverflow) return std::numeric_limits<float>::infinity();
  if (d <= -kOverflow) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(d);
}

}  // namespace

std::vector<double> ReadReals(const Tensor& t) {
  const int64_t n = t.num_elements();
  std::vector<double> out(static_cast<size_t>(n));
  const uint8_t* p = t.bytes().data();
  const DataType type = t.type();
  if (!IsReal(type)) {
    std::vector<int64_t> ints = ReadInts(t);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(ints[i]);
    return out;
  }
  for (int64_t i = 0; i < n; ++i) {
    switch (type) {
      case DataType::kFloat:
        out[i] = LoadUnaligned<float>(p + 4 * i);
        break;
      case DataType::kDouble:
        out[i] = LoadUnaligned<double>(p + 8 * i);
        break;
      case DataType::kFloat16:
        out[i] = quant::HalfToFloat(LoadUnaligned<uint16_t>(p + 2 * i));
        break;
      default:
        out[i] = quant::BFloat16ToFloat(LoadUnaligned<uint16_t>(p + 2 * i));
        break;
    }
  }
  return out;
}

std::vector<int64_t> ReadInts(const Tensor& t) {
  const int64_t n = t.num_elements();
  std::vector<int64_t> out(static_cast<size_t>(n));
  const uint8_t* p = t.bytes().data();
  for (int64_t i = 0; i < n; ++i) {
    switch (t.type()) {
      case DataType::kInt8:
        out[i] = LoadUnaligned<int8_t>(p + i);
        break;
      case DataType::kUint8:
        out[i] = LoadUnaligned<uint8_t>(p + i);
        break;
      case DataType::kBool:
        out[i] = LoadUnaligned<uint8_t>(p + i) != 0;
        break;
      case DataType::kInt16:
        out[i] = LoadUnaligned<int16_t>(p + 2 * i);
        break;
      case DataType::kUint16:
        out[i] = LoadUnaligned<uint16_t>(p + 2 * i);
        break;
      case DataType::kInt32:
        out[i] = LoadUnaligned<int32_t>(p + 4 * i);
        break;
      case DataType::kUint32:
        out[i] = LoadUnaligned<uint32_t>(p + 4 * i);
        break;
      default:
        out[i] = LoadUnaligned<int64_t>(p + 8 * i);
        break;  // int64 (and uint64 bit patterns)
    }
  }
  return out;
}

TensorPtr MakeReal(DataType type, std::vector<int64_t> dims, std::span<const double> values) {
  if (!IsReal(type)) {
    std::vector<int64_t> ints(values.size());
    // Saturating (a plain cast of NaN or an out-of-range double is undefined behaviour); kernels
    // that can produce such values refuse them before getting here.
    for (size_t i = 0; i < values.size(); ++i) {
      const double v = values[i];
      ints[i] = std::isnan(v)                 ? 0
                : v >= 9223372036854775807.0  ? std::numeric_limits<int64_t>::max()
                : v <= -9223372036854775808.0 ? std::numeric_limits<int64_t>::min()
                                              : static_cast<int64_t>(v);
    }
    return MakeInt(type, std::move(dims), ints);
  }
  const int size = ElementBytes(type);
  std::vector<uint8_t> bytes(values.size() * size);
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t* p = bytes.data() + i * size;
    switch (type) {
      case DataType::kFloat:
        StoreUnaligned<float>(p, NarrowToFloat(values[i]));
        break;
      case DataType::kDouble:
        StoreUnaligned<double>(p, values[i]);
        break;
      case DataType::kFloat16:
        StoreUnaligned(p, quant::FloatToHalf(NarrowToFloat(values[i])));
        break;
      default:
        StoreUnaligned(p, quant::FloatToBFloat16(NarrowToFloat(values[i])));
        break;
    }
  }
  return std::make_shared<Tensor>(type, std::move(dims), Buffer::FromVector(std::move(bytes)));
}

TensorPtr MakeInt(DataType type, std::vector<int64_t> dims, std::span<const int64_t> values) {
  if (IsReal(type)) {
    std::vector<double> reals(values.begin(), values.end());
    return MakeReal(type, std::move(dims), reals);
  }
  const int size = ElementBytes(type);
  std::vector<uint8_t> bytes(values.size() * size);
  for (size_t i = 0; i < values.size(); ++i) {
    // Two's-complement truncation to the type's width (little-endian: the low bytes).
    const uint64_t v =
        type == DataType::kBool ? (values[i] != 0 ? 1 : 0) : static_cast<uint64_t>(values[i]);
    std::memcpy(bytes.data() + i * size, &v, size);
  }
  return std::make_shared<Tensor>(type, std::move(dims), Buffer::FromVector(std::move(bytes)));
}

TensorPtr Reshaped(const TensorPtr& t, std::vector<int64_t> dims) {
  if (t->type() == DataType::kString) {
    return std::make_shared<Tensor>(Tensor::FromStrings(std::move(dims), t->strings()));
  }
  return std::make_shared<Tensor>(t->type(), std::move(dims), t->buffer());
}

std::optional<int64_t> ElementCount(std::span<const int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

std::optional<std::vector<int64_t>> BroadcastShapes(std::span<const int64_t> a,
                                                    std::span<const int64_t> b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::optional<int64_t> NormalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

absl::StatusOr<std::vector<int64_t>> ReadIndexValues(const KernelContext& ctx, const Tensor& t,
                                                     std::string_view what) {
  if (t.type() != DataType::kInt64 && t.type() != DataType::kInt32) {
    return ctx.Invalid(absl::StrCat(ToAbsl(what), " must be int32 or int64"));
  }
  if (t.num_elements() > 4096) return ctx.Unsupported(absl::StrCat(ToAbsl(what), " is too long"));
  return ReadInts(t);
}

}  // namespace onnx_opt::eval
