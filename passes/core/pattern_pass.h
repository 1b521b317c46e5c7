// A pass made of rewrite patterns: each graph gets its patterns applied greedily until nothing
// matches. The pass manager visits the subgraphs (so the driver does not), and the nodes a
// rewrite leaves unused (replaced constants, Casts) are erased as it goes, and so are the
// initializers it leaves unused (a Clip bound made an attribute): otherwise the next dce would
// change the model and a second run of a pipeline ending in this pass would not be a no-op. Such a
// pass reaches its fixpoint in one run, so it is declared idempotent (a test runs it twice on the
// real models). Initializers that were unused before are dce's business and stay.
#pragma once

#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "passes/core/pass.h"
#include "passes/core/rewrite.h"
#include "passes/core/utils.h"

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
    std::vector<Value*> used_initializers;
    for (Value* v : graph.initializers()) {
      if (IsValueUsed(v) && !v->is_graph_input()) used_initializers.push_back(v);
    }
    if (absl::Status s = ApplyPatternsGreedily(graph, patterns, config).status(); !s.ok()) return s;
    // Only those still in the graph: a pattern may have erased one itself.
    const absl::flat_hash_set<Value*> live(graph.initializers().begin(),
                                           graph.initializers().end());
    for (Value* v : used_initializers) {
      if (!live.contains(v) || IsValueUsed(v)) continue;
      if (absl::Status s = graph.EraseValue(v); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 protected:
  // The patterns for `graph` (they may depend on its model's opset or the pass's options).
  virtual RewritePatterns Patterns(const Graph& graph, const Model& model) = 0;
};

}  // namespace onnx_opt
