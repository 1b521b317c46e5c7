// Recursive-descent parser for the ONNX textual syntax (grammar in docs/text-format.md), building
// the onnx-opt IR directly. Values must be defined before they are used (graph inputs,
// initializers, earlier node outputs, or values of enclosing graphs for subgraphs).
#include <charconv>
#include <cmath>
#include <deque>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "ir/text/tensor_gen.h"
#include "ir/text/text.h"
#include "ir/text/text_internal.h"
#include "onnx/onnx_pb.h"
#include "quant/float16.h"

namespace onnx_opt {
namespace {

#define TEXT_RETURN_IF_ERROR(expr)     \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (false)

struct Token {
  enum class Kind { kEnd, kIdent, kString, kHex, kHexInt, kInt, kFloat, kPunct, kArrow };
  Kind kind = Kind::kEnd;
  std::string text;  // identifier, decoded string, hex digits, number text or punctuation
  int line = 0;
  int column = 0;
};

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view filename) : text_(text), filename_(filename) {}

  // The next token (kEnd at the end of the text).
  absl::Status NextToken(Token& t) {
    {
      SkipSpaceAndComments();
      t = Token();
      t.line = line_;
      t.column = column_;
      if (pos_ >= text_.size()) return absl::OkStatus();
      char c = text_[pos_];
      if (c == '"') {
        TEXT_RETURN_IF_ERROR(LexString(t));
      } else if (IsIdentStart(c)) {
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) t.text.push_back(Advance());
        t.kind = Token::Kind::kIdent;
        if (t.text == "hex" && pos_ < text_.size() && text_[pos_] == '"') {
          TEXT_RETURN_IF_ERROR(LexHex(t));
        }
      } else if (IsDigit(c) || (c == '-' && pos_ + 1 < text_.size() &&
                                (IsDigit(text_[pos_ + 1]) || IsIdentStart(text_[pos_ + 1])))) {
        TEXT_RETURN_IF_ERROR(LexNumber(t));
      } else if (c == '=' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '>') {
        Advance();
        Advance();
        t.kind = Token::Kind::kArrow;
        t.text = "=>";
      } else if (std::string_view("<>()[]{},:=.@?").find(c) != std::string_view::npos) {
        t.kind = Token::Kind::kPunct;
        t.text = std::string(1, Advance());
      } else {
        return ErrorAt(t, absl::StrCat("unexpected character '", std::string(1, c), "'"));
      }
      return absl::OkStatus();
    }
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsIdentStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  static bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

  char Advance() {
    char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    return c;
  }

  absl::Status ErrorAt(const Token& t, std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(filename_), ":", t.line, ":", t.column,
                                                   ": ",
                                                   EscapeString(message, EscapeStyle::kControl)));
  }

  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') Advance();
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        Advance();
      } else {
        return;
      }
    }
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  absl::Status LexString(Token& t) {
    Advance();  // opening quote
    t.kind = Token::Kind::kString;
    while (true) {
      if (pos_ >= text_.size()) return ErrorAt(t, "unterminated string");
      char c = Advance();
      if (c == '"') return absl::OkStatus();
      if (c != '\\') {
        t.text.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return ErrorAt(t, "unterminated string");
      char e = Advance();
      switch (e) {
        case 'n':
          t.text.push_back('\n');
          break;
        case 't':
          t.text.push_back('\t');
          break;
        case 'r':
          t.text.push_back('\r');
          break;
        case 'x': {
          int hi = pos_ < text_.size() ? HexValue(text_[pos_]) : -1;
          int lo = pos_ + 1 < text_.size() ? HexValue(text_[pos_ + 1]) : -1;
          if (hi < 0 || lo < 0) return ErrorAt(t, "\\x in a string needs two hex digits");
          Advance();
          Advance();
          t.text.push_back(static_cast<char>(hi * 16 + lo));
          break;
        }
        default:
          t.text.push_back(e);  // \" \\ and any other escaped character stand for themselves
      }
    }
  }

  absl::Status LexHex(Token& t) {
    Advance();  // opening quote
    t.kind = Token::Kind::kHex;
    t.text.clear();
    while (true) {
      if (pos_ >= text_.size()) return ErrorAt(t, "unterminated hex\"...\"");
      char c = Advance();
      if (c == '"') break;
      if (HexValue(c) < 0) {
        return ErrorAt(t,
                       absl::StrCat("invalid character '", std::string(1, c), "' in hex\"...\""));
      }
      t.text.push_back(c);
    }
    if (t.text.size() % 2 != 0) return ErrorAt(t, "hex\"...\" needs an even number of digits");
    return absl::OkStatus();
  }

  absl::Status LexNumber(Token& t) {
    if (text_[pos_] == '-') t.text.push_back(Advance());
    if (IsIdentStart(text_[pos_])) {
      std::string word;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) word.push_back(Advance());
      std::string lower;
      for (char c : word) lower.push_back(static_cast<char>(std::tolower(c)));
      if (lower != "inf" && lower != "infinity" && lower != "nan") {
        return ErrorAt(t, absl::StrCat("invalid number '-", word, "'"));
      }
      t.kind = Token::Kind::kFloat;
      t.text += lower;
      return absl::OkStatus();
    }
    bool is_float = false;
    if (text_.substr(pos_, 2) == "0x" && pos_ + 2 < text_.size() &&
        HexValue(text_[pos_ + 2]) >= 0) {
      // Hexadecimal integers only appear in elided-tensor hashes; they are lexed so that the
      // parser can report the elision itself.
      t.text += text_.substr(pos_, 2);
      Advance();
      Advance();
      while (pos_ < text_.size() && HexValue(text_[pos_]) >= 0) t.text.push_back(Advance());
      t.kind = Token::Kind::kHexInt;
      return absl::OkStatus();
    }
    while (pos_ < text_.size() && IsDigit(text_[pos_])) t.text.push_back(Advance());
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_float = true;
      t.text.push_back(Advance());
      while (pos_ < text_.size() && IsDigit(text_[pos_])) t.text.push_back(Advance());
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_float = true;
      t.text.push_back(Advance());
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        t.text.push_back(Advance());
      }
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) {
        return ErrorAt(t, absl::StrCat("invalid number '", t.text, "'"));
      }
      while (pos_ < text_.size() && IsDigit(text_[pos_])) t.text.push_back(Advance());
    }
    if (pos_ < text_.size() && IsIdentStart(text_[pos_])) {
      return ErrorAt(t, absl::StrCat("invalid number '", t.text, std::string(1, text_[pos_]),
                                     "...' (quote names that start with a digit)"));
    }
    t.kind = is_float ? Token::Kind::kFloat : Token::Kind::kInt;
    return absl::OkStatus();
  }

  std::string_view text_;
  std::string_view filename_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

bool IsSpecialFloatWord(std::string_view word) {
  std::string lower;
  for (char c : word)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower == "inf" || lower == "infinity" || lower == "nan";
}

bool IsGeneratorName(std::string_view word) {
  return word == "randn" || word == "uniform" || word == "arange" || word == "constant";
}

// Parses float-like text ("1.5", "-2e-3", "inf", "-nan") as T, correctly rounded.
template <typename T>
std::optional<T> ParseFloating(std::string_view text) {
  bool negative = !text.empty() && text[0] == '-';
  std::string_view body = negative ? text.substr(1) : text;
  std::string lower;
  for (char c : body)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  T value;
  if (lower == "inf" || lower == "infinity") {
    value = std::numeric_limits<T>::infinity();
  } else if (lower == "nan") {
    value = std::numeric_limits<T>::quiet_NaN();
  } else {
    auto result = std::from_chars(body.data(), body.data() + body.size(), value);
    if (result.ec == std::errc::result_out_of_range) {
      // Out of range: overflow is infinity, underflow is zero (decided by the exponent sign).
      bool underflow =
          body.find("e-") != std::string_view::npos || body.find("E-") != std::string_view::npos;
      value = underflow ? T(0) : std::numeric_limits<T>::infinity();
    } else if (result.ec != std::errc() || result.ptr != body.data() + body.size()) {
      return std::nullopt;
    }
  }
  return negative ? -value : value;
}

struct PendingValueInfo {
  std::string name;
  std::optional<ValueType> type;
  Token where;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view filename)
      : lexer_(text, filename), filename_(filename) {}

  absl::StatusOr<std::unique_ptr<Model>> ParseModel() {
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

 private:
  // ------------------------------------------------------------ token helpers

  // Tokens are lexed on demand (the parser looks at most two tokens ahead), so huge tensor
  // literals never exist as a whole token list. After the end, or a lexing error, every further
  // token is kEnd; the lexing error is what gets reported.
  const Token& Peek(size_t ahead = 0) {
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
  const Token& Next() {
    Peek();
    if (buffer_.front().kind == Token::Kind::kEnd) return buffer_.front();
    last_ = std::move(buffer_.front());
    buffer_.pop_front();
    return last_;
  }
  bool IsPunct(std::string_view p, size_t ahead = 0) {
    const Token& t = Peek(ahead);
    return t.kind == Token::Kind::kPunct && t.text == p;
  }
  bool Accept(std::string_view p) {
    if (!IsPunct(p)) return false;
    Next();
    return true;
  }
  bool IsIdent(std::string_view word, size_t ahead = 0) {
    return Peek(ahead).kind == Token::Kind::kIdent && Peek(ahead).text == word;
  }

  static std::string Describe(const Token& t) {
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

  absl::Status ErrorAt(const Token& t, std::string_view message) {
    if (!lex_error_.ok()) return lex_error_;  // the parser stumbled over the end it caused
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(filename_), ":", t.line, ":", t.column,
                                                   ": ",
                                                   EscapeString(message, EscapeStyle::kControl)));
  }
  absl::Status Unexpected(std::string_view expected) {
    return ErrorAt(Peek(),
                   absl::StrCat("expected ", ToAbsl(expected), ", found ", Describe(Peek())));
  }
  absl::Status Expect(std::string_view p, std::string_view context) {
    if (Accept(p)) return absl::OkStatus();
    return Unexpected(absl::StrCat("'", ToAbsl(p), "' ", ToAbsl(context)));
  }

  absl::Status ParseQuotableId(std::string& out, std::string_view what) {
    const Token& t = Peek();
    if (t.kind != Token::Kind::kIdent && t.kind != Token::Kind::kString) return Unexpected(what);
    out = Next().text;
    return absl::OkStatus();
  }
  // quotable-id ('.' quotable-id)*, joined with dots.
  absl::Status ParseQualifiedId(std::string& out, std::string_view what) {
    TEXT_RETURN_IF_ERROR(ParseQuotableId(out, what));
    while (Accept(".")) {
      std::string part;
      TEXT_RETURN_IF_ERROR(ParseQuotableId(part, what));
      absl::StrAppend(&out, ".", part);
    }
    return absl::OkStatus();
  }
  absl::Status ParseIdent(std::string& out, std::string_view what) {
    if (Peek().kind != Token::Kind::kIdent) return Unexpected(what);
    out = Next().text;
    return absl::OkStatus();
  }
  absl::Status ParseStringLiteral(std::string& out) {
    if (Peek().kind != Token::Kind::kString) return Unexpected("a string");
    out = Next().text;
    return absl::OkStatus();
  }
  absl::Status ParseInt(int64_t& out) {
    const Token& t = Peek();
    if (t.kind != Token::Kind::kInt) return Unexpected("an integer");
    auto result = std::from_chars(t.text.data(), t.text.data() + t.text.size(), out);
    if (result.ec != std::errc()) return ErrorAt(t, absl::StrCat("integer out of range: ", t.text));
    Next();
    return absl::OkStatus();
  }

  // ------------------------------------------------------------ headers

  absl::Status ParseOpsetImports(std::vector<OpsetImport>& imports) {
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

  absl::Status ParseModelHeader(Model& m) {
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

  // ------------------------------------------------------------ types

  static bool IsTypeWord(std::string_view word) {
    return DataTypeFromName(word).has_value() || word == "seq" || word == "map" ||
           word == "optional" || word == "sparse_tensor" || word == "opaque";
  }
  bool AtType() { return Peek().kind == Token::Kind::kIdent && IsTypeWord(Peek().text); }

  absl::Status ParseShape(onnx::TensorShapeProto& shape, bool& has_shape) {
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

  absl::Status ParsePrimType(int32_t& elem) {
    const Token& t = Peek();
    std::optional<DataType> dt =
        t.kind == Token::Kind::kIdent ? DataTypeFromName(t.text) : std::nullopt;
    if (!dt) return Unexpected("an element type");
    Next();
    elem = static_cast<int32_t>(*dt);
    return absl::OkStatus();
  }

  absl::Status ParseTypeProto(onnx::TypeProto& tp) {
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

  absl::Status ParseValueType(ValueType& out) {
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
      out =
          ValueType::Tensor(static_cast<DataType>(tp.tensor_type().elem_type()), std::move(shape));
    } else {
      out = ValueType();
      out.kind = ValueType::Kind::kOpaque;
      tp.SerializeToString(&out.opaque_proto);
    }
    return absl::OkStatus();
  }

  // ------------------------------------------------------------ tensors

  // Contents after "type name =": {...}, hex"...", a generator, or an elided placeholder.
  absl::StatusOr<TensorPtr> ParseTensorData(const ValueType& type, std::string_view name,
                                            const Token& where) {
    if (!type.is_tensor())
      return ErrorAt(where,
                     absl::StrCat("'", ToAbsl(name), "': constant data needs a tensor type"));
    std::optional<std::vector<int64_t>> dims = type.static_dims();
    if (!dims) {
      return ErrorAt(
          where, absl::StrCat("tensor '", ToAbsl(name), "' needs a shape with fixed dimensions"));
    }
    Tensor probe(type.elem_type, *dims, nullptr);
    int64_t count = probe.num_elements();
    if (count < 0)
      return ErrorAt(where, absl::StrCat("tensor '", ToAbsl(name), "' has invalid dims"));
    DataType elem = type.elem_type;
    const Token start = Peek();
    std::shared_ptr<Tensor> tensor;
    if (start.kind == Token::Kind::kHex) {
      Next();
      if (elem == DataType::kString)
        return ErrorAt(start, "string tensors cannot be written in hex");
      std::vector<uint8_t> bytes;
      for (size_t i = 0; i < start.text.size(); i += 2) {
        bytes.push_back(static_cast<uint8_t>(std::stoi(start.text.substr(i, 2), nullptr, 16)));
      }
      std::optional<int64_t> expected = RawByteSize(elem, count);
      if (!expected || *expected != static_cast<int64_t>(bytes.size())) {
        return ErrorAt(start, absl::StrCat("tensor '", ToAbsl(name), "': hex\"...\" has ",
                                           bytes.size(), " bytes but ", ToAbsl(DataTypeName(elem)),
                                           "[", count, " elements] needs ", expected.value_or(-1)));
      }
      tensor = std::make_shared<Tensor>(elem, *dims, Buffer::FromVector(std::move(bytes)));
    } else if (IsPunct("<") && IsIdent("elided", 1)) {
      return ErrorAt(start,
                     absl::StrCat("tensor '", ToAbsl(name),
                                  "' has elided contents (printed with "
                                  "elide_tensors_larger_than); elided text cannot be parsed"));
    } else if (start.kind == Token::Kind::kIdent && IsGeneratorName(start.text) &&
               IsPunct("(", 1)) {
      absl::StatusOr<std::vector<uint8_t>> bytes = ParseGenerator(elem, count, name);
      if (!bytes.ok()) return bytes.status();
      tensor = std::make_shared<Tensor>(elem, *dims, Buffer::FromVector(std::move(*bytes)));
    } else if (Accept("{")) {
      // Encoded in batches (of an even size, for 4-bit packing) to bound memory on big tensors.
      constexpr size_t kBatch = 4096;
      std::vector<Token> batch;
      std::vector<uint8_t> bytes;
      std::vector<std::string> strings;
      int64_t seen = 0;
      auto flush = [&]() -> absl::Status {
        if (elem == DataType::kString) {
          for (Token& e : batch) {
            if (e.kind != Token::Kind::kString) {
              return ErrorAt(e, absl::StrCat("expected a string, found ", Describe(e)));
            }
            strings.push_back(std::move(e.text));
          }
        } else if (!batch.empty()) {
          absl::StatusOr<std::vector<uint8_t>> encoded = EncodeLiterals(elem, batch);
          if (!encoded.ok()) return encoded.status();
          bytes.insert(bytes.end(), encoded->begin(), encoded->end());
        }
        batch.clear();
        return absl::OkStatus();
      };
      if (!Accept("}")) {
        do {
          batch.push_back(Next());
          ++seen;
          if (batch.size() == kBatch) TEXT_RETURN_IF_ERROR(flush());
        } while (Accept(","));
        TEXT_RETURN_IF_ERROR(Expect("}", "to close the tensor contents"));
      }
      TEXT_RETURN_IF_ERROR(flush());
      if (seen != count) {
        return ErrorAt(start, absl::StrCat("tensor '", ToAbsl(name), "' has ", seen,
                                           " values but its shape holds ", count));
      }
      if (elem == DataType::kString) {
        tensor = std::make_shared<Tensor>(Tensor::FromStrings(*dims, std::move(strings)));
      } else {
        tensor = std::make_shared<Tensor>(elem, *dims, Buffer::FromVector(std::move(bytes)));
      }
    } else {
      return Unexpected("tensor contents ({...}, hex\"...\", randn/uniform/arange/constant(...))");
    }
    tensor->name = std::string(name);
    return TensorPtr(std::move(tensor));
  }

  template <typename T>
  static void AppendRaw(std::vector<uint8_t>& out, T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
  }

  absl::StatusOr<std::vector<uint8_t>> EncodeLiterals(DataType elem,
                                                      const std::vector<Token>& elements) {
    std::vector<uint8_t> out;
    auto is_number = [](const Token& e) {
      return e.kind == Token::Kind::kInt || e.kind == Token::Kind::kFloat ||
             (e.kind == Token::Kind::kIdent && IsSpecialFloatWord(e.text));
    };
    switch (elem) {
      case DataType::kFloat:
      case DataType::kFloat16:
      case DataType::kBFloat16:
      case DataType::kDouble:
        for (const Token& e : elements) {
          if (!is_number(e))
            return ErrorAt(e, absl::StrCat("expected a number, found ", Describe(e)));
          if (elem == DataType::kDouble) {
            std::optional<double> d = ParseFloating<double>(e.text);
            if (!d) return ErrorAt(e, absl::StrCat("invalid number ", e.text));
            AppendRaw(out, *d);
            continue;
          }
          std::optional<float> f = ParseFloating<float>(e.text);
          if (!f) return ErrorAt(e, absl::StrCat("invalid number ", e.text));
          if (elem == DataType::kFloat) {
            AppendRaw(out, *f);
          } else if (elem == DataType::kFloat16) {
            AppendRaw(out, quant::FloatToHalf(*f));
          } else {
            AppendRaw(out, quant::FloatToBFloat16(*f));
          }
        }
        return out;
      case DataType::kInt8:
      case DataType::kUint8:
      case DataType::kInt16:
      case DataType::kUint16:
      case DataType::kInt32:
      case DataType::kUint32:
      case DataType::kInt64:
      case DataType::kUint64:
      case DataType::kBool:
      case DataType::kInt4:
      case DataType::kUint4:
        break;
      default:
        return ErrorAt(elements.empty() ? Peek() : elements[0],
                       absl::StrCat("write ", ToAbsl(DataTypeName(elem)),
                                    " tensor contents as hex\"...\" (raw bytes)"));
    }
    std::vector<uint8_t> nibbles;
    for (const Token& e : elements) {
      if (e.kind != Token::Kind::kInt) {
        return ErrorAt(e, absl::StrCat("expected an integer for ", ToAbsl(DataTypeName(elem)),
                                       ", found ", Describe(e)));
      }
      auto out_of_range = [&] {
        return ErrorAt(
            e, absl::StrCat("value ", e.text, " is out of range for ", ToAbsl(DataTypeName(elem))));
      };
      if (elem == DataType::kUint64) {
        uint64_t u = 0;
        auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), u);
        if (r.ec != std::errc() || r.ptr != e.text.data() + e.text.size()) return out_of_range();
        AppendRaw(out, u);
        continue;
      }
      int64_t v = 0;
      auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
      if (r.ec != std::errc() || r.ptr != e.text.data() + e.text.size()) return out_of_range();
      auto check = [&](int64_t lo, int64_t hi) { return v >= lo && v <= hi; };
      switch (elem) {
        case DataType::kInt8:
          if (!check(-128, 127)) return out_of_range();
          AppendRaw(out, static_cast<int8_t>(v));
          break;
        case DataType::kUint8:
          if (!check(0, 255)) return out_of_range();
          AppendRaw(out, static_cast<uint8_t>(v));
          break;
        case DataType::kInt16:
          if (!check(-32768, 32767)) return out_of_range();
          AppendRaw(out, static_cast<int16_t>(v));
          break;
        case DataType::kUint16:
          if (!check(0, 65535)) return out_of_range();
          AppendRaw(out, static_cast<uint16_t>(v));
          break;
        case DataType::kInt32:
          if (!check(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max())) {
            return out_of_range();
          }
          AppendRaw(out, static_cast<int32_t>(v));
          break;
        case DataType::kUint32:
          if (!check(0, std::numeric_limits<uint32_t>::max())) return out_of_range();
          AppendRaw(out, static_cast<uint32_t>(v));
          break;
        case DataType::kInt64:
          AppendRaw(out, v);
          break;
        case DataType::kBool:
          if (!check(0, 1)) return out_of_range();
          AppendRaw(out, static_cast<uint8_t>(v));
          break;
        case DataType::kInt4:
          if (!check(-8, 7)) return out_of_range();
          nibbles.push_back(static_cast<uint8_t>(v & 0xF));
          break;
        case DataType::kUint4:
          if (!check(0, 15)) return out_of_range();
          nibbles.push_back(static_cast<uint8_t>(v));
          break;
        default:
          break;
      }
    }
    for (size_t i = 0; i < nibbles.size(); i += 2) {
      uint8_t high = i + 1 < nibbles.size() ? nibbles[i + 1] : 0;
      out.push_back(static_cast<uint8_t>(nibbles[i] | (high << 4)));
    }
    return out;
  }

  // randn(seed: S, mean: M, std: D) | uniform(seed: S, low: L, high: H) | arange(start: A,
  // step: B) | constant(V); arguments by name or by position, in that order.
  absl::StatusOr<std::vector<uint8_t>> ParseGenerator(DataType elem, int64_t count,
                                                      std::string_view name) {
    const Token gen_token = Next();
    const std::string& gen = gen_token.text;
    Next();  // '('
    textgen::GenSpec spec;
    std::vector<std::string> params;
    if (gen == "randn") {
      spec.kind = textgen::GenKind::kRandn;
      params = {"seed", "mean", "std"};
    } else if (gen == "uniform") {
      spec.kind = textgen::GenKind::kUniform;
      params = {"seed", "low", "high"};
    } else if (gen == "arange") {
      spec.kind = textgen::GenKind::kArange;
      spec.a = 0;
      params = {"start", "step"};
    } else {
      spec.kind = textgen::GenKind::kConstant;
      params = {"value"};
    }
    std::vector<bool> seen(params.size(), false);
    size_t position = 0;
    if (!IsPunct(")")) {
      do {
        size_t index = position;
        if (Peek().kind == Token::Kind::kIdent && IsPunct(":", 1)) {
          const Token key = Next();
          Next();
          auto it = std::find(params.begin(), params.end(), key.text);
          if (it == params.end()) {
            return ErrorAt(key, absl::StrCat(gen, "() has no parameter '", key.text,
                                             "' (parameters: ", absl::StrJoin(params, ", "), ")"));
          }
          index = static_cast<size_t>(it - params.begin());
        } else if (index >= params.size()) {
          return ErrorAt(Peek(),
                         absl::StrCat(gen, "() takes at most ", params.size(), " arguments"));
        }
        if (seen[index]) return ErrorAt(Peek(), absl::StrCat("'", params[index], "' given twice"));
        seen[index] = true;
        ++position;
        const Token value = Next();
        bool numeric = value.kind == Token::Kind::kInt || value.kind == Token::Kind::kFloat;
        if (!numeric) {
          return ErrorAt(value, absl::StrCat("expected a number for '", params[index], "', found ",
                                             Describe(value)));
        }
        if (params[index] == "seed") {
          auto r =
              std::from_chars(value.text.data(), value.text.data() + value.text.size(), spec.seed);
          if (value.kind != Token::Kind::kInt || r.ec != std::errc() ||
              r.ptr != value.text.data() + value.text.size()) {
            return ErrorAt(value, "seed must be a non-negative integer below 2^64");
          }
          continue;
        }
        std::optional<double> d = ParseFloating<double>(value.text);
        if (!d) return ErrorAt(value, absl::StrCat("invalid number ", value.text));
        bool first = params[index] == "mean" || params[index] == "low" ||
                     params[index] == "start" || params[index] == "value";
        (first ? spec.a : spec.b) = *d;
      } while (Accept(","));
    }
    TEXT_RETURN_IF_ERROR(Expect(")", absl::StrCat("to close ", gen, "(")));
    if ((gen == "randn" || gen == "uniform") && !seen[0]) {
      return ErrorAt(gen_token, absl::StrCat(gen, "() needs a seed"));
    }
    if (gen == "constant" && !seen[0]) return ErrorAt(gen_token, "constant() needs a value");
    if ((gen == "randn" || gen == "uniform") && !IsFloatingPoint(elem)) {
      return ErrorAt(gen_token, absl::StrCat(gen, "() fills floating-point tensors only, not ",
                                             ToAbsl(DataTypeName(elem))));
    }
    std::vector<double> values = textgen::GenerateValues(spec, count);
    absl::StatusOr<std::vector<uint8_t>> bytes = textgen::EncodeValues(elem, values);
    if (!bytes.ok()) {
      return ErrorAt(gen_token,
                     absl::StrCat("tensor '", ToAbsl(name), "': ", bytes.status().message()));
    }
    return bytes;
  }

  // ------------------------------------------------------------ attributes

  static std::optional<AttrType> AttrTypeFromName(std::string_view name) {
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

  static AttrType SingleOf(AttrType t) {
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
  static AttrType ListOf(AttrType t) {
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
  static bool IsListType(AttrType t) { return SingleOf(t) != t; }

  struct SingleValue {
    AttrType type = AttrType::kUndefined;
    Attribute::Payload value;
  };

  absl::StatusOr<SingleValue> ParseSingleAttrValue(AttrType expected, Node* owner) {
    const Token t = Peek();
    SingleValue out;
    if (t.kind == Token::Kind::kHex) {
      if (expected != AttrType::kSparseTensor && expected != AttrType::kTypeProto) {
        return ErrorAt(
            t, "a hex\"...\" attribute value needs a sparse_tensor or type_proto annotation");
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
    } else if (t.kind == Token::Kind::kIdent ||
               (t.kind == Token::Kind::kString && IsPunct("(", 1))) {
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
  absl::Status ParseAttributeRest(Attribute& attr, Node* owner) {
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

  absl::Status ParseAttributeList(std::vector<Attribute>& attrs, Node* owner) {
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

  // ------------------------------------------------------------ graphs and nodes

  absl::Status CheckNewName(const Graph& g, const std::string& name, const Token& where) {
    if (name.empty()) return ErrorAt(where, "a value name may not be empty");
    if (g.FindValue(name) != nullptr) {
      return ErrorAt(where, absl::StrCat("value '", name, "' is already defined"));
    }
    return absl::OkStatus();
  }

  // One entry of an input or value-info list: [type] name ['=' contents].
  struct Entry {
    Token where;
    std::string name;
    std::optional<ValueType> type;
    TensorPtr initializer;
  };

  absl::StatusOr<Entry> ParseEntry(bool allow_initializer) {
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
  absl::Status ParseGraph(Graph& g) {
    TEXT_RETURN_IF_ERROR(ParseQuotableId(g.name, "a graph name"));
    return ParseGraphRest(g);
  }

  absl::Status ParseGraphRest(Graph& g) {
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
          return ErrorAt(e.where, absl::StrCat("value_info '", e.name,
                                               "' names a value of an enclosing graph"));
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

  absl::Status ParseNode(Graph& g) {
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

  absl::Status ParseFunction(Function& f) {
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

  Lexer lexer_;
  std::deque<Token> buffer_;
  Token last_;
  bool lexed_end_ = false;
  absl::Status lex_error_;
  std::string_view filename_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Model>> ParseModel(std::string_view text,
                                                  std::string_view filename) {
  Parser parser(text, filename);
  return parser.ParseModel();
}

}  // namespace onnx_opt
