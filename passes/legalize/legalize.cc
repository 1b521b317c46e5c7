// legalize: rewrites what a named runtime cannot load into equivalent forms it can, and refuses,
// naming the node and the runtime, what it cannot fix.
//
// OpenCV DNN (4.12, 5.0 and Debian's 4.6) stops on constructs ONNX Runtime takes: ConstantOfShape
// without `value`, ConstantOfShape + Concat used as channel padding, a Split of a constant, Conv
// without kernel_shape (4.12), CastLike (4.12; upgrade-opset writes Clip bounds so), Clip with a
// computed bound (4.12), Clip with min/max inputs (4.6), a constant vector along the last axis
// of a Mul/Add/Sub/Div (4.6, see legalize_last_axis.cc), Max/Min of a constant (4.6), If (4.12
// and 4.6 read no subgraphs). Each has an equivalent form (explicit value, Pad, folded
// initializers, kernel_shape from the weight, the CastLike folded, Max/Min, the opset-6 Clip
// attributes, see legalize_clip.cc; both branches inlined and Where, see legalize_if.cc). What has
// none is refused: dynamic input dims (run set-input-shapes first), INT4/UINT4 tensors (no OpenCV
// reads them) and blocked DequantizeLinear whose block size does not divide the axis (quantize with
// ragged=divisor), a node with a subgraph left after the rewrites (4.12, 4.6). runtime=ort only
// makes ConstantOfShape values explicit.
//
// Before (runtime=opencv-4.12):
//   main (float[1,2,4,4] x) => (float[1,4,4,4] y)
//   <int64[4] s = {1, 2, 4, 4}>
//   {
//     z = ConstantOfShape (s)
//     y = Concat <axis = 1> (x, z)
//   }
// After:
//   main (float[1,2,4,4] x) => (float[1,4,4,4] y)
//   <int64[8] y_pads = {0, 0, 0, 0, 0, 2, 0, 0}, float y_pad_value = {0}>
//   {
//     y = Pad (x, y_pads, y_pad_value)
//   }
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/core/pattern_pass.h"
#include "passes/core/rewrite.h"
#include "passes/core/utils.h"
#include "passes/legalize/legalize_rewrites.h"

namespace onnx_opt {
namespace {

bool IsFourBit(DataType t) { return t == DataType::kInt4 || t == DataType::kUint4; }

class LegalizePass : public PatternPass {
 public:
  std::string_view name() const override { return "legalize"; }
  std::string_view summary() const override {
    return "Rewrite what a runtime (ort, opencv-4.12, opencv-5, opencv-4.6) cannot load into "
           "equivalent forms; refuse what cannot be fixed";
  }
  std::string_view description() const override {
    return "For OpenCV: ConstantOfShape gets an explicit value; Concat of a value with constants "
           "of one repeated value (initializers, Constant, ConstantOfShape of a constant shape) "
           "becomes Pad (opset >= 11); a Split of constants is folded by the reference "
           "evaluator; Conv/ConvTranspose get kernel_shape from their weight (OpenCV 4.12 "
           "reads only the attribute); CastLike of a constant is folded to an initializer of "
           "the witness' type; Clip with a computed min or max becomes Max(x, min) / Min(x, max) "
           "(OpenCV 4.12 reads only constant bounds; for opencv-4.6, whose Max/Min do not "
           "broadcast, Relu(x - min) + min and x - Relu(x - max)). For opencv-4.6 also: Clip "
           "with constant "
           "float32/float16 min/max inputs "
           "gets them as attributes (the opset-6 form OpenCV 4.6 reads; ONNX Runtime does not "
           "load it), and Mul/Add/Sub/Div by a constant vector along the last axis of a tensor of "
           "rank >= 3 runs between two Transposes that make that axis 1 (OpenCV 4.6 broadcasts "
           "such a vector along axis 1 only), and Max/Min with a constant float scalar becomes "
           "Clip "
           "with that bound as attribute (its Max/Min take no constant operand). For opencv-4.12 "
           "and opencv-4.6 (no subgraphs): an If "
           "whose branches "
           "have outputs of one static shape becomes both branches inlined and a Where per "
           "output. Refused with one line naming the value or node and the runtime: dynamic "
           "input dims (use set-input-shapes), INT4/UINT4 tensors, blocked DequantizeLinear "
           "whose block_size does not divide the axis (use quantize-weights{ragged=divisor}), "
           "Clip of a non-float input or with constant bounds that are not float scalars "
           "(opencv-4.6), a node with a subgraph that remains (opencv-4.12, opencv-4.6). Shape "
           "chains are not "
           "folded here: run set-input-shapes and fold-constants (or simplify) first.";
  }
  absl::Status RunOnModel(Model& model) override {
    if (!model.graph) return absl::OkStatus();
    if (IsOpenCv()) {
      for (const Value* in : model.graph->inputs()) {
        if (in->is_initializer() || !in->type.is_tensor()) continue;
        if (!in->type.shape) return Refuse(absl::StrCat("input '", in->name(), "' has no shape"));
        for (const Dim& d : *in->type.shape) {
          if (!d.is_fixed()) {
            return Refuse(absl::StrCat("input '", in->name(), "' has dynamic dim '",
                                       d.param.empty() ? "?" : d.param,
                                       "'; fix it with set-input-shapes first"));
          }
        }
      }
    }
    absl::Status status = absl::OkStatus();
    model.WalkGraphs([&](Graph& graph) {
      if (status.ok()) status = Check(graph);
    });
    if (!status.ok()) return status;
    if (absl::Status s = Pass::RunOnModel(model); !s.ok()) return s;
    if (!ReadsSubgraphs()) {
      model.WalkGraphs([&](Graph& graph) {
        for (const auto& node : graph.nodes()) {
          if (!status.ok() || node->subgraphs().empty()) continue;
          std::string why = node->Is("If") ? legalize::IfToWhereBlocker(*node) : "";
          status = Refuse(
              absl::StrCat(node->DebugName(), " holds a subgraph, which OpenCV ",
                           runtime_.value().substr(7), " does not read",
                           why.empty() ? "" : absl::StrCat(", and cannot become Where: ", why)));
        }
      });
    }
    return status;
  }

 protected:
  RewritePatterns Patterns(const Graph&, const Model& model) override {
    const int64_t opset = model.OpsetVersion("").value_or(1);
    RewritePatterns patterns;
    patterns.push_back(legalize::MakeExplicitConstantOfShapeValue(values_made_explicit_));
    if (IsOpenCv()) {
      patterns.push_back(legalize::MakeConcatToPad(opset, concats_to_pad_));
      patterns.push_back(legalize::MakeFoldConstantSplit(opset, splits_folded_));
      patterns.push_back(legalize::MakeFoldConstantCastLike(opset, casts_folded_));
      patterns.push_back(
          legalize::MakeComputedClipToMaxMin(runtime_.value() == "opencv-4.6", computed_clips_));
      for (const char* op : {"Conv", "ConvTranspose"}) {
        patterns.push_back(legalize::MakeExplicitKernelShape(op, kernel_shapes_));
      }
    }
    if (!ReadsSubgraphs()) patterns.push_back(legalize::MakeIfToWhere(ifs_to_where_));
    if (runtime_.value() == "opencv-4.6") {
      patterns.push_back(legalize::MakeClipBoundsToAttributes(clips_to_attributes_));
      patterns.push_back(legalize::MakeLastAxisConstantToChannel(last_axis_constants_));
      patterns.push_back(legalize::MakeConstantMaxMinToClip(max_min_to_clip_));
    }
    return patterns;
  }

 private:
  bool IsOpenCv() const { return runtime_.value() != "ort"; }
  // OpenCV 5's new engine reads If/Loop bodies; 4.12 and 4.6 read no graph attribute.
  bool ReadsSubgraphs() const {
    return runtime_.value() == "ort" || runtime_.value() == "opencv-5";
  }

  absl::Status Refuse(std::string_view what) const {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(what), " (runtime ", runtime_.value(), ")"));
  }

  // Refusals that need no rewriting: nothing is changed when one fails.
  absl::Status Check(const Graph& graph) const {
    if (!IsOpenCv()) return absl::OkStatus();
    for (const Value* init : graph.initializers()) {
      if (IsFourBit(init->initializer()->type())) {
        return Refuse(absl::StrCat("initializer '", init->name(), "' is ",
                                   std::string(DataTypeName(init->initializer()->type())),
                                   ", which no OpenCV reads; quantize with bits=8"));
      }
    }
    for (const auto& owned : graph.nodes()) {
      const Node& node = *owned;
      for (const Value* out : node.outputs()) {
        if (out == nullptr) continue;
        DataType t = out->type.elem_type;
        if (IsConstantNode(node)) {
          if (TensorPtr c = GetConstantTensor(out)) t = c->type();
        }
        if (IsFourBit(t)) {
          return Refuse(absl::StrCat(node.DebugName(), " produces ", std::string(DataTypeName(t)),
                                     ", which no OpenCV reads; quantize with bits=8"));
        }
      }
      if (node.Is("DequantizeLinear")) {
        if (absl::Status s = CheckBlockSize(node); !s.ok()) return s;
      }
      if (node.Is("Clip") && runtime_.value() == "opencv-4.6") {
        std::string blocker = legalize::ClipAttributeBlocker(node);
        if (!blocker.empty()) {
          return Refuse(
              absl::StrCat(node.DebugName(), " cannot take its bounds as attributes: ", blocker));
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status CheckBlockSize(const Node& dq) const {
    const int64_t block = dq.GetInt("block_size").value_or(0);
    const Value* x = dq.input(0);
    if (block <= 0 || x == nullptr) return absl::OkStatus();
    std::optional<std::vector<int64_t>> dims;
    if (TensorPtr t = GetConstantTensor(x)) {
      dims = t->dims();
    } else {
      dims = x->type.static_dims();
    }
    if (!dims) {
      return Refuse(absl::StrCat(dq.DebugName(), " is blocked but the shape of '", x->name(),
                                 "' is unknown, so its block size cannot be checked"));
    }
    const int64_t rank = static_cast<int64_t>(dims->size());
    int64_t axis = dq.GetInt("axis").value_or(1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return absl::OkStatus();  // malformed: the runtime says so
    if ((*dims)[axis] % block != 0) {
      return Refuse(absl::StrCat(dq.DebugName(), " has block_size ", block,
                                 ", which does not divide axis ", axis, " (size ", (*dims)[axis],
                                 "); quantize with ragged=divisor"));
    }
    return absl::OkStatus();
  }

  PassOption<std::string> runtime_{this,
                                   "runtime",
                                   "Runtime the model must load in",
                                   "ort",
                                   {"ort", "opencv-4.12", "opencv-5", "opencv-4.6"}};
  PassStatistic values_made_explicit_{this, "constant-of-shape-values",
                                      "ConstantOfShape nodes given an explicit value"};
  PassStatistic concats_to_pad_{this, "concats-to-pad", "Concat with constant fill made Pad"};
  PassStatistic splits_folded_{this, "splits-folded", "Splits of constants folded"};
  PassStatistic kernel_shapes_{this, "kernel-shapes", "Conv/ConvTranspose given kernel_shape"};
  PassStatistic casts_folded_{this, "cast-likes-folded", "CastLike of constants folded"};
  PassStatistic computed_clips_{this, "computed-clips-to-max-min",
                                "Clip with a computed bound made Max/Min"};
  PassStatistic ifs_to_where_{this, "ifs-to-where", "If nodes inlined as Where (opencv-4.12/4.6)"};
  PassStatistic last_axis_constants_{this, "last-axis-constants",
                                     "Mul/Add/Sub/Div by a last-axis vector moved to axis 1 "
                                     "(opencv-4.6)"};
  PassStatistic max_min_to_clip_{this, "max-min-to-clip",
                                 "Max/Min with a constant scalar made Clip (opencv-4.6)"};
  PassStatistic clips_to_attributes_{this, "clips-to-attributes",
                                     "Clip min/max inputs made attributes (opencv-4.6)"};
};

}  // namespace

std::unique_ptr<Pass> CreateLegalizePass() { return std::make_unique<LegalizePass>(); }

}  // namespace onnx_opt
