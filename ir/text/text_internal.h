// Helpers shared by the text printer and parser (not part of the public API).
#pragma once

#include <string>
#include <string_view>

namespace onnx_opt::text_internal {

// Words that would be read as something else where a name may stand: element type names, type
// constructors and special float literals. Names equal to one of them are printed quoted.
bool IsReservedWord(std::string_view word);
// [A-Za-z_][A-Za-z0-9_]* and not reserved.
bool IsPlainIdentifier(std::string_view name);
// "..." with \" \\ \n \t \r and \xHH escapes for other control bytes.
std::string QuoteString(std::string_view s);
// The name itself when plain, else quoted.
std::string QuotableName(std::string_view name);
// Shortest text that parses back to the same value; always contains '.', 'e', "inf" or "nan" so it
// never reads as an integer.
std::string FormatFloat(float f);
std::string FormatDouble(double d);

}  // namespace onnx_opt::text_internal
