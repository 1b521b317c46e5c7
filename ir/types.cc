#include "ir/types.h"

#include <array>
#include <limits>

namespace onnx_opt {
namespace {

struct TypeInfo {
  DataType type;
  std::string_view name;
  int bits;
};

constexpr std::array<TypeInfo, 23> kTypes = {{
    {DataType::kFloat, "float", 32},
    {DataType::kUint8, "uint8", 8},
    {DataType::kInt8, "int8", 8},
    {DataType::kUint16, "uint16", 16},
    {DataType::kInt16, "int16", 16},
    {DataType::kInt32, "int32", 32},
    {DataType::kInt64, "int64", 64},
    {DataType::kString, "string", 0},
    {DataType::kBool, "bool", 8},
    {DataType::kFloat16, "float16", 16},
    {DataType::kDouble, "double", 64},
    {DataType::kUint32, "uint32", 32},
    {DataType::kUint64, "uint64", 64},
    {DataType::kComplex64, "complex64", 64},
    {DataType::kComplex128, "complex128", 128},
    {DataType::kBFloat16, "bfloat16", 16},
    {DataType::kFloat8E4M3FN, "float8e4m3fn", 8},
    {DataType::kFloat8E4M3FNUZ, "float8e4m3fnuz", 8},
    {DataType::kFloat8E5M2, "float8e5m2", 8},
    {DataType::kFloat8E5M2FNUZ, "float8e5m2fnuz", 8},
    {DataType::kUint4, "uint4", 4},
    {DataType::kInt4, "int4", 4},
    {DataType::kFloat4E2M1, "float4e2m1", 4},
}};

const TypeInfo* Find(DataType type) {
  for (const auto& info : kTypes) {
    if (info.type == type) return &info;
  }
  return nullptr;
}

}  // namespace

int BitsPerElement(DataType type) {
  const TypeInfo* info = Find(type);
  return info ? info->bits : 0;
}

std::optional<int64_t> RawByteSize(DataType type, int64_t count) {
  int bits = BitsPerElement(type);
  if (bits == 0 || count < 0) return std::nullopt;
  if (bits == 4) return count / 2 + count % 2;
  int64_t bytes_per = bits / 8;
  if (count > std::numeric_limits<int64_t>::max() / bytes_per) return std::nullopt;
  return count * bytes_per;
}

std::string_view DataTypeName(DataType type) {
  const TypeInfo* info = Find(type);
  return info ? info->name : std::string_view("undefined");
}

std::optional<DataType> DataTypeFromName(std::string_view name) {
  for (const auto& info : kTypes) {
    if (info.name == name) return info.type;
  }
  return std::nullopt;
}

bool IsKnownDataType(int32_t value) { return value >= 1 && value <= 23; }

bool IsFloatingPoint(DataType type) {
  switch (type) {
    case DataType::kFloat:
    case DataType::kFloat16:
    case DataType::kBFloat16:
    case DataType::kDouble:
      return true;
    default:
      return false;
  }
}

bool ValueType::has_static_shape() const { return static_dims().has_value(); }

std::optional<std::vector<int64_t>> ValueType::static_dims() const {
  if (!is_tensor() || !shape) return std::nullopt;
  std::vector<int64_t> dims;
  dims.reserve(shape->size());
  for (const Dim& d : *shape) {
    if (!d.value) return std::nullopt;
    dims.push_back(*d.value);
  }
  return dims;
}

}  // namespace onnx_opt
