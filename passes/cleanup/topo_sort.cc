// topo-sort: puts the nodes of every graph in topological order, moving as few as possible.
//
// A node moves only behind what it needs (its inputs and the outer values its subgraphs use);
// otherwise the existing order is kept, so already-sorted graphs are left untouched. A cycle is
// an error naming a node on it.
//
// Before:
//   main (float[2] x) => (float[2] y) {
//     y = Abs(t)
//     t = Neg(x)
//   }
// After:
//   main (float[2] x) => (float[2] y) {
//     t = Neg(x)
//     y = Abs(t)
//   }
#include <memory>
#include <vector>

#include "passes/core/pass.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

class TopoSortPass : public Pass {
 public:
  std::string_view name() const override { return "topo-sort"; }
  std::string_view summary() const override {
    return "Order nodes topologically, keeping the existing order where possible";
  }
  std::string_view description() const override {
    return "Kahn's algorithm that always picks the earliest ready node, so the result is "
           "stable. Subgraph captures count as inputs of the node owning the subgraph.";
  }

  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    absl::StatusOr<std::vector<Node*>> order = StableTopologicalOrder(graph);
    if (!order.ok()) return order.status();
    size_t position = 0;
    int64_t moved = 0;
    for (const auto& node : graph.nodes()) {
      if (node.get() != (*order)[position++]) ++moved;
    }
    if (moved == 0) return absl::OkStatus();
    graph.Reorder(*order);
    nodes_moved_ += moved;
    ++graphs_reordered_;
    return absl::OkStatus();
  }

 private:
  PassStatistic nodes_moved_{this, "nodes-moved", "Nodes whose position changed"};
  PassStatistic graphs_reordered_{this, "graphs-reordered", "Graphs that were not sorted"};
};

}  // namespace

std::unique_ptr<Pass> CreateTopoSortPass() { return std::make_unique<TopoSortPass>(); }

}  // namespace onnx_opt
