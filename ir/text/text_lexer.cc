// Tokens of the ONNX textual syntax (grammar in docs/text-format.md), lexed on demand.
#include "ir/text/text_lexer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "ir/text/tensor_gen.h"
#include "ir/text/text.h"
#include "ir/text/text_internal.h"
#include "onnx/onnx_pb.h"
#include "quant/float16.h"

namespace onnx_opt::text_internal {

// The next token (kEnd at the end of the text).
absl::Status Lexer::NextToken(Token& t) {
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

bool Lexer::IsDigit(char c) { return c >= '0' && c <= '9'; }

bool Lexer::IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool Lexer::IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

char Lexer::Advance() {
  char c = text_[pos_++];
  if (c == '\n') {
    ++line_;
    column_ = 1;
  } else {
    ++column_;
  }
  return c;
}

absl::Status Lexer::ErrorAt(const Token& t, std::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(filename_), ":", t.line, ":", t.column,
                                                 ": ",
                                                 EscapeString(message, EscapeStyle::kControl)));
}

void Lexer::SkipSpaceAndComments() {
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

int Lexer::HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status Lexer::LexString(Token& t) {
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

absl::Status Lexer::LexHex(Token& t) {
  Advance();  // opening quote
  t.kind = Token::Kind::kHex;
  t.text.clear();
  while (true) {
    if (pos_ >= text_.size()) return ErrorAt(t, "unterminated hex\"...\"");
    char c = Advance();
    if (c == '"') break;
    if (HexValue(c) < 0) {
      return ErrorAt(t, absl::StrCat("invalid character '", std::string(1, c), "' in hex\"...\""));
    }
    t.text.push_back(c);
  }
  if (t.text.size() % 2 != 0) return ErrorAt(t, "hex\"...\" needs an even number of digits");
  return absl::OkStatus();
}

absl::Status Lexer::LexNumber(Token& t) {
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
  if (text_.substr(pos_, 2) == "0x" && pos_ + 2 < text_.size() && HexValue(text_[pos_ + 2]) >= 0) {
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

bool IsSpecialFloatWord(std::string_view word) {
  std::string lower;
  for (char c : word)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower == "inf" || lower == "infinity" || lower == "nan";
}

bool IsGeneratorName(std::string_view word) {
  return word == "randn" || word == "uniform" || word == "arange" || word == "constant";
}

}  // namespace onnx_opt::text_internal
