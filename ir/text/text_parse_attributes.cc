// Node and function attributes of the ONNX textual syntax: typed values and lists.
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

namespace onnx_opt::text_internal {

std::optional<AttrType> Parser::AttrTypeFromName(std::string_view name) {
  static const std::pair<std::string_view, AttrType> kNames[] = {
      {"float", AttrType::kFloat},
      {"int", AttrType::kInt},
      {"string", AttrType::kString},
      {"tensor", AttrType::kTensor},
      {"graph", AttrType::kGraph},
      {"sparse_tensor", AttrType::kSparseTensor},
      {"type_proto", AttrType::kTypeProto},
      {"floats", AttrType::kFloats},
      {"ints", AttrType::kInts},
      {"strings", AttrType::kStrings},
      {"tensors", AttrType::kTensors},
      {"graphs", AttrType::kGraphs},
      {"sparse_tensors", AttrType::kSparseTensors},
      {"type_protos", AttrType::kTypeProtos},
  };
  for (const auto& [n, t] : kNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

AttrType Parser::SingleOf(AttrType t) {
  switch (t) {
    case AttrType::kFloats:
      return AttrType::kFloat;
    case AttrType::kInts:
      return AttrType::kInt;
    case AttrType::kStrings:
      return AttrType::kString;
    case AttrType::kTensors:
      return AttrType::kTensor;
    case AttrType::kGraphs:
      return AttrType::kGraph;
    case AttrType::kSparseTensors:
      return AttrType::kSparseTensor;
    case AttrType::kTypeProtos:
      return AttrType::kTypeProto;
    default:
      return t;
  }
}

AttrType Parser::ListOf(AttrType t) {
  switch (t) {
    case AttrType::kFloat:
      return AttrType::kFloats;
    case AttrType::kInt:
      return AttrType::kInts;
    case AttrType::kString:
      return AttrType::kStrings;
    case AttrType::kTensor:
      return AttrType::kTensors;
    case AttrType::kGraph:
      return AttrType::kGraphs;
    case AttrType::kSparseTensor:
      return AttrType::kSparseTensors;
    case AttrType::kTypeProto:
      return AttrType::kTypeProtos;
    default:
      return t;
  }
}

bool Parser::IsListType(AttrType t) { return SingleOf(t) != t; }

absl::StatusOr<Parser::SingleValue> Parser::ParseSingleAttrValue(AttrType expected, Node* owner) {
  const Token t = Peek();
  SingleValue out;
  if (t.kind == Token::Kind::kHex) {
    if (expected != AttrType::kSparseTensor && expected != AttrType::kTypeProto) {
      return ErrorAt(t,
                     "a hex\"...\" attribute value needs a sparse_tensor or type_proto annotation");
    }
    Next();
    std::string bytes;
    for (size_t i = 0; i < t.text.size(); i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(t.text.substr(i, 2), nullptr, 16)));
    }
    out.type = expected;
    out.value = std::vector<OpaqueProto>{OpaqueProto{std::move(bytes)}};
  } else if (t.kind == Token::Kind::kIdent && IsTypeWord(t.text)) {
    if (expected == AttrType::kTypeProto) {
      onnx::TypeProto tp;
      TEXT_RETURN_IF_ERROR(ParseTypeProto(tp));
      out.type = AttrType::kTypeProto;
      out.value = std::vector<OpaqueProto>{OpaqueProto{tp.SerializeAsString()}};
    } else {
      ValueType type;
      TEXT_RETURN_IF_ERROR(ParseValueType(type));
      std::string tensor_name;
      const Token& n = Peek();
      bool is_generator =
          n.kind == Token::Kind::kIdent && IsGeneratorName(n.text) && IsPunct("(", 1);
      if ((n.kind == Token::Kind::kIdent || n.kind == Token::Kind::kString) && !is_generator) {
        tensor_name = Next().text;
      }
      Accept("=");
      absl::StatusOr<TensorPtr> tensor = ParseTensorData(type, tensor_name, t);
      if (!tensor.ok()) return tensor.status();
      out.type = AttrType::kTensor;
      out.value = std::move(*tensor);
    }
  } else if (t.kind == Token::Kind::kIdent && IsSpecialFloatWord(t.text)) {
    Next();
    out.type = AttrType::kFloat;
    out.value = *ParseFloating<float>(t.text);
  } else if (t.kind == Token::Kind::kIdent || (t.kind == Token::Kind::kString && IsPunct("(", 1))) {
    auto g = std::make_unique<Graph>();
    AdoptSubgraph(owner, g.get());
    TEXT_RETURN_IF_ERROR(ParseGraph(*g));
    out.type = AttrType::kGraph;
    out.value = std::move(g);
  } else if (t.kind == Token::Kind::kString) {
    Next();
    out.type = AttrType::kString;
    out.value = t.text;
  } else if (t.kind == Token::Kind::kInt) {
    int64_t v = 0;
    TEXT_RETURN_IF_ERROR(ParseInt(v));
    out.type = AttrType::kInt;
    out.value = v;
  } else if (t.kind == Token::Kind::kFloat) {
    Next();
    std::optional<float> f = ParseFloating<float>(t.text);
    if (!f) return ErrorAt(t, absl::StrCat("invalid number ", t.text));
    out.type = AttrType::kFloat;
    out.value = *f;
  } else {
    return Unexpected("an attribute value");
  }
  if (expected != AttrType::kUndefined && expected != out.type) {
    if (expected == AttrType::kFloat && out.type == AttrType::kInt) {
      out.type = AttrType::kFloat;
      out.value = static_cast<float>(std::get<int64_t>(out.value));
    } else {
      return ErrorAt(t, absl::StrCat("attribute value does not match its declared type"));
    }
  }
  return out;
}

// After the attribute name: [':' type] '=' value.
absl::Status Parser::ParseAttributeRest(Attribute& attr, Node* owner) {
  AttrType declared = AttrType::kUndefined;
  if (Accept(":")) {
    const Token type_token = Peek();
    std::string type_name;
    TEXT_RETURN_IF_ERROR(ParseIdent(type_name, "an attribute type"));
    std::optional<AttrType> t = AttrTypeFromName(type_name);
    if (!t) return ErrorAt(type_token, absl::StrCat("unknown attribute type '", type_name, "'"));
    declared = *t;
  }
  TEXT_RETURN_IF_ERROR(Expect("=", absl::StrCat("after attribute '", attr.name, "'")));
  attr.type = declared;
  if (Accept("@")) {
    return ParseIdent(attr.ref_attr_name, "the name of the referenced attribute");
  }
  const Token start = Peek();
  if (!Accept("[")) {
    if (IsListType(declared))
      return ErrorAt(start, absl::StrCat("attribute '", attr.name, "' is declared as a list"));
    absl::StatusOr<SingleValue> v = ParseSingleAttrValue(declared, owner);
    if (!v.ok()) return v.status();
    attr.type = v->type;
    attr.value = std::move(v->value);
    return absl::OkStatus();
  }
  if (declared != AttrType::kUndefined && !IsListType(declared)) {
    return ErrorAt(start,
                   absl::StrCat("attribute '", attr.name, "' is declared as a single value"));
  }
  std::vector<SingleValue> items;
  const AttrType declared_single = SingleOf(declared);
  AttrType single = declared_single;
  if (!Accept("]")) {
    do {
      absl::StatusOr<SingleValue> v = ParseSingleAttrValue(declared_single, owner);
      if (!v.ok()) return v.status();
      if (single == AttrType::kUndefined) single = v->type;
      if (v->type != single) {
        // An int among floats becomes a float; any other mix is an error.
        if (single == AttrType::kFloat && v->type == AttrType::kInt) {
          v->value = static_cast<float>(std::get<int64_t>(v->value));
        } else if (single == AttrType::kInt && v->type == AttrType::kFloat) {
          for (SingleValue& earlier : items) {
            earlier.value = static_cast<float>(std::get<int64_t>(earlier.value));
          }
          single = AttrType::kFloat;
        } else {
          return ErrorAt(start, absl::StrCat("attribute '", attr.name, "' mixes value types"));
        }
      }
      items.push_back(std::move(*v));
    } while (Accept(","));
    TEXT_RETURN_IF_ERROR(Expect("]", "to close the attribute list"));
  }
  if (single == AttrType::kUndefined) {
    return ErrorAt(start,
                   absl::StrCat("empty list attribute '", attr.name,
                                "' needs a type annotation (e.g. '", attr.name, ": ints = []')"));
  }
  attr.type = ListOf(single);
  switch (single) {
    case AttrType::kFloat: {
      std::vector<float> v;
      for (auto& i : items) v.push_back(std::get<float>(i.value));
      attr.value = std::move(v);
      break;
    }
    case AttrType::kInt: {
      std::vector<int64_t> v;
      for (auto& i : items) v.push_back(std::get<int64_t>(i.value));
      attr.value = std::move(v);
      break;
    }
    case AttrType::kString: {
      std::vector<std::string> v;
      for (auto& i : items) v.push_back(std::move(std::get<std::string>(i.value)));
      attr.value = std::move(v);
      break;
    }
    case AttrType::kTensor: {
      std::vector<TensorPtr> v;
      for (auto& i : items) v.push_back(std::move(std::get<TensorPtr>(i.value)));
      attr.value = std::move(v);
      break;
    }
    case AttrType::kGraph: {
      std::vector<Attribute::GraphPtr> v;
      for (auto& i : items) v.push_back(std::move(std::get<Attribute::GraphPtr>(i.value)));
      attr.value = std::move(v);
      break;
    }
    default: {
      std::vector<OpaqueProto> v;
      for (auto& i : items) {
        for (auto& p : std::get<std::vector<OpaqueProto>>(i.value)) v.push_back(std::move(p));
      }
      attr.value = std::move(v);
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseAttributeList(std::vector<Attribute>& attrs, Node* owner) {
  Next();  // '<'
  do {
    const Token name_token = Peek();
    Attribute attr;
    TEXT_RETURN_IF_ERROR(ParseIdent(attr.name, "an attribute name"));
    for (const Attribute& a : attrs) {
      if (a.name == attr.name) {
        return ErrorAt(name_token, absl::StrCat("attribute '", attr.name, "' given twice"));
      }
    }
    TEXT_RETURN_IF_ERROR(ParseAttributeRest(attr, owner));
    attrs.push_back(std::move(attr));
  } while (Accept(","));
  return Expect(">", "to close the attribute list");
}

}  // namespace onnx_opt::text_internal
