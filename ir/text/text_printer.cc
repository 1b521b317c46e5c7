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
namespace {

using text_internal::DecimalElements;
using text_internal::FormatDouble;
using text_internal::FormatFloat;
using text_internal::HexBytes;
using text_internal::QualifiedName;
using text_internal::QuotableName;
using text_internal::QuoteString;
using text_internal::TensorTypeText;
using text_internal::ValueTypeText;

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
