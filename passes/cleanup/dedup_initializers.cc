// dedup-initializers: makes users of identical initializers share one of them.
//
// Two initializers are identical when element type, shape and bytes are equal. The first one (in
// initializer order) is kept. Initializers that are graph inputs (overridable defaults) or graph
// outputs (their names are part of the interface) are never merged away.
//
// Before:
//   main (float[2] x) => (float[2] y)
//   <float[2] a = {1.0, 2.0}, float[2] b = {1.0, 2.0}>
//   {
//     t = Mul(x, a)
//     y = Add(t, b)
//   }
// After:
//   main (float[2] x) => (float[2] y)
//   <float[2] a = {1.0, 2.0}>
//   {
//     t = Mul(x, a)
//     y = Add(t, a)
//   }
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "passes/core/pass.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

class DedupInitializersPass : public Pass {
 public:
  DedupInitializersPass() { min_bytes_.Range(0, 1e15); }
  std::string_view name() const override { return "dedup-initializers"; }
  std::string_view summary() const override {
    return "Merge initializers with identical type, shape and data";
  }
  std::string_view description() const override {
    return "Compares a 64-bit content hash first, then the full contents. Works per graph; "
           "initializers smaller than min-bytes are left alone.";
  }

  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    // Hash -> kept initializers with that hash (collisions are compared in full).
    absl::flat_hash_map<uint64_t, std::vector<Value*>> kept;
    std::vector<Value*> initializers = graph.initializers();
    for (Value* value : initializers) {
      if (value->is_graph_input()) continue;
      const Tensor& tensor = *value->initializer();
      if (static_cast<int64_t>(tensor.bytes().size()) < min_bytes_.value() &&
          tensor.type() != DataType::kString) {
        continue;
      }
      std::vector<Value*>& candidates = kept[tensor.ContentHash()];
      Value* same = nullptr;
      for (Value* candidate : candidates) {
        if (candidate->initializer()->ContentEquals(tensor)) {
          same = candidate;
          break;
        }
      }
      if (same == nullptr || value->is_graph_output()) {
        if (same == nullptr) candidates.push_back(value);
        continue;
      }
      bytes_saved_ += static_cast<int64_t>(tensor.bytes().size());
      value->ReplaceAllUsesWith(same);
      if (absl::Status s = graph.EraseValue(value); !s.ok()) return s;
      ++removed_;
    }
    return absl::OkStatus();
  }

 private:
  PassOption<int64_t> min_bytes_{this, "min-bytes",
                                 "Only merge initializers of at least this many bytes", 0};
  PassStatistic removed_{this, "initializers-removed", "Duplicate initializers removed"};
  PassStatistic bytes_saved_{this, "bytes-saved", "Bytes of tensor data no longer stored"};
};

}  // namespace

std::unique_ptr<Pass> CreateDedupInitializersPass() {
  return std::make_unique<DedupInitializersPass>();
}

}  // namespace onnx_opt
