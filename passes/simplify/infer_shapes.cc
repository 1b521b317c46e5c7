// infer-shapes: infers the element type and shape of every node output and records them as
// value_info.
//
// Inference is ONNX's own (libonnx from Debian's libonnx-dev, see shape_inference.h for why it is
// preferred to hand-written rules), with data propagation so shape subgraphs such as
// Shape -> Gather -> Concat -> Reshape give static shapes. Symbolic dims stay symbolic; ops ONNX
// has no schema for leave their outputs as they were; a type the model declares is never
// contradicted (a disagreement is counted in shape-conflicts and the model's type kept).
//
// Before:
//   main (float[N,3,8,8] x) => (float[N,4,8,8] y)
//   <float[4,3,1,1] w = {...}>
//   {
//     c = Conv (x, w)
//     y = Relu (c)
//   }
// After:
//   main (float[N,3,8,8] x) => (float[N,4,8,8] y)
//   <float[4,3,1,1] w = {...}>
//   {
//     c = Conv (x, w)          # value_info: float[N,4,8,8] c
//     y = Relu (c)
//   }
#include <memory>

#include "passes/core/pass.h"
#include "passes/simplify/shape_inference.h"

namespace onnx_opt {
namespace {

class InferShapesPass : public Pass {
 public:
  std::string_view name() const override { return "infer-shapes"; }
  std::string_view summary() const override {
    return "Infer element types and shapes of every value and record them as value_info";
  }
  std::string_view description() const override {
    return "Uses ONNX's shape inference (libonnx, opsets up to 17 in Debian's 1.12; newer opsets "
           "fall back to the newest schema it knows) with data propagation, so shapes computed "
           "by Shape/Gather/Concat/Slice chains become static. Covers the main graph and If/Loop/"
           "Scan bodies. Symbolic dims are kept; outputs of ops without a schema (other domains) "
           "stay as they were; declared types win over conflicting inferences (counted). Chosen "
           "over hand-written rules: it is the reference for every op and opset, and on the real "
           "models of eval/models.json it types every default-domain output.";
  }

  absl::Status RunOnModel(Model& model) override {
    ShapeInferenceStats stats;
    if (absl::Status s = InferModelShapes(model, &stats); !s.ok()) return s;
    typed_ += stats.values_typed;
    refined_ += stats.values_refined;
    conflicts_ += stats.conflicts;
    untyped_ += stats.untyped;
    return absl::OkStatus();
  }

 private:
  PassStatistic typed_{this, "values-typed", "Values that had no type and got one"};
  PassStatistic refined_{this, "values-refined", "Values whose type or shape became more precise"};
  PassStatistic conflicts_{this, "shape-conflicts",
                           "Inferred types that contradict the model's (the model's kept)"};
  PassStatistic untyped_{this, "values-untyped", "Node outputs still without a type afterwards"};
};

}  // namespace

std::unique_ptr<Pass> CreateInferShapesPass() { return std::make_unique<InferShapesPass>(); }

}  // namespace onnx_opt
