// dce: removes every node that does not contribute to a graph output, in every graph.
//
// ONNX operators have no side effects, so liveness is reachability from the graph outputs. A node
// whose subgraphs use a value of an enclosing graph keeps that value alive while it is alive.
//
// Before:
//   main (float[2] x) => (float[2] y)
//   <float[2] unused_w = {1.0, 2.0}>
//   {
//     dead = Neg(x)
//     dead2 = Add(dead, unused_w)
//     y = Abs(x)
//   }
// After:
//   main (float[2] x) => (float[2] y) {
//     y = Abs(x)
//   }
#include <memory>
#include <vector>

#include "passes/core/pass.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

class DeadCodeEliminationPass : public Pass {
 public:
  std::string_view name() const override { return "dce"; }
  std::string_view summary() const override {
    return "Remove nodes, initializers and value_info entries that no graph output needs";
  }
  std::string_view description() const override {
    return "Liveness is reachability from the graph outputs: ONNX operators have no side "
           "effects. Nodes inside If/Loop/Scan bodies are removed when they do not reach their "
           "body's outputs; values of an enclosing graph that a live body uses stay alive. "
           "Graph inputs are never removed (they are the model's interface).";
  }

  absl::Status RunOnModel(Model& model) override {
    // One reverse sweep frees whole dead chains (consumers come before producers); repeat for
    // safety until nothing changes.
    bool changed = true;
    while (changed) {
      changed = false;
      if (model.graph) {
        absl::StatusOr<bool> swept = Sweep(*model.graph);
        if (!swept.ok()) return swept.status();
        changed |= *swept;
      }
      for (Function& function : model.functions) {
        if (!function.body) continue;
        absl::StatusOr<bool> swept = Sweep(*function.body);
        if (!swept.ok()) return swept.status();
        changed |= *swept;
      }
    }
    return absl::OkStatus();
  }

 private:
  static bool IsDead(const Node& node) {
    for (Value* out : node.outputs()) {
      if (out != nullptr && IsValueUsed(out)) return false;
    }
    return true;
  }

  // Removes dead nodes of `graph` (last to first, sweeping the bodies of live nodes on the way so
  // the outer values they stop using can die in the same sweep), then dead values.
  absl::StatusOr<bool> Sweep(Graph& graph) {
    bool changed = false;
    std::vector<Node*> reversed;
    for (auto it = graph.nodes().rbegin(); it != graph.nodes().rend(); ++it) {
      reversed.push_back(it->get());
    }
    for (Node* node : reversed) {
      if (IsDead(*node)) {
        if (absl::Status s = graph.EraseNode(node); !s.ok()) return s;
        ++nodes_removed_;
        changed = true;
        continue;
      }
      for (Graph* sub : node->subgraphs()) {
        absl::StatusOr<bool> swept = Sweep(*sub);
        if (!swept.ok()) return swept;
        changed |= *swept;
      }
    }
    for (Value* value : graph.values()) {
      if (IsValueUsed(value) || value->is_graph_input() || value->producer() != nullptr) continue;
      if (value->is_initializer()) {
        if (!remove_initializers_) continue;
        ++initializers_removed_;
      } else {
        ++value_infos_removed_;  // a value_info entry naming a value nothing defines any more
      }
      if (absl::Status s = graph.EraseValue(value); !s.ok()) return s;
      changed = true;
    }
    return changed;
  }

  PassOption<bool> remove_initializers_{this, "remove-initializers",
                                        "Also remove initializers nothing uses", true};
  PassStatistic nodes_removed_{this, "nodes-removed", "Dead nodes removed"};
  PassStatistic initializers_removed_{this, "initializers-removed", "Unused initializers removed"};
  PassStatistic value_infos_removed_{this, "value-infos-removed",
                                     "value_info entries of values that no longer exist"};
};

}  // namespace

std::unique_ptr<Pass> CreateDeadCodeEliminationPass() {
  return std::make_unique<DeadCodeEliminationPass>();
}

}  // namespace onnx_opt
