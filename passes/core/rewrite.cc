#include "passes/core/rewrite.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/core/utils.h"

namespace onnx_opt {

void Rewriter::Enqueue(Node* node) {
  if (node == nullptr || node->graph() != &graph_) return;  // other graphs run their own sweep
  if (queued_.insert(node).second) worklist_.push_back(node);
}

Node* Rewriter::PopNext() {
  while (!worklist_.empty()) {
    Node* node = worklist_.back();
    worklist_.pop_back();
    // Erased nodes were dropped from queued_; their stale entries are skipped here.
    if (queued_.erase(node) > 0) return node;
  }
  return nullptr;
}

Node* Rewriter::CreateNodeBefore(Node* before, std::string_view op_type, std::vector<Value*> inputs,
                                 size_t num_outputs, std::string_view domain,
                                 std::vector<std::string> output_hints) {
  Graph& graph = before != nullptr ? *before->graph() : graph_;
  Node* node = graph.CreateNode(op_type, std::move(inputs), num_outputs, before, domain,
                                std::move(output_hints));
  ++changes_;
  Enqueue(node);
  return node;
}

void Rewriter::ReplaceAllUsesWith(Value* from, Value* to) {
  if (from == to) return;
  for (const Use& use : from->uses()) Enqueue(use.node);
  from->ReplaceAllUsesWith(to);
  if (to != nullptr) Enqueue(to->producer());
  ++changes_;
}

absl::Status Rewriter::ReplaceNode(Node* node, const std::vector<Value*>& replacements) {
  if (replacements.size() != node->outputs().size()) {
    return absl::InvalidArgumentError(absl::StrCat(node->DebugName(), ": replacing ",
                                                   node->outputs().size(), " outputs with ",
                                                   replacements.size(), " values"));
  }
  for (size_t i = 0; i < replacements.size(); ++i) {
    Value* out = node->output(i);
    if (out != nullptr && replacements[i] != nullptr) ReplaceAllUsesWith(out, replacements[i]);
  }
  return EraseNode(node);
}

absl::Status Rewriter::EraseNode(Node* node) {
  std::vector<Node*> producers;
  for (Value* in : node->inputs()) {
    if (in != nullptr) producers.push_back(in->producer());
  }
  absl::Status status = node->graph()->EraseNode(node);
  if (!status.ok()) return status;
  queued_.erase(node);
  for (Node* p : producers) Enqueue(p);
  ++changes_;
  return absl::OkStatus();
}

void Rewriter::NotifyChanged(Node* node) {
  Enqueue(node);
  for (Value* out : node->outputs()) {
    if (out == nullptr) continue;
    for (const Use& use : out->uses()) Enqueue(use.node);
  }
  ++changes_;
}

namespace {

bool IsDead(const Node& node) {
  for (Value* out : node.outputs()) {
    if (out != nullptr && IsValueUsed(out)) return false;
  }
  return true;
}

absl::StatusOr<bool> RewriteOneGraph(Graph& graph, const std::vector<RewritePattern*>& patterns,
                                     const GreedyRewriteConfig& config) {
  bool changed_any = false;
  int64_t rewrites = 0;
  for (int iteration = 0; iteration < config.max_iterations; ++iteration) {
    Rewriter rewriter(graph);
    // Pushed in reverse so the first node of the graph is visited first.
    std::vector<Node*> nodes;
    for (const auto& node : graph.nodes()) nodes.push_back(node.get());
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) rewriter.Enqueue(*it);
    bool changed = false;
    while (Node* node = rewriter.PopNext()) {
      if (config.erase_dead_nodes && IsDead(*node)) {
        if (absl::Status s = rewriter.EraseNode(node); !s.ok()) return s;
        changed = true;
        continue;
      }
      for (RewritePattern* pattern : patterns) {
        std::string_view root = pattern->root_op_type();
        if (!root.empty() && node->op_type != root) continue;
        std::string node_name = node->DebugName();  // the node may be gone afterwards
        absl::StatusOr<bool> applied = pattern->MatchAndRewrite(*node, rewriter);
        if (!applied.ok()) {
          return absl::Status(applied.status().code(),
                              absl::StrCat("pattern '", ToAbsl(pattern->name()), "' on ", node_name,
                                           ": ", applied.status().message()));
        }
        if (*applied) {
          changed = true;
          if (++rewrites > config.max_rewrites) {
            return absl::ResourceExhaustedError(
                absl::StrCat("pattern rewriting in ", GraphDebugName(graph), " exceeded ",
                             config.max_rewrites, " rewrites (patterns may undo each other)"));
          }
          break;  // the node may be erased; changed nodes were re-queued by the rewriter
        }
      }
    }
    if (!changed) return changed_any;
    changed_any = true;
  }
  return absl::ResourceExhaustedError(absl::StrCat("pattern rewriting in ", GraphDebugName(graph),
                                                   " did not converge in ", config.max_iterations,
                                                   " iterations"));
}

absl::StatusOr<bool> RewriteRecursively(Graph& graph, const std::vector<RewritePattern*>& patterns,
                                        const GreedyRewriteConfig& config) {
  absl::StatusOr<bool> changed = RewriteOneGraph(graph, patterns, config);
  if (!changed.ok() || !config.visit_subgraphs) return changed;
  bool any = *changed;
  for (const auto& node : graph.nodes()) {
    for (Graph* sub : node->subgraphs()) {
      absl::StatusOr<bool> sub_changed = RewriteRecursively(*sub, patterns, config);
      if (!sub_changed.ok()) return sub_changed;
      any = any || *sub_changed;
    }
  }
  return any;
}

}  // namespace

absl::StatusOr<bool> ApplyPatternsGreedily(
    Graph& graph, const std::vector<std::unique_ptr<RewritePattern>>& patterns,
    const GreedyRewriteConfig& config) {
  std::vector<RewritePattern*> ordered;
  for (const auto& p : patterns) ordered.push_back(p.get());
  std::stable_sort(ordered.begin(), ordered.end(), [](RewritePattern* a, RewritePattern* b) {
    return a->benefit() > b->benefit();
  });
  return RewriteRecursively(graph, ordered, config);
}

}  // namespace onnx_opt
