// Explicit registration of every built-in pass listed in passes/passes.def; no static
// initialisers, so a library user decides which registry holds which passes.
#include <memory>

#include "passes/core/pass.h"
#include "passes/core/registry.h"

namespace onnx_opt {

#define ONNX_OPT_PASS(factory) std::unique_ptr<Pass> factory();
#include "passes/passes.def"
#undef ONNX_OPT_PASS

void RegisterAllPasses(PassRegistry& registry) {
  auto add = [&registry](PassFactory factory) {
    // Built-in names are unique and kebab-case; a clash is a programming error caught by tests.
    absl::Status status = registry.Register(std::move(factory));
    (void)status;
  };
#define ONNX_OPT_PASS(factory) add(factory);
#include "passes/passes.def"
#undef ONNX_OPT_PASS
  // Named pipelines come after the passes they use.
#define ONNX_OPT_PIPELINE(name, summary, pipeline) \
  (void)registry.RegisterPipeline(name, summary, pipeline);
#include "passes/pipelines.def"
#undef ONNX_OPT_PIPELINE
}

}  // namespace onnx_opt
