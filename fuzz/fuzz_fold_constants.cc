// Fuzz target: the reference evaluator through infer-shapes and fold-constants, on small models in
// ONNX text syntax (mutated shapes, constants and attributes reach every kernel).
//
// Properties checked beyond "no crash, no hang, no leak, no allocation past the cap": errors are
// one line; the folded model passes the verifier; folding again changes nothing (the pass is
// idempotent). The cap is 64 KiB per tensor so that hostile shapes cannot make a run slow either.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "ir/text/text.h"
#include "ir/verifier.h"
#include "passes/core/pass_manager.h"
#include "passes/core/registry.h"

namespace {

using onnx_opt::fuzz::FailIfMultiLine;

absl::Status Fold(onnx_opt::Model& model, const onnx_opt::PassRegistry& registry) {
  onnx_opt::PassManager pm;
  absl::Status s = pm.AddPipeline("infer-shapes,fold-constants{max-bytes=65536}", registry);
  if (!s.ok()) return s;
  return pm.Run(model);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  static const onnx_opt::PassRegistry* registry =
      new onnx_opt::PassRegistry(onnx_opt::MakeDefaultPassRegistry());
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto model = onnx_opt::ParseModel(text, "fuzz.onnxtxt");
  if (!model.ok() || !onnx_opt::VerifyModel(**model).ok()) return 0;
  if (absl::Status s = Fold(**model, *registry); !s.ok()) {
    FailIfMultiLine(s, "fold-constants");
    return 0;
  }
  if (absl::Status s = onnx_opt::VerifyModel(**model); !s.ok()) {
    std::fprintf(stderr, "folded model fails the verifier: %s\n", std::string(s.message()).c_str());
    std::abort();
  }
  const std::string once = onnx_opt::PrintModel(**model);
  if (absl::Status s = Fold(**model, *registry); !s.ok()) {
    std::fprintf(stderr, "second fold failed: %s\n", std::string(s.message()).c_str());
    std::abort();
  }
  const std::string twice = onnx_opt::PrintModel(**model);
  if (once != twice) {
    std::fprintf(stderr, "fold-constants is not idempotent\n--- once ---\n%s\n--- twice ---\n%s\n",
                 once.c_str(), twice.c_str());
    std::abort();
  }
  return 0;
}
