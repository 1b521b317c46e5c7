// How the ONNX textual syntax writes names, types, numbers and tensor elements (the printer's
// parts; see docs/text-format.md).
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ir/strings.h"
#include "ir/text/text_internal.h"
#include "ir/unaligned.h"
#include "onnx/onnx_pb.h"
#include "quant/float16.h"

namespace onnx_opt::text_internal {

bool IsReservedWord(std::string_view word) {
  if (DataTypeFromName(word).has_value()) return true;
  for (std::string_view w : {"seq", "map", "optional", "sparse_tensor", "opaque"}) {
    if (word == w) return true;
  }
  std::string lower;
  for (char c : word)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower == "inf" || lower == "infinity" || lower == "nan";
}

bool IsPlainIdentifier(std::string_view name) {
  if (name.empty()) return false;
  auto is_alpha = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!is_alpha(name[0])) return false;
  for (char c : name) {
    if (!is_alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return !IsReservedWord(name);
}

std::string QuoteString(std::string_view s) {
  return absl::StrCat("\"", EscapeString(s, EscapeStyle::kQuoted), "\"");
}

std::string QuotableName(std::string_view name) {
  return IsPlainIdentifier(name) ? std::string(name) : QuoteString(name);
}

namespace {

template <typename T>
std::string FormatFloating(T v) {
  if (std::isnan(v)) return std::signbit(v) ? "-nan" : "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, result.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string FormatFloat(float f) { return FormatFloating(f); }
std::string FormatDouble(double d) { return FormatFloating(d); }

// Dotted names ("com.microsoft") print segment by segment, each quoted only when needed.
std::string QualifiedName(std::string_view name) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty()) return QuoteString(name);  // "a..b" or a leading/trailing dot
    if (!out.empty()) out += ".";
    out += QuotableName(part);
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

namespace {

std::string DimText(const Dim& d) {
  if (d.value) return absl::StrCat(*d.value);
  if (!d.param.empty()) return QuotableName(d.param);
  return "?";
}

}  // namespace

std::string TensorTypeText(DataType elem, const std::optional<std::vector<Dim>>& shape) {
  std::string out(DataTypeName(elem));
  if (!shape) return out + "[]";
  if (shape->empty()) return out;
  out += "[";
  for (size_t i = 0; i < shape->size(); ++i) {
    if (i > 0) out += ",";
    out += DimText((*shape)[i]);
  }
  return out + "]";
}

namespace {

std::optional<std::vector<Dim>> ShapeFromProto(bool has_shape,
                                               const onnx::TensorShapeProto& proto) {
  if (!has_shape) return std::nullopt;
  std::vector<Dim> dims;
  for (const auto& d : proto.dim()) {
    if (d.has_dim_value()) {
      dims.push_back(Dim::Fixed(d.dim_value()));
    } else {
      dims.push_back(Dim::Symbolic(d.dim_param()));
    }
  }
  return dims;
}

std::string TypeProtoText(const onnx::TypeProto& tp) {
  switch (tp.value_case()) {
    case onnx::TypeProto::kTensorType:
      return TensorTypeText(static_cast<DataType>(tp.tensor_type().elem_type()),
                            ShapeFromProto(tp.tensor_type().has_shape(), tp.tensor_type().shape()));
    case onnx::TypeProto::kSequenceType:
      return absl::StrCat("seq(", TypeProtoText(tp.sequence_type().elem_type()), ")");
    case onnx::TypeProto::kMapType:
      return absl::StrCat("map(",
                          ToAbsl(DataTypeName(static_cast<DataType>(tp.map_type().key_type()))),
                          ", ", TypeProtoText(tp.map_type().value_type()), ")");
    case onnx::TypeProto::kOptionalType:
      return absl::StrCat("optional(", TypeProtoText(tp.optional_type().elem_type()), ")");
    case onnx::TypeProto::kSparseTensorType:
      return absl::StrCat("sparse_tensor(",
                          TensorTypeText(static_cast<DataType>(tp.sparse_tensor_type().elem_type()),
                                         ShapeFromProto(tp.sparse_tensor_type().has_shape(),
                                                        tp.sparse_tensor_type().shape())),
                          ")");
    case onnx::TypeProto::kOpaqueType: {
      const auto& o = tp.opaque_type();
      if (o.domain().empty() && o.name().empty()) return "opaque()";
      if (o.domain().empty()) return absl::StrCat("opaque(", QualifiedName(o.name()), ")");
      return absl::StrCat("opaque(", QualifiedName(o.domain()), ", ", QualifiedName(o.name()), ")");
    }
    default:
      return "opaque()";
  }
}

}  // namespace

// Empty for an untyped value.
std::string ValueTypeText(const ValueType& t) {
  switch (t.kind) {
    case ValueType::Kind::kNone:
      return "";
    case ValueType::Kind::kTensor:
      return TensorTypeText(t.elem_type, t.shape);
    case ValueType::Kind::kOpaque: {
      onnx::TypeProto proto;
      if (!proto.ParseFromString(t.opaque_proto)) return "opaque()";
      return TypeProtoText(proto);
    }
  }
  return "";
}

std::string HexBytes(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "hex\"";
  out.reserve(bytes.size() * 2 + 5);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out + "\"";
}

// Decimal element texts for a tensor, or nullopt when only hex keeps its bytes exactly
// (non-canonical NaNs, bool bytes other than 0/1, a used padding nibble, float8/complex types).
std::optional<std::vector<std::string>> DecimalElements(const Tensor& t) {
  if (!t.CheckConsistent().ok()) return std::nullopt;
  const int64_t n = t.num_elements();
  const uint8_t* p = t.bytes().data();
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  auto integers = [&]<typename T>(T*) {
    for (int64_t i = 0; i < n; ++i) {
      out.push_back(absl::StrCat(LoadUnaligned<T>(p + i * sizeof(T))));
    }
  };
  switch (t.type()) {
    case DataType::kFloat:
      for (int64_t i = 0; i < n; ++i) {
        uint32_t bits = LoadUnaligned<uint32_t>(p + i * 4);
        float f = std::bit_cast<float>(bits);
        if (std::isnan(f) && (bits & 0x7FFFFFFF) != 0x7FC00000) return std::nullopt;
        out.push_back(FormatFloat(f));
      }
      return out;
    case DataType::kDouble:
      for (int64_t i = 0; i < n; ++i) {
        uint64_t bits = LoadUnaligned<uint64_t>(p + i * 8);
        double d = std::bit_cast<double>(bits);
        if (std::isnan(d) && (bits & 0x7FFFFFFFFFFFFFFFULL) != 0x7FF8000000000000ULL) {
          return std::nullopt;
        }
        out.push_back(FormatDouble(d));
      }
      return out;
    case DataType::kFloat16:
    case DataType::kBFloat16: {
      bool half = t.type() == DataType::kFloat16;
      for (int64_t i = 0; i < n; ++i) {
        uint16_t bits = LoadUnaligned<uint16_t>(p + i * 2);
        float f = half ? quant::HalfToFloat(bits) : quant::BFloat16ToFloat(bits);
        if (std::isnan(f) && (bits & 0x7FFF) != (half ? 0x7E00 : 0x7FC0)) return std::nullopt;
        out.push_back(FormatFloat(f));
      }
      return out;
    }
    case DataType::kInt8:
      integers(static_cast<int8_t*>(nullptr));
      return out;
    case DataType::kUint8:
      integers(static_cast<uint8_t*>(nullptr));
      return out;
    case DataType::kInt16:
      integers(static_cast<int16_t*>(nullptr));
      return out;
    case DataType::kUint16:
      integers(static_cast<uint16_t*>(nullptr));
      return out;
    case DataType::kInt32:
      integers(static_cast<int32_t*>(nullptr));
      return out;
    case DataType::kUint32:
      integers(static_cast<uint32_t*>(nullptr));
      return out;
    case DataType::kInt64:
      integers(static_cast<int64_t*>(nullptr));
      return out;
    case DataType::kUint64:
      integers(static_cast<uint64_t*>(nullptr));
      return out;
    case DataType::kBool:
      for (int64_t i = 0; i < n; ++i) {
        if (p[i] > 1) return std::nullopt;
        out.push_back(p[i] ? "1" : "0");
      }
      return out;
    case DataType::kInt4:
    case DataType::kUint4: {
      bool is_signed = t.type() == DataType::kInt4;
      if (n % 2 == 1 && (p[n / 2] >> 4) != 0) return std::nullopt;
      for (int64_t i = 0; i < n; ++i) {
        int nibble = (p[i / 2] >> (4 * (i % 2))) & 0xF;
        if (is_signed && nibble >= 8) nibble -= 16;
        out.push_back(absl::StrCat(nibble));
      }
      return out;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace onnx_opt::text_internal
