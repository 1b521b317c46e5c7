// Element types, dimensions and value types of the onnx-opt IR.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onnx_opt {

// Numbering matches onnx.TensorProto.DataType so conversion is a cast. 1.12's proto stops at 16;
// newer types (float8, int4, uint4, float4) are carried as plain numbers.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
  kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20,
  kUint4 = 21,
  kInt4 = 22,
  kFloat4E2M1 = 23,
};

// Bits one element occupies in raw_data (4 for int4/uint4/float4, 0 for string/undefined).
int BitsPerElement(DataType type);
// Bytes `count` elements occupy in raw_data; 4-bit types pack two per byte, rounded up.
// Returns nullopt on overflow or for string/undefined types.
std::optional<int64_t> RawByteSize(DataType type, int64_t count);
// Name as used by the ONNX text syntax ("float", "int4", "bfloat16", ...).
std::string_view DataTypeName(DataType type);
std::optional<DataType> DataTypeFromName(std::string_view name);
// True for the known numbering range 1..23.
bool IsKnownDataType(int32_t value);
bool IsFloatingPoint(DataType type);

// One dimension of a shape: a fixed size, a symbolic name, or unknown (neither).
struct Dim {
  std::optional<int64_t> value;
  std::string param;
  std::string denotation;

  static Dim Fixed(int64_t v) { return Dim{v, {}, {}}; }
  static Dim Symbolic(std::string name) { return Dim{std::nullopt, std::move(name), {}}; }
  bool is_fixed() const { return value.has_value(); }
  friend bool operator==(const Dim&, const Dim&) = default;
};

// Type of a Value. Tensor types are modelled; sequence/map/optional/sparse types are kept as the
// serialized onnx.TypeProto in `opaque_proto` so they survive a round trip untouched.
struct ValueType {
  enum class Kind { kNone, kTensor, kOpaque };
  Kind kind = Kind::kNone;
  DataType elem_type = DataType::kUndefined;
  std::optional<std::vector<Dim>> shape;  // nullopt: rank unknown
  std::string denotation;
  std::string opaque_proto;

  static ValueType Tensor(DataType elem, std::optional<std::vector<Dim>> shape = std::nullopt) {
    ValueType t;
    t.kind = Kind::kTensor;
    t.elem_type = elem;
    t.shape = std::move(shape);
    return t;
  }
  bool is_tensor() const { return kind == Kind::kTensor; }
  bool has_static_shape() const;
  // Fixed dims when every dim is known.
  std::optional<std::vector<int64_t>> static_dims() const;
  friend bool operator==(const ValueType&, const ValueType&) = default;
};

// The optional string fields that the proto an IR object came from set explicitly to "" (proto2
// keeps presence: `domain: ""` and no domain are different files). Keyed by proto field number;
// the importer fills it, the exporter writes those fields back as "" when the IR value is still
// empty. Objects built by passes have none, and a non-empty value is always written.
class EmptyStringFields {
 public:
  void Add(int field_number) {
    if (field_number > 0 && field_number < 64) bits_ |= uint64_t{1} << field_number;
  }
  bool Has(int field_number) const {
    return field_number > 0 && field_number < 64 && (bits_ >> field_number & 1) != 0;
  }
  bool empty() const { return bits_ == 0; }
  uint64_t bits() const { return bits_; }

 private:
  uint64_t bits_ = 0;
};

}  // namespace onnx_opt
