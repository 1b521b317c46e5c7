// A pass made of rewrite patterns: each graph gets its patterns applied greedily until nothing
// matches. The pass manager visits the subgraphs (so the driver does not), and the nodes a
// rewrite leaves unused (replaced constants, Casts) are erased as it goes. Such a pass reaches
// its fixpoint in one run, so it is declared idempotent (a test runs it twice on the real models).
#pragma once

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "passes/core/pass.h"
#include "passes/core/rewrite.h"

namespace onnx_opt {

using RewritePatterns = std::vector<std::unique_ptr<RewritePattern>>;

class PatternPass : public Pass {
 public:
  PassConvergence convergence() const override { return PassConvergence::kIdempotent; }

  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    RewritePatterns patterns = Patterns(graph, model);
    GreedyRewriteConfig config;
    config.visit_subgraphs = false;  // the pass manager visits every graph
    config.erase_dead_nodes = true;
    return ApplyPatternsGreedily(graph, patterns, config).status();
  }

 protected:
  // The patterns for `graph` (they may depend on its model's opset or the pass's options).
  virtual RewritePatterns Patterns(const Graph& graph, const Model& model) = 0;
};

}  // namespace onnx_opt
