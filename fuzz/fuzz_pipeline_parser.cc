// Fuzz target: the textual pass-pipeline parser (passes/core/pipeline.h).
//
// Property checked beyond "no crash": a pipeline that parses prints in canonical form, and the
// canonical form parses back to the same text (Print(Parse(Print(Parse(x)))) == Print(Parse(x))).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "passes/core/pipeline.h"
#include "passes/core/registry.h"

namespace {

const onnx_opt::PassRegistry& Registry() {
  static const auto* registry = new onnx_opt::PassRegistry(onnx_opt::MakeDefaultPassRegistry());
  return *registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Pipelines come from a command line: cap the length so the fuzzer explores structure.
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto passes = onnx_opt::ParsePipeline(text, Registry());
  if (!passes.ok()) {
    onnx_opt::fuzz::FailIfMultiLine(passes.status(), "pipeline");
    return 0;
  }
  std::string printed = onnx_opt::PrintPipeline(*passes);
  auto reparsed = onnx_opt::ParsePipeline(printed, Registry());
  if (!reparsed.ok()) {
    std::fprintf(stderr, "printed pipeline does not parse back\n  printed: %s\n  error: %s\n",
                 printed.c_str(), std::string(reparsed.status().message()).c_str());
    std::abort();
  }
  std::string reprinted = onnx_opt::PrintPipeline(*reparsed);
  if (reprinted != printed) {
    std::fprintf(stderr, "pipeline print is not stable\n  first: %s\n  second: %s\n",
                 printed.c_str(), reprinted.c_str());
    std::abort();
  }
  return 0;
}
