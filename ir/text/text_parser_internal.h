// The recursive-descent parser of the ONNX textual syntax (not part of the public API; the entry
// point is ParseModel in ir/text/text.h). Its members are defined in text_parser.cc (tokens,
// headers, types, graphs, nodes, functions), text_parse_attributes.cc and text_parse_tensors.cc.
#pragma once

#include <charconv>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "ir/text/text_lexer.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt::text_internal {

struct PendingValueInfo {
  std::string name;
  std::optional<ValueType> type;
  Token where;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view filename)
      : lexer_(text, filename), filename_(filename) {}
  absl::StatusOr<std::unique_ptr<Model>> ParseModel();

 private:
  // ------------------------------------------------------------ token helpers
  const Token& Peek(size_t ahead = 0);
  const Token& Next();
  bool IsPunct(std::string_view p, size_t ahead = 0);
  bool Accept(std::string_view p);
  bool IsIdent(std::string_view word, size_t ahead = 0);
  static std::string Describe(const Token& t);
  absl::Status ErrorAt(const Token& t, std::string_view message);
  absl::Status Unexpected(std::string_view expected);
  absl::Status Expect(std::string_view p, std::string_view context);
  absl::Status ParseQuotableId(std::string& out, std::string_view what);
  absl::Status ParseQualifiedId(std::string& out, std::string_view what);
  absl::Status ParseIdent(std::string& out, std::string_view what);
  absl::Status ParseStringLiteral(std::string& out);
  absl::Status ParseInt(int64_t& out);

  // ------------------------------------------------------------ headers
  absl::Status ParseOpsetImports(std::vector<OpsetImport>& imports);
  absl::Status ParseModelHeader(Model& m);

  // ------------------------------------------------------------ types
  static bool IsTypeWord(std::string_view word);
  bool AtType();
  absl::Status ParseShape(onnx::TensorShapeProto& shape, bool& has_shape);
  absl::Status ParsePrimType(int32_t& elem);
  absl::Status ParseTypeProto(onnx::TypeProto& tp);
  absl::Status ParseValueType(ValueType& out);

  // ------------------------------------------------------------ tensors
  absl::StatusOr<TensorPtr> ParseTensorData(const ValueType& type, std::string_view name,
                                            const Token& where);

  template <typename T>
  static void AppendRaw(std::vector<uint8_t>& out, T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
  }
  absl::StatusOr<std::vector<uint8_t>> EncodeLiterals(DataType elem,
                                                      const std::vector<Token>& elements);
  absl::StatusOr<std::vector<uint8_t>> ParseGenerator(DataType elem, int64_t count,
                                                      std::string_view name);

  // ------------------------------------------------------------ attributes
  static std::optional<AttrType> AttrTypeFromName(std::string_view name);
  static AttrType SingleOf(AttrType t);
  static AttrType ListOf(AttrType t);
  static bool IsListType(AttrType t);

  struct SingleValue {
    AttrType type = AttrType::kUndefined;
    Attribute::Payload value;
  };
  absl::StatusOr<SingleValue> ParseSingleAttrValue(AttrType expected, Node* owner);
  absl::Status ParseAttributeRest(Attribute& attr, Node* owner);
  absl::Status ParseAttributeList(std::vector<Attribute>& attrs, Node* owner);

  // ------------------------------------------------------------ graphs and nodes
  absl::Status CheckNewName(const Graph& g, const std::string& name, const Token& where);

  // One entry of an input or value-info list: [type] name ['=' contents].
  struct Entry {
    Token where;
    std::string name;
    std::optional<ValueType> type;
    TensorPtr initializer;
  };
  absl::StatusOr<Entry> ParseEntry(bool allow_initializer);
  absl::Status ParseGraph(Graph& g);
  absl::Status ParseGraphRest(Graph& g);
  absl::Status ParseNode(Graph& g);
  absl::Status ParseFunction(Function& f);

  Lexer lexer_;
  std::deque<Token> buffer_;
  Token last_;
  bool lexed_end_ = false;
  absl::Status lex_error_;
  std::string_view filename_;
};

}  // namespace onnx_opt::text_internal
