// float32-compute: runs a float16 model's compute in float32. Float16 initializers and tensor
// attributes (Constant, ConstantOfShape) become float32, Casts to float16 cast to float32 (and
// are then no-ops that eliminate-identity removes), and every float16 value is retyped. The
// model's interface stays as it was: a float16 graph input is cast to float32 where it enters,
// a float16 graph output cast back where it leaves.
//
// Why: exporters such as ISNet's (imgly) compute in float16 behind Casts of float32 inputs.
// Integer inference needs float32 activations (QuantizeLinear of float32, the QDQ forms ONNX
// Runtime fuses), and ORT's CPU float16 kernels are slow; optimize-speed runs this first.
//
// Before:
//   main (float[1,4] x) => (float[1,4] y) <float16[4] b = {0.5, 1.0, 1.5, 2.0}> {
//     h = Cast <to = 10> (x)
//     s = Add (h, b)
//     y = Cast <to = 1> (s)
//   }
// After:
//   main (float[1,4] x) => (float[1,4] y) <float[4] b = {0.5, 1.0, 1.5, 2.0}> {
//     h = Cast <to = 1> (x)
//     s = Add (h, b)
//     y = Cast <to = 1> (s)
//   }
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "passes/core/pass.h"
#include "quant/float16.h"

namespace onnx_opt {
namespace {

constexpr int64_t kOnnxFloat = 1;
constexpr int64_t kOnnxFloat16 = 10;

TensorPtr ToFloat32(const Tensor& t) {
  std::vector<uint16_t> halves = t.CopyValues<uint16_t>();
  std::vector<float> floats(halves.size());
  for (size_t i = 0; i < halves.size(); ++i) floats[i] = quant::HalfToFloat(halves[i]);
  auto out = std::make_shared<Tensor>(
      Tensor::FromValues<float>(DataType::kFloat, t.dims(), std::span<const float>(floats)));
  return out;
}

class Float32ComputePass : public Pass {
 public:
  std::string_view name() const override { return "float32-compute"; }
  std::string_view summary() const override {
    return "Run float16 compute in float32 (initializers, constants, Casts, value types); the "
           "model's inputs and outputs keep their types";
  }
  std::string_view description() const override {
    return "Float16 initializers and tensor attributes become float32 (exact), Cast<to=FLOAT16> "
           "becomes Cast<to=FLOAT> (a no-op for eliminate-identity when its input is float32), "
           "and every float16 value is retyped. A float16 graph input gets a Cast to float32 "
           "after it and a float16 graph output a Cast back to float16 before it, so callers "
           "see the same interface. For integer inference (optimize-speed runs it first) and "
           "for CPUs without fast float16 kernels; the model gets larger (4 bytes per weight).";
  }
  PassConvergence convergence() const override { return PassConvergence::kIdempotent; }

  absl::Status RunOnModel(Model& model) override {
    main_graph_ = model.graph.get();
    return Pass::RunOnModel(model);
  }

  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    for (Value* v : graph.initializers()) {
      if (v->initializer()->type() != DataType::kFloat16) continue;
      graph.SetInitializer(v, ToFloat32(*v->initializer()));
      ++initializers_;
    }
    const bool is_main = &graph == main_graph_;
    // A Cast to float16 that makes a graph output is the interface (also this pass's own).
    auto is_output_cast = [&](const Node* n) {
      return is_main && n->Is("Cast") && n->GetInt("to") == kOnnxFloat16 &&
             n->output(0)->is_graph_output();
    };
    std::vector<Node*> nodes;
    for (const auto& n : graph.nodes()) nodes.push_back(n.get());
    for (Node* node : nodes) {
      for (Attribute& attr : node->mutable_attributes()) {
        if (auto* t = std::get_if<TensorPtr>(&attr.value);
            t && *t && (*t)->type() == DataType::kFloat16) {
          *t = ToFloat32(**t);
          ++attributes_;
        }
      }
      if (node->Is("Cast") && node->GetInt("to") == kOnnxFloat16 && !is_output_cast(node)) {
        node->SetAttribute(Attribute::Int("to", kOnnxFloat));
        ++casts_;
      }
    }
    for (Value* v : graph.values()) {
      if (!v->type.is_tensor() || v->type.elem_type != DataType::kFloat16) continue;
      if (is_main && v->is_graph_input()) continue;  // handled below, keeping the interface
      if (is_main && v->is_graph_output() && !v->is_initializer()) continue;
      v->type.elem_type = DataType::kFloat;
      ++values_;
    }
    if (!is_main) return absl::OkStatus();
    // The interface: float16 inputs and outputs stay float16 through boundary Casts.
    for (Value* in : std::vector<Value*>(graph.inputs())) {
      if (!in->type.is_tensor() || in->type.elem_type != DataType::kFloat16) continue;
      if (in->is_initializer()) continue;
      bool converted = in->has_uses();
      for (const Use& u : in->uses()) {
        converted = converted && u.node != nullptr && u.node->Is("Cast") &&
                    u.node->GetInt("to") == kOnnxFloat;
      }
      if (converted) continue;  // every reader already casts it to float32
      Node* first = graph.nodes().empty() ? nullptr : graph.nodes().front().get();
      Node* cast = graph.CreateNode("Cast", {in}, 1, first, "", {in->name() + "_float32"});
      cast->SetAttribute(Attribute::Int("to", kOnnxFloat));
      Value* f = cast->output(0);
      f->type = in->type;
      f->type.elem_type = DataType::kFloat;
      in->ReplaceAllUsesWith(f);
      cast->SetInput(0, in);
      ++boundary_casts_;
    }
    for (size_t i = 0; i < graph.outputs().size(); ++i) {
      Value* out = graph.outputs()[i];
      if (!out->type.is_tensor() || out->type.elem_type != DataType::kFloat16) continue;
      if (out->producer() == nullptr) continue;  // an input or initializer passed through
      if (is_output_cast(out->producer())) continue;
      // The producer now computes float32 into a new value; the output is its float16 Cast.
      ValueType half = out->type;
      Node* cast = graph.CreateNode("Cast", {out}, 1, nullptr, "", {out->name() + "_float16"});
      cast->SetAttribute(Attribute::Int("to", kOnnxFloat16));
      Value* result = cast->output(0);
      result->type = half;
      out->type.elem_type = DataType::kFloat;
      // Keep the output's name on the graph output: swap names with the cast's result.
      std::string name = out->name();
      out->set_name(name + "_float32");
      result->set_name(name);
      graph.SetOutput(i, result);
      ++boundary_casts_;
    }
    return absl::OkStatus();
  }

 private:
  Graph* main_graph_ = nullptr;
  PassStatistic initializers_{this, "initializers-converted", "Float16 initializers made float32"};
  PassStatistic attributes_{this, "attributes-converted",
                            "Float16 tensor attributes (Constant, ConstantOfShape) made float32"};
  PassStatistic casts_{this, "casts-retargeted", "Cast<to=FLOAT16> made Cast<to=FLOAT>"};
  PassStatistic values_{this, "values-retyped", "Float16 values retyped to float32"};
  PassStatistic boundary_casts_{this, "boundary-casts",
                                "Casts added to keep float16 graph inputs/outputs"};
};

}  // namespace

std::unique_ptr<Pass> CreateFloat32ComputePass() { return std::make_unique<Float32ComputePass>(); }

}  // namespace onnx_opt
