// A greedy pattern-rewrite driver.
//
// A RewritePattern matches one root node and rewrites it through a Rewriter, which keeps a
// worklist: nodes it creates or changes, users of replaced values and producers of erased
// nodes' inputs are (re)visited until nothing matches any more.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"

namespace onnx_opt {

class Rewriter;

class RewritePattern {
 public:
  virtual ~RewritePattern() = default;
  // Used in diagnostics ("pattern 'fold-reshape' failed on Reshape 'r1': ...").
  virtual std::string_view name() const = 0;
  // Patterns with a higher benefit are tried first; ties keep the given order.
  virtual int benefit() const { return 1; }
  // When non-empty, only nodes of this op_type (any domain) are offered to the pattern.
  virtual std::string_view root_op_type() const { return {}; }
  // Returns true when it rewrote the IR. It must not change anything when it returns false, and
  // must make every change through `rewriter` so the worklist sees it.
  virtual absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) = 0;
};

class Rewriter {
 public:
  explicit Rewriter(Graph& graph) : graph_(graph) {}
  Graph& graph() { return graph_; }

  // Creates a node just before `before` (in before's graph) and queues it.
  Node* CreateNodeBefore(Node* before, std::string_view op_type, std::vector<Value*> inputs,
                         size_t num_outputs, std::string_view domain = "",
                         std::vector<std::string> output_hints = {});
  // Makes every user of `from` use `to` (graph outputs included) and queues those users.
  void ReplaceAllUsesWith(Value* from, Value* to);
  // Replaces each output of `node` by the matching value of `replacements`, then erases it.
  absl::Status ReplaceNode(Node* node, const std::vector<Value*>& replacements);
  // Erases a node whose outputs are unused; the producers of its inputs are queued (they may
  // have become dead).
  absl::Status EraseNode(Node* node);
  // Call after changing a node in place (attributes, inputs): queues it and its users.
  void NotifyChanged(Node* node);

  // --- used by the driver ---
  void Enqueue(Node* node);
  Node* PopNext();  // null when the worklist is empty
  int64_t changes() const { return changes_; }

 private:
  Graph& graph_;
  std::vector<Node*> worklist_;
  absl::flat_hash_set<Node*> queued_;
  int64_t changes_ = 0;
};

struct GreedyRewriteConfig {
  // Full sweeps over the graph (each re-seeds the worklist with every node) before giving up.
  int max_iterations = 10;
  // Successful rewrites per graph before giving up (catches patterns that undo each other).
  int64_t max_rewrites = 1'000'000;
  bool visit_subgraphs = true;
  // Erase a visited node when no output is used (a graph output counts as a use), as MLIR's
  // greedy driver erases trivially dead ops: the constants and casts a rewrite replaced go at
  // once, and their producers are queued in turn.
  bool erase_dead_nodes = false;
};

// Applies `patterns` to `graph` until a fixpoint, then to every subgraph of its remaining nodes
// (depth first). Returns whether anything changed; fails naming the graph when the iteration or
// rewrite cap is hit, or with the first pattern error (naming the pattern and node).
absl::StatusOr<bool> ApplyPatternsGreedily(
    Graph& graph, const std::vector<std::unique_ptr<RewritePattern>>& patterns,
    const GreedyRewriteConfig& config = {});

}  // namespace onnx_opt
