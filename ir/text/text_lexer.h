// The lexer of the ONNX textual syntax and the number parsing the parser shares with it (not part
// of the public API; the parser is ir/text/text_parser_internal.h).
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
#include "onnx/onnx_pb.h"

namespace onnx_opt::text_internal {

// Returns the status of `expr` when it is an error.
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
  absl::Status NextToken(Token& t);

 private:
  static bool IsDigit(char c);
  static bool IsIdentStart(char c);
  static bool IsIdentChar(char c);
  char Advance();
  absl::Status ErrorAt(const Token& t, std::string_view message) const;
  void SkipSpaceAndComments();
  static int HexValue(char c);
  absl::Status LexString(Token& t);
  absl::Status LexHex(Token& t);
  absl::Status LexNumber(Token& t);

  std::string_view text_;
  std::string_view filename_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

// "inf", "infinity" or "nan" in any case.
bool IsSpecialFloatWord(std::string_view word);
// randn, uniform, arange, constant: the tensor generators of the text syntax.
bool IsGeneratorName(std::string_view word);

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

}  // namespace onnx_opt::text_internal
