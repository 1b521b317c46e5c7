#include "ir/onnx_tensor_data.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"

namespace onnx_opt {
namespace {

// Appends each element's low `width` bytes (little-endian) to `out`.
template <typename T>
void AppendLowBytes(const google::protobuf::RepeatedField<T>& values, size_t width,
                    std::vector<uint8_t>& out) {
  out.reserve(out.size() + values.size() * width);
  for (T value : values) {
    uint64_t bits = static_cast<uint64_t>(value);
    for (size_t b = 0; b < width; ++b) out.push_back(static_cast<uint8_t>(bits >> (8 * b)));
  }
}

template <typename T>
std::shared_ptr<const Buffer> CopyField(const google::protobuf::RepeatedField<T>& values) {
  return Buffer::Copy({reinterpret_cast<const uint8_t*>(values.data()),
                       static_cast<size_t>(values.size()) * sizeof(T)});
}

// The typed field ONNX stores a data type's elements in, when not in raw_data.
enum class TypedField { kNone, kFloat, kInt32, kInt64, kDouble, kUint64 };

TypedField FieldFor(DataType type) {
  switch (type) {
    case DataType::kFloat:
    case DataType::kComplex64:
      return TypedField::kFloat;
    case DataType::kInt64:
      return TypedField::kInt64;
    case DataType::kDouble:
    case DataType::kComplex128:
      return TypedField::kDouble;
    case DataType::kUint32:
    case DataType::kUint64:
      return TypedField::kUint64;
    case DataType::kString:
    case DataType::kUndefined:
      return TypedField::kNone;
    default:
      return IsKnownDataType(static_cast<int32_t>(type)) ? TypedField::kInt32 : TypedField::kNone;
  }
}


}  // namespace

absl::StatusOr<std::shared_ptr<const Buffer>> TypedFieldsToBuffer(const onnx::TensorProto& t,
                                                                  DataType type) {
  const TypedField field = FieldFor(type);
  struct Present {
    TypedField field;
    const char* name;
    int size;
  };
  for (const Present& p : {Present{TypedField::kFloat, "float_data", t.float_data_size()},
                           Present{TypedField::kInt32, "int32_data", t.int32_data_size()},
                           Present{TypedField::kInt64, "int64_data", t.int64_data_size()},
                           Present{TypedField::kDouble, "double_data", t.double_data_size()},
                           Present{TypedField::kUint64, "uint64_data", t.uint64_data_size()}}) {
    if (p.size > 0 && p.field != field) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", t.name(), "': data in ", p.name, " does not fit data type ",
                       ToAbsl(DataTypeName(type)), " (", static_cast<int>(type), ")"));
    }
  }
  switch (field) {
    case TypedField::kFloat:
      return CopyField(t.float_data());
    case TypedField::kInt64:
      return CopyField(t.int64_data());
    case TypedField::kDouble:
      return CopyField(t.double_data());
    case TypedField::kUint64: {
      if (type == DataType::kUint64) return CopyField(t.uint64_data());
      std::vector<uint8_t> bytes;
      AppendLowBytes(t.uint64_data(), 4, bytes);
      return Buffer::FromVector(std::move(bytes));
    }
    case TypedField::kInt32: {
      if (type == DataType::kInt32) return CopyField(t.int32_data());
      // 16-bit types keep one element per int32; 8-bit types one element; 4-bit types one packed
      // byte (two elements) per int32.
      const int bits = BitsPerElement(type);
      std::vector<uint8_t> bytes;
      AppendLowBytes(t.int32_data(), bits == 16 ? 2 : 1, bytes);
      return Buffer::FromVector(std::move(bytes));
    }
    case TypedField::kNone:
      break;
  }
  return Buffer::Empty();
}

namespace {

template <typename T>
void AppendValues(std::span<const uint8_t> bytes, google::protobuf::RepeatedField<T>* out) {
  const size_t n = bytes.size() / sizeof(T);
  out->Resize(static_cast<int>(n), T());
  if (n > 0) std::memcpy(out->mutable_data(), bytes.data(), n * sizeof(T));
}

// Each `width`-byte little-endian element of `bytes` as one field value, sign-extended when
// `is_signed`.
template <typename T>
void AppendNarrow(std::span<const uint8_t> bytes, size_t width, bool is_signed,
                  google::protobuf::RepeatedField<T>* out) {
  out->Reserve(static_cast<int>(bytes.size() / width));
  for (size_t i = 0; i + width <= bytes.size(); i += width) {
    uint64_t bits = 0;
    for (size_t b = 0; b < width; ++b) bits |= uint64_t{bytes[i + b]} << (8 * b);
    if (is_signed && (bits >> (8 * width - 1) & 1) != 0) bits |= ~uint64_t{0} << (8 * width);
    out->Add(static_cast<T>(bits));
  }
}

}  // namespace

absl::Status WriteTypedFields(const Tensor& tensor, onnx::TensorProto* out) {
  const DataType type = tensor.type();
  const std::span<const uint8_t> bytes = tensor.bytes();
  switch (FieldFor(type)) {
    case TypedField::kFloat:
      AppendValues(bytes, out->mutable_float_data());
      return absl::OkStatus();
    case TypedField::kInt64:
      AppendValues(bytes, out->mutable_int64_data());
      return absl::OkStatus();
    case TypedField::kDouble:
      AppendValues(bytes, out->mutable_double_data());
      return absl::OkStatus();
    case TypedField::kUint64:
      if (type == DataType::kUint64) {
        AppendValues(bytes, out->mutable_uint64_data());
      } else {
        AppendNarrow(bytes, 4, false, out->mutable_uint64_data());
      }
      return absl::OkStatus();
    case TypedField::kInt32: {
      if (type == DataType::kInt32) {
        AppendValues(bytes, out->mutable_int32_data());
        return absl::OkStatus();
      }
      const bool is_signed = type == DataType::kInt8 || type == DataType::kInt16;
      AppendNarrow(bytes, BitsPerElement(type) == 16 ? 2 : 1, is_signed, out->mutable_int32_data());
      return absl::OkStatus();
    }
    case TypedField::kNone:
      break;
  }
  if (bytes.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("tensor '", tensor.name, "': data type ",
                                          ToAbsl(DataTypeName(type)), " has no typed field"));
}

}  // namespace onnx_opt
