// Bridges std::string_view and Debian's absl::string_view (a distinct type in libabsl 20220623).
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace onnx_opt {

inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace onnx_opt
