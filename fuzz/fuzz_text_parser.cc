// Fuzz target: the ONNX text-syntax parser (ir/text/text.h).
//
// Properties checked beyond "no crash, no hang": errors are one line; a model that parses prints,
// and the printed text parses back and prints identically (the printer and parser agree, so
// text round trips never silently change a model).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "ir/text/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Big inputs only slow the fuzzer down; the parser's size handling is covered by lit tests.
  if (size > 64 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto model = onnx_opt::ParseModel(text, "fuzz.onnxtxt");
  if (!model.ok()) {
    onnx_opt::fuzz::FailIfMultiLine(model.status(), "parse");
    return 0;
  }
  std::string printed = onnx_opt::PrintModel(**model);
  auto reparsed = onnx_opt::ParseModel(printed, "printed.onnxtxt");
  if (!reparsed.ok()) {
    std::fprintf(stderr, "printed model does not parse back: %s\n--- printed ---\n%s\n",
                 std::string(reparsed.status().message()).c_str(), printed.c_str());
    std::abort();
  }
  std::string reprinted = onnx_opt::PrintModel(**reparsed);
  if (reprinted != printed) {
    std::fprintf(stderr, "print is not stable\n--- first ---\n%s\n--- second ---\n%s\n",
                 printed.c_str(), reprinted.c_str());
    std::abort();
  }
  return 0;
}
