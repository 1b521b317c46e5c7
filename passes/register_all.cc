// Explicit registration of every built-in pass, in the order --list-passes shows them.
// To add a pass: declare its factory in the first list and register it in the second.
#include <memory>

#include "passes/pass.h"
#include "passes/registry.h"

namespace onnx_opt {

std::unique_ptr<Pass> CreateDeadCodeEliminationPass();
std::unique_ptr<Pass> CreateConstantsToInitializersPass();
std::unique_ptr<Pass> CreateDedupInitializersPass();
std::unique_ptr<Pass> CreateTopoSortPass();
std::unique_ptr<Pass> CreateUpgradeOpsetPass();
std::unique_ptr<Pass> CreateQuantizeWeightsPass();
std::unique_ptr<Pass> CreateDequantizeWeightsPass();
std::unique_ptr<Pass> CreateExposeActivationsPass();

void RegisterAllPasses(PassRegistry& registry) {
  auto add = [&registry](PassFactory factory) {
    // Built-in names are unique and kebab-case; a clash is a programming error caught by tests.
    absl::Status status = registry.Register(std::move(factory));
    (void)status;
  };
  add(CreateDeadCodeEliminationPass);
  add(CreateConstantsToInitializersPass);
  add(CreateDedupInitializersPass);
  add(CreateTopoSortPass);
  add(CreateUpgradeOpsetPass);
  add(CreateQuantizeWeightsPass);
  add(CreateDequantizeWeightsPass);
  add(CreateExposeActivationsPass);
}

}  // namespace onnx_opt
