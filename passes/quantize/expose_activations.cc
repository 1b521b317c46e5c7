// expose-activations: makes the activation each weighted Conv/ConvTranspose/MatMul/Gemm reads a
// graph output, so a runtime returns it (calibration data for data-aware quantization).
//
// A node counts when its weight is a float constant (initializer or Constant output) that
// quantize-weights would take: a weight input of the op, at least min-elements elements. Its
// activation is the other operand: Conv/ConvTranspose input 0, the non-constant side of MatMul
// and Gemm. Each value is exposed once, after the original outputs, in node order; a value that
// is already a graph output stays where it is. Only the main graph is handled: values inside
// If/Loop/Scan bodies and functions cannot be graph outputs.
//
// Before:
//   main (float[1,4] x) => (float[1,3] y)
//   <float[4,2] w = {...}, float[2,3] v = {...}>
//   {
//     h = MatMul (x, w)
//     t = Relu (h)
//     y = MatMul (t, v)
//   }
// After (min-elements=0):
//   main (float[1,4] x) => (float[1,3] y, float[1,4] x, float[] t)
//   ...
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "passes/core/pass.h"
#include "passes/core/utils.h"
#include "passes/quantize/weight_layout.h"

namespace onnx_opt {
namespace {

bool IsQuantizableFloat(DataType type) {
  return type == DataType::kFloat || type == DataType::kFloat16 || type == DataType::kBFloat16;
}

class ExposeActivationsPass : public Pass {
 public:
  ExposeActivationsPass() { min_elements_.Range(0, 1e15); }
  std::string_view name() const override { return "expose-activations"; }
  std::string_view summary() const override {
    return "Make the activation inputs of weighted Conv/ConvTranspose/MatMul/Gemm graph outputs";
  }
  std::string_view description() const override {
    return "For calibration: a runtime then returns the tensors each weight multiplies, which "
           "quantize-weights{calibration=FILE} reads back (eval/activations.js writes them). "
           "The weight rules are those of quantize-weights (float constant, weight input of the "
           "op, at least min-elements elements). A value without a type gets the weight's "
           "element type. Only the main graph: values inside subgraphs and functions are counted "
           "as skipped.";
  }

  absl::Status RunOnModel(Model& model) override {
    model.WalkGraphs([this, &model](Graph& graph) {
      if (&graph == model.graph.get()) return;
      for (const auto& node : graph.nodes()) {
        if (FindActivation(*node)) ++skipped_nested_;
      }
    });
    if (!model.graph) return absl::OkStatus();
    Graph& graph = *model.graph;
    absl::flat_hash_set<const Value*> exposed;
    for (const auto& node : graph.nodes()) {
      std::optional<Activation> activation = FindActivation(*node);
      if (!activation) continue;
      ++nodes_matched_;
      Value* value = activation->value;
      if (exposed.contains(value)) continue;
      exposed.insert(value);
      if (value->is_graph_output()) {
        ++already_outputs_;
        continue;
      }
      if (!value->type.is_tensor()) {
        value->type = ValueType::Tensor(activation->weight_type);
      } else if (value->type.elem_type == DataType::kUndefined) {
        value->type.elem_type = activation->weight_type;
      }
      graph.AddOutput(value);
      ++values_exposed_;
    }
    return absl::OkStatus();
  }

 private:
  struct Activation {
    Value* value;
    DataType weight_type;
  };

  bool HandlesOp(const Node& node) const {
    const std::vector<std::string>& list = ops_.value();
    return node.domain.empty() && std::find(list.begin(), list.end(), node.op_type) != list.end();
  }

  // The weight at `index` of `node` when quantize-weights would quantize it, else nullopt.
  std::optional<DataType> WeightAt(const Node& node, int index) const {
    TensorPtr tensor = GetConstantTensor(node.input(index));
    if (tensor == nullptr || !IsQuantizableFloat(tensor->type())) return std::nullopt;
    if (tensor->num_elements() < std::max<int64_t>(min_elements_.value(), 1)) return std::nullopt;
    if (!FindWeightRole(node, index, tensor->rank())) return std::nullopt;
    return tensor->type();
  }

  // The activation `node` multiplies by a quantizable weight.
  std::optional<Activation> FindActivation(const Node& node) const {
    if (!HandlesOp(node)) return std::nullopt;
    // Conv/ConvTranspose: weight 1, data 0. MatMul/Gemm: the constant side is the weight.
    const bool two_sided = node.Is("MatMul") || node.Is("Gemm");
    for (int weight_index : two_sided ? std::vector<int>{1, 0} : std::vector<int>{1}) {
      std::optional<DataType> type = WeightAt(node, weight_index);
      if (!type) continue;
      Value* data = node.input(1 - weight_index);
      if (data == nullptr || data->is_initializer() || GetConstantTensor(data) != nullptr) {
        return std::nullopt;  // both operands constant: nothing to calibrate
      }
      return Activation{data, *type};
    }
    return std::nullopt;
  }

  PassOption<std::vector<std::string>> ops_{
      this, "ops", "Ops whose activation inputs are exposed",
      std::vector<std::string>{"Conv", "ConvTranspose", "MatMul", "Gemm"},
      std::vector<std::string>{"Conv", "ConvTranspose", "MatMul", "Gemm"}};
  PassOption<int64_t> min_elements_{
      this, "min-elements",
      "Only nodes whose weight has at least this many elements (quantize-weights' default)", 1024};
  PassStatistic nodes_matched_{this, "nodes-matched", "Nodes with a quantizable constant weight"};
  PassStatistic values_exposed_{this, "values-exposed", "Activation values made graph outputs"};
  PassStatistic already_outputs_{this, "values-already-outputs",
                                 "Activation values that were graph outputs already"};
  PassStatistic skipped_nested_{this, "nodes-in-subgraphs-skipped",
                                "Matching nodes inside subgraphs or functions (not exposed)"};
};

}  // namespace

std::unique_ptr<Pass> CreateExposeActivationsPass() {
  return std::make_unique<ExposeActivationsPass>();
}

}  // namespace onnx_opt
