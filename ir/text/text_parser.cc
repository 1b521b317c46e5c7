// Recursive-descent parser for the ONNX textual syntax (grammar in docs/text-format.md), building
// the onnx-opt IR directly. Values must be defined before they are used (graph inputs,
// initializers, earlier node outputs, or values of enclosing graphs for subgraphs).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "ir/text/tensor_gen.h"
#include "ir/text/text.h"
#include "ir/text/text_internal.h"
#include "ir/text/text_parser_internal.h"
#include "onnx/onnx_pb.h"
#include "quant/float16.h"

namespace onnx_opt {
namespace text_internal {

absl::StatusOr<std::unique_ptr<Model>> Parser::ParseModel() {
  auto model = std::make_unique<Model>();
  if (IsPunct("<")) TEXT_RETURN_IF_ERROR(ParseModelHeader(*model));
  model->graph = std::make_unique<Graph>();
  TEXT_RETURN_IF_ERROR(ParseGraph(*model->graph));
  while (Peek().kind != Token::Kind::kEnd) {
    Function& f = model->functions.emplace_back();
    TEXT_RETURN_IF_ERROR(ParseFunction(f));
  }
  if (!lex_error_.ok()) return lex_error_;
  return model;
}

// Tokens are lexed on demand (the parser looks at most two tokens ahead), so huge tensor
// literals never exist as a whole token list. After the end, or a lexing error, every further
// token is kEnd; the lexing error is what gets reported.
const Token& Parser::Peek(size_t ahead) {
  while (buffer_.size() <= ahead) {
    Token t;
    if (lex_error_.ok() && !lexed_end_) {
      absl::Status s = lexer_.NextToken(t);
      if (!s.ok()) {
        lex_error_ = s;
        t = Token();
      }
    }
    if (t.kind == Token::Kind::kEnd) lexed_end_ = true;
    buffer_.push_back(std::move(t));
  }
  return buffer_[ahead];
}

// The consumed token stays valid until the next call.
const Token& Parser::Next() {
  Peek();
  if (buffer_.front().kind == Token::Kind::kEnd) return buffer_.front();
  last_ = std::move(buffer_.front());
  buffer_.pop_front();
  return last_;
}

bool Parser::IsPunct(std::string_view p, size_t ahead) {
  const Token& t = Peek(ahead);
  return t.kind == Token::Kind::kPunct && t.text == p;
}

bool Parser::Accept(std::string_view p) {
  if (!IsPunct(p)) return false;
  Next();
  return true;
}

bool Parser::IsIdent(std::string_view word, size_t ahead) {
  return Peek(ahead).kind == Token::Kind::kIdent && Peek(ahead).text == word;
}

std::string Parser::Describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kEnd:
      return "end of input";
    case Token::Kind::kString:
      return absl::StrCat("string ", text_internal::QuoteString(t.text));
    case Token::Kind::kHex:
      return "hex\"...\"";
    default:
      return absl::StrCat("'", t.text, "'");
  }
}

absl::Status Parser::ErrorAt(const Token& t, std::string_view message) {
  if (!lex_error_.ok()) return lex_error_;  // the parser stumbled over the end it caused
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(filename_), ":", t.line, ":", t.column,
                                                 ": ",
                                                 EscapeString(message, EscapeStyle::kControl)));
}

absl::Status Parser::Unexpected(std::string_view expected) {
  return ErrorAt(Peek(), absl::StrCat("expected ", ToAbsl(expected), ", found ", Describe(Peek())));
}

absl::Status Parser::Expect(std::string_view p, std::string_view context) {
  if (Accept(p)) return absl::OkStatus();
  return Unexpected(absl::StrCat("'", ToAbsl(p), "' ", ToAbsl(context)));
}

absl::Status Parser::ParseQuotableId(std::string& out, std::string_view what) {
  const Token& t = Peek();
  if (t.kind != Token::Kind::kIdent && t.kind != Token::Kind::kString) return Unexpected(what);
  out = Next().text;
  return absl::OkStatus();
}

// quotable-id ('.' quotable-id)*, joined with dots.
absl::Status Parser::ParseQualifiedId(std::string& out, std::string_view what) {
  TEXT_RETURN_IF_ERROR(ParseQuotableId(out, what));
  while (Accept(".")) {
    std::string part;
    TEXT_RETURN_IF_ERROR(ParseQuotableId(part, what));
    absl::StrAppend(&out, ".", part);
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseIdent(std::string& out, std::string_view what) {
  if (Peek().kind != Token::Kind::kIdent) return Unexpected(what);
  out = Next().text;
  return absl::OkStatus();
}

absl::Status Parser::ParseStringLiteral(std::string& out) {
  if (Peek().kind != Token::Kind::kString) return Unexpected("a string");
  out = Next().text;
  return absl::OkStatus();
}

absl::Status Parser::ParseInt(int64_t& out) {
  const Token& t = Peek();
  if (t.kind != Token::Kind::kInt) return Unexpected("an integer");
  auto result = std::from_chars(t.text.data(), t.text.data() + t.text.size(), out);
  if (result.ec != std::errc()) return ErrorAt(t, absl::StrCat("integer out of range: ", t.text));
  Next();
  return absl::OkStatus();
}

absl::Status Parser::ParseOpsetImports(std::vector<OpsetImport>& imports) {
  TEXT_RETURN_IF_ERROR(Expect("[", "to open opset_import"));
  if (Accept("]")) return absl::OkStatus();
  do {
    OpsetImport& imp = imports.emplace_back();
    TEXT_RETURN_IF_ERROR(ParseStringLiteral(imp.domain));
    TEXT_RETURN_IF_ERROR(Expect(":", "after the opset domain"));
    TEXT_RETURN_IF_ERROR(ParseInt(imp.version));
  } while (Accept(","));
  return Expect("]", "to close opset_import");
}

absl::Status Parser::ParseModelHeader(Model& m) {
  Next();  // '<'
  do {
    const Token key_token = Peek();
    std::string key;
    TEXT_RETURN_IF_ERROR(ParseIdent(key, "a model field name"));
    TEXT_RETURN_IF_ERROR(Expect(":", absl::StrCat("after '", key, "'")));
    if (key == "ir_version") {
      TEXT_RETURN_IF_ERROR(ParseInt(m.ir_version));
    } else if (key == "opset_import") {
      TEXT_RETURN_IF_ERROR(ParseOpsetImports(m.opset_imports));
    } else if (key == "producer_name") {
      TEXT_RETURN_IF_ERROR(ParseStringLiteral(m.producer_name));
    } else if (key == "producer_version") {
      TEXT_RETURN_IF_ERROR(ParseStringLiteral(m.producer_version));
    } else if (key == "domain") {
      TEXT_RETURN_IF_ERROR(ParseStringLiteral(m.domain));
    } else if (key == "model_version") {
      TEXT_RETURN_IF_ERROR(ParseInt(m.model_version));
      m.has_model_version = true;
    } else if (key == "doc_string") {
      TEXT_RETURN_IF_ERROR(ParseStringLiteral(m.doc_string));
    } else if (key == "metadata_props") {
      TEXT_RETURN_IF_ERROR(Expect("[", "to open metadata_props"));
      if (!Accept("]")) {
        do {
          auto& prop = m.metadata_props.emplace_back();
          TEXT_RETURN_IF_ERROR(ParseStringLiteral(prop.first));
          TEXT_RETURN_IF_ERROR(Expect(":", "between metadata key and value"));
          TEXT_RETURN_IF_ERROR(ParseStringLiteral(prop.second));
        } while (Accept(","));
        TEXT_RETURN_IF_ERROR(Expect("]", "to close metadata_props"));
      }
    } else {
      return ErrorAt(key_token, absl::StrCat("unknown model field '", key, "'"));
    }
  } while (Accept(","));
  return Expect(">", "to close the model header");
}

bool Parser::IsTypeWord(std::string_view word) {
  return DataTypeFromName(word).has_value() || word == "seq" || word == "map" ||
         word == "optional" || word == "sparse_tensor" || word == "opaque";
}

bool Parser::AtType() { return Peek().kind == Token::Kind::kIdent && IsTypeWord(Peek().text); }

absl::Status Parser::ParseShape(onnx::TensorShapeProto& shape, bool& has_shape) {
  has_shape = true;
  if (!Accept("[")) return absl::OkStatus();  // no brackets: a scalar
  if (Accept("]")) {
    has_shape = false;  // "[]": rank unknown
    return absl::OkStatus();
  }
  do {
    auto* dim = shape.add_dim();
    const Token& t = Peek();
    if (Accept("?")) continue;
    if (t.kind == Token::Kind::kInt) {
      int64_t v = 0;
      TEXT_RETURN_IF_ERROR(ParseInt(v));
      dim->set_dim_value(v);
    } else if (t.kind == Token::Kind::kIdent || t.kind == Token::Kind::kString) {
      dim->set_dim_param(Next().text);
    } else {
      return Unexpected("a dimension (integer, name or '?')");
    }
  } while (Accept(","));
  return Expect("]", "to close the shape");
}

absl::Status Parser::ParsePrimType(int32_t& elem) {
  const Token& t = Peek();
  std::optional<DataType> dt =
      t.kind == Token::Kind::kIdent ? DataTypeFromName(t.text) : std::nullopt;
  if (!dt) return Unexpected("an element type");
  Next();
  elem = static_cast<int32_t>(*dt);
  return absl::OkStatus();
}

absl::Status Parser::ParseTypeProto(onnx::TypeProto& tp) {
  const Token& t = Peek();
  if (t.kind != Token::Kind::kIdent || !IsTypeWord(t.text)) return Unexpected("a type");
  std::string word = t.text;
  if (DataTypeFromName(word)) {
    int32_t elem = 0;
    TEXT_RETURN_IF_ERROR(ParsePrimType(elem));
    auto* tensor = tp.mutable_tensor_type();
    tensor->set_elem_type(elem);
    bool has_shape = true;
    TEXT_RETURN_IF_ERROR(ParseShape(*tensor->mutable_shape(), has_shape));
    if (!has_shape) tensor->clear_shape();
    return absl::OkStatus();
  }
  Next();
  TEXT_RETURN_IF_ERROR(Expect("(", absl::StrCat("after '", word, "'")));
  if (word == "seq") {
    TEXT_RETURN_IF_ERROR(ParseTypeProto(*tp.mutable_sequence_type()->mutable_elem_type()));
  } else if (word == "optional") {
    TEXT_RETURN_IF_ERROR(ParseTypeProto(*tp.mutable_optional_type()->mutable_elem_type()));
  } else if (word == "map") {
    int32_t key = 0;
    TEXT_RETURN_IF_ERROR(ParsePrimType(key));
    tp.mutable_map_type()->set_key_type(key);
    TEXT_RETURN_IF_ERROR(Expect(",", "after the map key type"));
    TEXT_RETURN_IF_ERROR(ParseTypeProto(*tp.mutable_map_type()->mutable_value_type()));
  } else if (word == "sparse_tensor") {
    int32_t elem = 0;
    TEXT_RETURN_IF_ERROR(ParsePrimType(elem));
    auto* sparse = tp.mutable_sparse_tensor_type();
    sparse->set_elem_type(elem);
    bool has_shape = true;
    TEXT_RETURN_IF_ERROR(ParseShape(*sparse->mutable_shape(), has_shape));
    if (!has_shape) sparse->clear_shape();
  } else {  // opaque
    auto* opaque = tp.mutable_opaque_type();
    if (!IsPunct(")")) {
      std::string first;
      TEXT_RETURN_IF_ERROR(ParseQualifiedId(first, "an opaque type name"));
      if (Accept(",")) {
        std::string second;
        TEXT_RETURN_IF_ERROR(ParseQualifiedId(second, "an opaque type name"));
        opaque->set_domain(first);
        opaque->set_name(second);
      } else {
        opaque->set_name(first);
      }
    }
  }
  return Expect(")", absl::StrCat("to close '", word, "('"));
}

absl::Status Parser::ParseValueType(ValueType& out) {
  onnx::TypeProto tp;
  TEXT_RETURN_IF_ERROR(ParseTypeProto(tp));
  if (tp.has_tensor_type()) {
    std::optional<std::vector<Dim>> shape;
    if (tp.tensor_type().has_shape()) {
      shape.emplace();
      for (const auto& d : tp.tensor_type().shape().dim()) {
        shape->push_back(d.has_dim_value() ? Dim::Fixed(d.dim_value())
                                           : Dim::Symbolic(d.dim_param()));
      }
    }
    out = ValueType::Tensor(static_cast<DataType>(tp.tensor_type().elem_type()), std::move(shape));
  } else {
    out = ValueType();
    out.kind = ValueType::Kind::kOpaque;
    tp.SerializeToString(&out.opaque_proto);
  }
  return absl::OkStatus();
}

absl::Status Parser::CheckNewName(const Graph& g, const std::string& name, const Token& where) {
  if (name.empty()) return ErrorAt(where, "a value name may not be empty");
  if (g.FindValue(name) != nullptr) {
    return ErrorAt(where, absl::StrCat("value '", name, "' is already defined"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Parser::Entry> Parser::ParseEntry(bool allow_initializer) {
  Entry e;
  if (AtType()) {
    ValueType t;
    TEXT_RETURN_IF_ERROR(ParseValueType(t));
    e.type = std::move(t);
  }
  e.where = Peek();
  TEXT_RETURN_IF_ERROR(ParseQuotableId(e.name, "a value name"));
  if (IsPunct("=")) {
    if (!allow_initializer) return ErrorAt(Peek(), "graph outputs cannot have contents");
    Next();
    if (!e.type) return ErrorAt(e.where, absl::StrCat("initializer '", e.name, "' needs a type"));
    absl::StatusOr<TensorPtr> t = ParseTensorData(*e.type, e.name, e.where);
    if (!t.ok()) return t.status();
    e.initializer = std::move(*t);
  }
  return e;
}

// name? is parsed by the caller for functions; graphs start with their name.
absl::Status Parser::ParseGraph(Graph& g) {
  TEXT_RETURN_IF_ERROR(ParseQuotableId(g.name, "a graph name"));
  return ParseGraphRest(g);
}

absl::Status Parser::ParseGraphRest(Graph& g) {
  TEXT_RETURN_IF_ERROR(Expect("(", "to open the input list"));
  if (!Accept(")")) {
    do {
      absl::StatusOr<Entry> e = ParseEntry(/*allow_initializer=*/true);
      if (!e.ok()) return e.status();
      TEXT_RETURN_IF_ERROR(CheckNewName(g, e->name, e->where));
      Value* v = g.AddInput(e->name, e->type.value_or(ValueType()));
      if (e->initializer) g.SetInputDefault(v, e->initializer);
    } while (Accept(","));
    TEXT_RETURN_IF_ERROR(Expect(")", "to close the input list"));
  }
  if (Peek().kind != Token::Kind::kArrow) return Unexpected("'=>' after the inputs");
  Next();
  std::vector<Entry> outputs;
  TEXT_RETURN_IF_ERROR(Expect("(", "to open the output list"));
  if (!Accept(")")) {
    do {
      absl::StatusOr<Entry> e = ParseEntry(/*allow_initializer=*/false);
      if (!e.ok()) return e.status();
      outputs.push_back(std::move(*e));
    } while (Accept(","));
    TEXT_RETURN_IF_ERROR(Expect(")", "to close the output list"));
  }
  std::vector<Entry> value_infos;
  if (Accept("<")) {
    if (!Accept(">")) {
      do {
        absl::StatusOr<Entry> e = ParseEntry(/*allow_initializer=*/true);
        if (!e.ok()) return e.status();
        if (e->initializer) {
          TEXT_RETURN_IF_ERROR(CheckNewName(g, e->name, e->where));
          g.AddInitializer(e->name, e->initializer);
        } else {
          value_infos.push_back(std::move(*e));
        }
      } while (Accept(","));
      TEXT_RETURN_IF_ERROR(Expect(">", "to close the value-info list"));
    }
  }
  TEXT_RETURN_IF_ERROR(Expect("{", "to open the node list"));
  while (!Accept("}")) {
    if (Peek().kind == Token::Kind::kEnd) return Unexpected("'}' to close the node list");
    TEXT_RETURN_IF_ERROR(ParseNode(g));
  }
  for (Entry& e : value_infos) {
    Value* v = g.FindLocalValue(e.name);
    if (v == nullptr) {
      if (g.FindValue(e.name) != nullptr) {
        return ErrorAt(
            e.where, absl::StrCat("value_info '", e.name, "' names a value of an enclosing graph"));
      }
      v = g.CreateValue(e.name);
    }
    if (e.type) v->type = std::move(*e.type);
    v->in_value_info = true;
  }
  for (Entry& e : outputs) {
    Value* v = g.FindValue(e.name);
    if (v == nullptr) {
      return ErrorAt(e.where, absl::StrCat("graph output '", e.name, "' is not defined"));
    }
    if (e.type && !v->is_initializer()) v->type = std::move(*e.type);
    g.AddOutput(v);
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseNode(Graph& g) {
  std::string label;
  if (Accept("[")) {
    TEXT_RETURN_IF_ERROR(ParseQuotableId(label, "a node name"));
    TEXT_RETURN_IF_ERROR(Expect("]", "after the node name"));
  }
  std::vector<std::pair<std::string, Token>> outputs;
  if (!IsPunct("=")) {
    do {
      const Token where = Peek();
      std::string name;
      TEXT_RETURN_IF_ERROR(ParseQuotableId(name, "a node output name or '='"));
      outputs.emplace_back(std::move(name), where);
    } while (Accept(","));
  }
  TEXT_RETURN_IF_ERROR(Expect("=", "after the node outputs"));
  std::vector<std::string> parts;
  do {
    std::string part;
    TEXT_RETURN_IF_ERROR(ParseQuotableId(part, "an operator name"));
    parts.push_back(std::move(part));
  } while (Accept("."));
  std::string op_type = parts.back();
  parts.pop_back();
  std::string domain = absl::StrJoin(parts, ".");
  if (domain == "ai.onnx") domain.clear();

  Node* node = g.CreateNode(op_type, {}, 0, nullptr, domain);
  node->name = label;
  for (const auto& [name, where] : outputs) {
    if (name.empty()) {
      g.AppendAbsentOutput(node);
      continue;
    }
    TEXT_RETURN_IF_ERROR(CheckNewName(g, name, where));
    g.AddNodeOutput(node, name);
  }
  std::vector<Attribute> attrs;
  if (IsPunct("<")) TEXT_RETURN_IF_ERROR(ParseAttributeList(attrs, node));
  TEXT_RETURN_IF_ERROR(Expect("(", absl::StrCat("to open the inputs of ", op_type)));
  if (!Accept(")")) {
    while (true) {
      if (IsPunct(",")) {
        node->AddInput(nullptr);
      } else {
        const Token where = Peek();
        std::string name;
        TEXT_RETURN_IF_ERROR(ParseQuotableId(name, "an input name"));
        Value* v = nullptr;
        if (!name.empty()) {
          v = g.FindValue(name);
          if (v == nullptr) {
            return ErrorAt(where, absl::StrCat("value '", name,
                                               "' is not defined (values must be defined "
                                               "before use)"));
          }
        }
        node->AddInput(v);
      }
      if (Accept(",")) {
        if (IsPunct(")")) break;
        continue;
      }
      break;
    }
    TEXT_RETURN_IF_ERROR(Expect(")", absl::StrCat("to close the inputs of ", op_type)));
  }
  if (attrs.empty() && IsPunct("<")) TEXT_RETURN_IF_ERROR(ParseAttributeList(attrs, node));
  for (Attribute& a : attrs) node->mutable_attributes().push_back(std::move(a));
  return absl::OkStatus();
}

absl::Status Parser::ParseFunction(Function& f) {
  if (Accept("<")) {
    do {
      const Token key_token = Peek();
      std::string key;
      TEXT_RETURN_IF_ERROR(ParseIdent(key, "a function field name"));
      TEXT_RETURN_IF_ERROR(Expect(":", absl::StrCat("after '", key, "'")));
      if (key == "domain") {
        TEXT_RETURN_IF_ERROR(ParseStringLiteral(f.domain));
      } else if (key == "overload") {
        TEXT_RETURN_IF_ERROR(ParseStringLiteral(f.overload));
      } else if (key == "doc_string") {
        TEXT_RETURN_IF_ERROR(ParseStringLiteral(f.doc_string));
      } else if (key == "opset_import") {
        TEXT_RETURN_IF_ERROR(ParseOpsetImports(f.opset_imports));
      } else {
        return ErrorAt(key_token, absl::StrCat("unknown function field '", key, "'"));
      }
    } while (Accept(","));
    TEXT_RETURN_IF_ERROR(Expect(">", "to close the function header"));
  }
  TEXT_RETURN_IF_ERROR(ParseQuotableId(f.name, "a function name"));
  if (Accept("<")) {
    do {
      std::string name;
      TEXT_RETURN_IF_ERROR(ParseIdent(name, "a function attribute name"));
      if (IsPunct(":") || IsPunct("=")) {
        Attribute& a = f.attribute_defaults.emplace_back();
        a.name = name;
        TEXT_RETURN_IF_ERROR(ParseAttributeRest(a, nullptr));
      } else {
        f.attribute_names.push_back(name);
      }
    } while (Accept(","));
    TEXT_RETURN_IF_ERROR(Expect(">", "to close the function attributes"));
  }
  f.body = std::make_unique<Graph>();
  return ParseGraphRest(*f.body);
}

}  // namespace text_internal

absl::StatusOr<std::unique_ptr<Model>> ParseModel(std::string_view text,
                                                  std::string_view filename) {
  text_internal::Parser parser(text, filename);
  return parser.ParseModel();
}

}  // namespace onnx_opt
