// constants-to-initializers: turns Constant nodes into initializers of the same name.
//
// Many exporters put weights in Constant nodes; as initializers they can be deduplicated,
// quantized, and stored as external data. Constants inside subgraphs become initializers of that
// subgraph. Sparse constants are left alone.
//
// Before:
//   main (float[2] x) => (float[2] y) {
//     w = Constant <value = float[2] {1.0, 2.0}> ()
//     y = Mul(x, w)
//   }
// After:
//   main (float[2] x) => (float[2] y)
//   <float[2] w = {1.0, 2.0}>
//   {
//     y = Mul(x, w)
//   }
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/core/pass.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

class ConstantsToInitializersPass : public Pass {
 public:
  ConstantsToInitializersPass() { min_elements_.Range(0, 1e15); }
  std::string_view name() const override { return "constants-to-initializers"; }
  std::string_view summary() const override {
    return "Replace Constant nodes by initializers with the same name";
  }
  std::string_view description() const override {
    return "Handles the value, value_float(s), value_int(s) and value_string(s) attributes. "
           "Constants smaller than min-elements stay nodes (small shape constants are often "
           "clearer inline).";
  }

  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    std::vector<Node*> constants;
    for (const auto& node : graph.nodes()) {
      if (IsConstantNode(*node) && node->outputs().size() == 1 && node->output(0) != nullptr) {
        constants.push_back(node.get());
      }
    }
    for (Node* node : constants) {
      if (node->FindAttribute("sparse_value") != nullptr) {
        ++skipped_;
        continue;
      }
      absl::StatusOr<TensorPtr> tensor = ConstantNodeTensor(*node);
      if (!tensor.ok()) return tensor.status();
      if ((*tensor)->num_elements() < min_elements_.value()) {
        ++skipped_;
        continue;
      }
      Value* old_value = node->output(0);
      std::string value_name = old_value->name();
      Value* initializer =
          graph.AddInitializer(absl::StrCat(value_name, ".initializer"), *std::move(tensor));
      initializer->doc_string = old_value->doc_string;
      old_value->ReplaceAllUsesWith(initializer);
      if (absl::Status s = graph.EraseNode(node); !s.ok()) return s;
      initializer->set_name(value_name);  // the name is free again now the node is gone
      ++converted_;
    }
    return absl::OkStatus();
  }

 private:
  PassOption<int64_t> min_elements_{this, "min-elements",
                                    "Convert only constants with at least this many elements", 0};
  PassStatistic converted_{this, "constants-converted", "Constant nodes turned into initializers"};
  PassStatistic skipped_{this, "constants-skipped",
                         "Constant nodes kept (sparse, or below min-elements)"};
};

}  // namespace

std::unique_ptr<Pass> CreateConstantsToInitializersPass() {
  return std::make_unique<ConstantsToInitializersPass>();
}

}  // namespace onnx_opt
