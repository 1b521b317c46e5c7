// Property checks shared by the fuzz targets: a failed check prints why and aborts, which is how
// libFuzzer (and the replay driver) records a finding.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace onnx_opt::fuzz {

// Every error must be one line (the tools print it as one diagnostic).
inline void FailIfMultiLine(const absl::Status& status, const char* stage) {
  if (status.message().find('\n') != std::string_view::npos) {
    std::fprintf(stderr, "%s error spans several lines: %s\n", stage,
                 std::string(status.message()).c_str());
    std::abort();
  }
}

}  // namespace onnx_opt::fuzz
