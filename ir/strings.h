// Bridges std::string_view and Debian's absl::string_view (a distinct type in libabsl 20220623).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace onnx_opt {

inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

// "[2, 3, 4]": tensor dimensions as diagnostics print them.
inline std::string FormatDims(const std::vector<int64_t>& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

// How EscapeString writes the characters it escapes.
enum class EscapeStyle {
  // Diagnostics quote names and paths from files and must stay one line whatever those hold:
  // \n, \r, \t, other control characters (and DEL) as \xHH.
  kControl,
  // kControl plus \" and \\: string literals of the ONNX text syntax.
  kQuoted,
  // JSON strings (RFC 8259): \", \\, \n, the other characters below 0x20 as \u00HH.
  kJson,
};

// `text` escaped in `style`, without surrounding quotes.
inline std::string EscapeString(std::string_view text, EscapeStyle style) {
  const bool json = style == EscapeStyle::kJson;
  const bool quotes = style != EscapeStyle::kControl;
  std::string escaped;
  escaped.reserve(text.size());
  for (unsigned char c : text) {
    if (quotes && (c == '"' || c == '\\')) {
      escaped += '\\';
      escaped += static_cast<char>(c);
    } else if (c == '\n') {
      escaped += "\\n";
    } else if (!json && c == '\r') {
      escaped += "\\r";
    } else if (!json && c == '\t') {
      escaped += "\\t";
    } else if (c < 0x20 || (!json && c == 0x7f)) {
      char hex[7];
      std::snprintf(hex, sizeof hex, json ? "\\u%04x" : "\\x%02x", c);
      escaped += hex;
    } else {
      escaped += static_cast<char>(c);
    }
  }
  return escaped;
}

}  // namespace onnx_opt
