// Printer for the ONNX textual syntax (see docs/text-format.md). Output is deterministic: it
// depends only on the IR, and ParseModel(PrintModel(m)) prints identically.
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ir/strings.h"
#include "ir/text/tensor_gen.h"
#include "ir/text/text.h"
#include "ir/text/text_internal.h"
#include "onnx/onnx_pb.h"
#include "quant/float16.h"

namespace onnx_opt {
namespace text_internal {

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

}  // namespace text_internal

namespace {

using text_internal::FormatDouble;
using text_internal::FormatFloat;
using text_internal::QuotableName;
using text_internal::QuoteString;

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

std::string DimText(const Dim& d) {
  if (d.value) return absl::StrCat(*d.value);
  if (!d.param.empty()) return QuotableName(d.param);
  return "?";
}

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

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
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
    for (int64_t i = 0; i < n; ++i) out.push_back(absl::StrCat(Load<T>(p + i * sizeof(T))));
  };
  switch (t.type()) {
    case DataType::kFloat:
      for (int64_t i = 0; i < n; ++i) {
        uint32_t bits = Load<uint32_t>(p + i * 4);
        float f = std::bit_cast<float>(bits);
        if (std::isnan(f) && (bits & 0x7FFFFFFF) != 0x7FC00000) return std::nullopt;
        out.push_back(FormatFloat(f));
      }
      return out;
    case DataType::kDouble:
      for (int64_t i = 0; i < n; ++i) {
        uint64_t bits = Load<uint64_t>(p + i * 8);
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
        uint16_t bits = Load<uint16_t>(p + i * 2);
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

class Printer {
 public:
  explicit Printer(const PrintOptions& options) : options_(options) {}

  std::string& out() { return out_; }

  void PrintModel(const Model& m) {
    std::vector<std::string> fields;
    if (m.ir_version != 0) fields.push_back(absl::StrCat("ir_version: ", m.ir_version));
    if (!m.opset_imports.empty()) fields.push_back(OpsetImportText(m.opset_imports));
    if (!m.producer_name.empty()) {
      fields.push_back(absl::StrCat("producer_name: ", QuoteString(m.producer_name)));
    }
    if (!m.producer_version.empty()) {
      fields.push_back(absl::StrCat("producer_version: ", QuoteString(m.producer_version)));
    }
    if (!m.domain.empty()) fields.push_back(absl::StrCat("domain: ", QuoteString(m.domain)));
    if (m.has_model_version) fields.push_back(absl::StrCat("model_version: ", m.model_version));
    if (!m.doc_string.empty()) {
      fields.push_back(absl::StrCat("doc_string: ", QuoteString(m.doc_string)));
    }
    if (!m.metadata_props.empty()) {
      std::string props = "metadata_props: [";
      for (size_t i = 0; i < m.metadata_props.size(); ++i) {
        if (i > 0) props += ", ";
        absl::StrAppend(&props, QuoteString(m.metadata_props[i].first), ": ",
                        QuoteString(m.metadata_props[i].second));
      }
      fields.push_back(props + "]");
    }
    PrintHeader(fields);
    if (m.graph) {
      PrintGraph(*m.graph, 0);
      out_ += "\n";
    }
    for (const Function& f : m.functions) {
      out_ += "\n";
      PrintFunction(f);
    }
  }

  // Header, value-info list and node list; ends with '}' (no newline).
  void PrintGraph(const Graph& g, int indent) {
    out_ += QuotableName(g.name);
    out_ += " (";
    for (size_t i = 0; i < g.inputs().size(); ++i) {
      if (i > 0) out_ += ", ";
      const Value* v = g.inputs()[i];
      if (v->is_initializer()) {
        PrintInitializer(*v);
      } else {
        PrintValueInfo(*v);
      }
    }
    out_ += ") => (";
    for (size_t i = 0; i < g.outputs().size(); ++i) {
      if (i > 0) out_ += ", ";
      PrintValueInfo(*g.outputs()[i]);
    }
    out_ += ")\n";
    std::vector<const Value*> entries;
    for (const Value* v : g.initializers()) {
      if (!v->is_graph_input()) entries.push_back(v);
    }
    if (options_.print_value_info) {
      for (const Value* v : ValueInfoValues(g)) entries.push_back(v);
    }
    PrintValueInfoList(entries, indent);
    PrintNodeList(g, indent);
  }

 private:
  void Indent(int n) { out_.append(static_cast<size_t>(n), ' '); }

  void PrintHeader(const std::vector<std::string>& fields) {
    if (fields.empty()) return;
    out_ += "<\n";
    for (size_t i = 0; i < fields.size(); ++i) {
      absl::StrAppend(&out_, "  ", fields[i], i + 1 < fields.size() ? ",\n" : "\n");
    }
    out_ += ">\n";
  }

  static std::string OpsetImportText(const std::vector<OpsetImport>& imports) {
    std::string s = "opset_import: [";
    for (size_t i = 0; i < imports.size(); ++i) {
      if (i > 0) s += ", ";
      absl::StrAppend(&s, QuoteString(imports[i].domain), " : ", imports[i].version);
    }
    return s + "]";
  }

  // Intermediate values whose type (or value_info entry) is worth printing: node outputs in node
  // order, then values nobody defines (value_info entries naming no node output).
  static std::vector<const Value*> ValueInfoValues(const Graph& g) {
    std::vector<const Value*> out;
    auto wanted = [](const Value* v) {
      return !v->is_graph_input() && !v->is_graph_output() && !v->is_initializer() &&
             (v->in_value_info || v->type.kind != ValueType::Kind::kNone);
    };
    for (const auto& node : g.nodes()) {
      for (const Value* v : node->outputs()) {
        if (v != nullptr && wanted(v)) out.push_back(v);
      }
    }
    for (const Value* v : g.values()) {
      if (v->producer() == nullptr && wanted(v)) out.push_back(v);
    }
    return out;
  }

  void PrintValueInfoList(const std::vector<const Value*>& entries, int indent) {
    if (entries.empty()) return;
    Indent(indent);
    out_ += "<\n";
    for (size_t i = 0; i < entries.size(); ++i) {
      Indent(indent + 2);
      if (entries[i]->is_initializer()) {
        PrintInitializer(*entries[i]);
      } else {
        PrintValueInfo(*entries[i]);
      }
      out_ += i + 1 < entries.size() ? ",\n" : "\n";
    }
    Indent(indent);
    out_ += ">\n";
  }

  void PrintValueInfo(const Value& v) {
    std::string type = ValueTypeText(v.type);
    if (!type.empty()) absl::StrAppend(&out_, type, " ");
    out_ += QuotableName(v.name());
  }

  void PrintInitializer(const Value& v) {
    const Tensor& t = *v.initializer();
    absl::StrAppend(&out_, TensorTypeOf(t), " ", QuotableName(v.name()), " = ");
    PrintTensorData(t);
  }

  static std::string TensorTypeOf(const Tensor& t) {
    std::vector<Dim> dims;
    for (int64_t d : t.dims()) dims.push_back(Dim::Fixed(d));
    return TensorTypeText(t.type(), dims);
  }

  void PrintTensorData(const Tensor& t) {
    int64_t n = t.num_elements();
    if (options_.elide_tensors_larger_than >= 0 && n > options_.elide_tensors_larger_than) {
      absl::StrAppend(&out_, "<elided ", n, " elements, hash ",
                      absl::StrFormat("0x%016x", t.ContentHash()), ">");
      return;
    }
    if (t.type() == DataType::kString) {
      out_ += "{";
      for (size_t i = 0; i < t.strings().size(); ++i) {
        if (i > 0) out_ += ", ";
        out_ += QuoteString(t.strings()[i]);
      }
      out_ += "}";
      return;
    }
    std::optional<std::vector<std::string>> elements = DecimalElements(t);
    if (!elements) {
      out_ += HexBytes(t.bytes());
      return;
    }
    out_ += "{";
    for (size_t i = 0; i < elements->size(); ++i) {
      if (i > 0) out_ += ", ";
      out_ += (*elements)[i];
    }
    out_ += "}";
  }

  // A tensor as an attribute value: type, optional name, contents.
  void PrintTensorLiteral(const TensorPtr& t) {
    out_ += TensorTypeOf(*t);
    if (!t->name.empty()) absl::StrAppend(&out_, " ", QuotableName(t->name));
    out_ += " ";
    PrintTensorData(*t);
  }

  static std::string_view AttrTypeName(AttrType type) {
    switch (type) {
      case AttrType::kFloat:
        return "float";
      case AttrType::kInt:
        return "int";
      case AttrType::kString:
        return "string";
      case AttrType::kTensor:
        return "tensor";
      case AttrType::kGraph:
        return "graph";
      case AttrType::kSparseTensor:
        return "sparse_tensor";
      case AttrType::kTypeProto:
        return "type_proto";
      case AttrType::kFloats:
        return "floats";
      case AttrType::kInts:
        return "ints";
      case AttrType::kStrings:
        return "strings";
      case AttrType::kTensors:
        return "tensors";
      case AttrType::kGraphs:
        return "graphs";
      case AttrType::kSparseTensors:
        return "sparse_tensors";
      case AttrType::kTypeProtos:
        return "type_protos";
      case AttrType::kUndefined:
        return "";
    }
    return "";
  }

  // Whether the value alone would not tell the attribute type on parsing.
  static bool NeedsTypeAnnotation(const Attribute& a) {
    if (!a.ref_attr_name.empty()) return a.type != AttrType::kUndefined;
    return std::visit(
        [&](const auto& v) -> bool {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<OpaqueProto>>) return true;
          if constexpr (std::is_same_v<T, std::vector<float>> ||
                        std::is_same_v<T, std::vector<int64_t>> ||
                        std::is_same_v<T, std::vector<std::string>> ||
                        std::is_same_v<T, std::vector<TensorPtr>> ||
                        std::is_same_v<T, std::vector<Attribute::GraphPtr>>) {
            return v.empty();
          }
          return false;
        },
        a.value);
  }

  void PrintAttribute(const Attribute& a, int indent) {
    out_ += a.name;
    if (NeedsTypeAnnotation(a)) absl::StrAppend(&out_, ": ", ToAbsl(AttrTypeName(a.type)));
    out_ += " = ";
    if (!a.ref_attr_name.empty()) {
      absl::StrAppend(&out_, "@", a.ref_attr_name);
      return;
    }
    auto list = [&](const auto& items, auto print_one) {
      out_ += "[";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out_ += ", ";
        print_one(items[i]);
      }
      out_ += "]";
    };
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, float>) {
            out_ += FormatFloat(v);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            absl::StrAppend(&out_, v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            out_ += QuoteString(v);
          } else if constexpr (std::is_same_v<T, TensorPtr>) {
            PrintTensorLiteral(v);
          } else if constexpr (std::is_same_v<T, Attribute::GraphPtr>) {
            PrintGraph(*v, indent + 2);
          } else if constexpr (std::is_same_v<T, std::vector<float>>) {
            list(v, [&](float f) { out_ += FormatFloat(f); });
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            list(v, [&](int64_t i) { absl::StrAppend(&out_, i); });
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            list(v, [&](const std::string& s) { out_ += QuoteString(s); });
          } else if constexpr (std::is_same_v<T, std::vector<TensorPtr>>) {
            list(v, [&](const TensorPtr& t) { PrintTensorLiteral(t); });
          } else if constexpr (std::is_same_v<T, std::vector<Attribute::GraphPtr>>) {
            list(v, [&](const Attribute::GraphPtr& g) { PrintGraph(*g, indent + 2); });
          } else if constexpr (std::is_same_v<T, std::vector<OpaqueProto>>) {
            // Sparse tensors and type protos: the serialized proto in hex (an extension).
            bool single = a.type == AttrType::kSparseTensor || a.type == AttrType::kTypeProto;
            auto hex = [&](const OpaqueProto& p) {
              out_ += HexBytes({reinterpret_cast<const uint8_t*>(p.bytes.data()), p.bytes.size()});
            };
            if (single && v.size() == 1) {
              hex(v[0]);
            } else {
              list(v, hex);
            }
          } else {
            out_ += "0";  // an attribute without a value; reads back as int 0
          }
        },
        a.value);
  }

  void PrintAttributeList(const std::vector<Attribute>& attrs, int indent) {
    out_ += "<";
    for (size_t i = 0; i < attrs.size(); ++i) {
      if (i > 0) out_ += ", ";
      PrintAttribute(attrs[i], indent);
    }
    out_ += ">";
  }

  void PrintNodeList(const Graph& g, int indent) {
    Indent(indent);
    out_ += "{\n";
    for (const auto& node : g.nodes()) PrintNode(*node, indent + 2);
    Indent(indent);
    out_ += "}";
  }

  void PrintNode(const Node& n, int indent) {
    Indent(indent);
    if (!n.name.empty()) absl::StrAppend(&out_, "[", QuotableName(n.name), "] ");
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      if (i > 0) out_ += ", ";
      const Value* v = n.outputs()[i];
      out_ += v ? QuotableName(v->name()) : "\"\"";
    }
    if (!n.outputs().empty()) out_ += " ";
    out_ += "= ";
    if (!n.domain.empty()) absl::StrAppend(&out_, QualifiedName(n.domain), ".");
    out_ += QuotableName(n.op_type);
    bool has_graph = !n.subgraphs().empty();
    if (!n.attributes().empty() && !has_graph) {
      out_ += " ";
      PrintAttributeList(n.attributes(), indent);
    }
    out_ += " (";
    for (size_t i = 0; i < n.inputs().size(); ++i) {
      if (i > 0) out_ += ", ";
      const Value* v = n.inputs()[i];
      if (v != nullptr) {
        out_ += QuotableName(v->name());
      } else if (i + 1 == n.inputs().size()) {
        out_ += "\"\"";  // a trailing absent input must be spelled out
      }
    }
    out_ += ")";
    if (has_graph) {
      out_ += " ";
      PrintAttributeList(n.attributes(), indent);
    }
    out_ += "\n";
  }

 public:
  void PrintFunction(const Function& f) {
    std::vector<std::string> fields;
    if (!f.domain.empty()) fields.push_back(absl::StrCat("domain: ", QuoteString(f.domain)));
    if (!f.overload.empty()) fields.push_back(absl::StrCat("overload: ", QuoteString(f.overload)));
    if (!f.opset_imports.empty()) fields.push_back(OpsetImportText(f.opset_imports));
    if (!f.doc_string.empty()) {
      fields.push_back(absl::StrCat("doc_string: ", QuoteString(f.doc_string)));
    }
    PrintHeader(fields);
    out_ += QuotableName(f.name);
    if (!f.attribute_names.empty() || !f.attribute_defaults.empty()) {
      out_ += " <";
      bool first = true;
      for (const std::string& name : f.attribute_names) {
        if (!first) out_ += ", ";
        first = false;
        out_ += name;
      }
      for (const Attribute& a : f.attribute_defaults) {
        if (!first) out_ += ", ";
        first = false;
        PrintAttribute(a, 0);
      }
      out_ += ">";
    }
    static const Graph kEmpty;
    const Graph& body = f.body ? *f.body : kEmpty;
    out_ += " (";
    for (size_t i = 0; i < body.inputs().size(); ++i) {
      if (i > 0) out_ += ", ";
      PrintValueInfo(*body.inputs()[i]);
    }
    out_ += ") => (";
    for (size_t i = 0; i < body.outputs().size(); ++i) {
      if (i > 0) out_ += ", ";
      PrintValueInfo(*body.outputs()[i]);
    }
    out_ += ")\n";
    std::vector<const Value*> entries;
    for (const Value* v : body.initializers()) {
      if (!v->is_graph_input()) entries.push_back(v);
    }
    if (options_.print_value_info) {
      for (const Value* v : ValueInfoValues(body)) entries.push_back(v);
    }
    PrintValueInfoList(entries, 0);
    PrintNodeList(body, 0);
    out_ += "\n";
  }

 private:
  const PrintOptions& options_;
  std::string out_;
};

}  // namespace

std::string PrintModel(const Model& model, const PrintOptions& options) {
  Printer printer(options);
  printer.PrintModel(model);
  return std::move(printer.out());
}

std::string PrintGraph(const Graph& graph, const PrintOptions& options) {
  Printer printer(options);
  printer.PrintGraph(graph, 0);
  printer.out() += "\n";
  return std::move(printer.out());
}

}  // namespace onnx_opt
