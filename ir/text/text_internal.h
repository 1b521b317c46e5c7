// Helpers shared by the text printer and parser (not part of the public API), defined in
// text_format.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"

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

// Dotted names ("com.microsoft") segment by segment, each quoted only when needed.
std::string QualifiedName(std::string_view name);
// "float[2,N]"; "float" for a scalar, "float[]" for an unknown shape.
std::string TensorTypeText(DataType elem, const std::optional<std::vector<Dim>>& shape);
// Empty for an untyped value.
std::string ValueTypeText(const ValueType& t);
// The literal hex"..." (lower-case digits, two per byte).
std::string HexBytes(std::span<const uint8_t> bytes);
// Decimal element texts for a tensor, or nullopt when only hex keeps its bytes exactly.
std::optional<std::vector<std::string>> DecimalElements(const Tensor& t);

}  // namespace onnx_opt::text_internal
