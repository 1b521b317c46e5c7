// The last-axis constant rewrite of legalize{runtime=opencv-4.6} (passes/legalize/legalize.cc).
// OpenCV 4.6 imports Mul/Add/Sub/Div of a tensor and a constant vector as a per-channel layer
// that broadcasts along axis 1 only: a vector along the last axis of a tensor of rank >= 3 (a
// LayerNorm weight or bias on [N, T, C], a MatMul's post-scale on [1, 1, T, C]) loads, then the
// forward fails with `shape_utils.hpp:170: (-215:Assertion failed) start <= (int)shape.size()
// ... in function 'total'`. Swapping the last axis with axis 1 around the op puts the vector
// where OpenCV 4.6 reads it; the same elements meet in the same operation, so the result is
// exact.
//
// Before (runtime=opencv-4.6):
//   y = Mul (x, w)                      # float[1,76,120] x, float[120] w
// After:
//   x_t = Transpose <perm = [0, 2, 1]> (x)
//   y_t = Mul (x_t, w_channel)          # float[1,120,1] w_channel
//   y = Transpose <perm = [0, 2, 1]> (y_t)
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"
#include "passes/legalize/legalize_rewrites.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt::legalize {
namespace {

bool IsElementwise(const Node& node) {
  return node.Is("Mul") || node.Is("Add") || node.Is("Sub") || node.Is("Div");
}

class LastAxisConstantToChannel : public RewritePattern {
 public:
  explicit LastAxisConstantToChannel(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "last-axis-constant-to-channel"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!IsElementwise(node) || node.inputs().size() != 2 || node.output(0) == nullptr) {
      return false;
    }
    Value* x = node.input(0);
    TensorPtr c = node.input(1) == nullptr ? nullptr : GetConstantTensor(node.input(1));
    if (x == nullptr || c == nullptr || GetConstantTensor(x) != nullptr) return false;
    const std::optional<std::vector<int64_t>> dims = x->type.static_dims();
    if (!dims || dims->size() < 3 || c->rank() < 1 ||
        c->rank() > static_cast<int64_t>(dims->size())) {
      return false;
    }
    const int64_t channels = c->dims().back();
    if (channels <= 1 || c->num_elements() != channels || dims->back() != channels) return false;
    const int64_t rank = static_cast<int64_t>(dims->size());
    std::vector<int64_t> perm(rank);
    for (int64_t i = 0; i < rank; ++i) perm[i] = i;
    std::swap(perm[1], perm[rank - 1]);
    std::vector<int64_t> swapped = *dims;
    std::swap(swapped[1], swapped[rank - 1]);
    std::vector<int64_t> channel_dims(rank, 1);
    channel_dims[1] = channels;

    Graph& graph = *node.graph();
    const std::string base = node.name.empty() ? node.output(0)->name() : node.name;
    Value* vector =
        graph.AddInitializer(absl::StrCat(node.input(1)->name(), "_channel"),
                             std::make_shared<Tensor>(c->type(), channel_dims, c->buffer()));
    auto transpose = [&](Value* in, const std::string& suffix) {
      Node* t = rewriter.CreateNodeBefore(&node, "Transpose", {in}, 1);
      t->name = absl::StrCat(base, suffix);
      t->SetAttribute(Attribute::Ints("perm", perm));
      t->output(0)->set_name(graph.UniqueName(t->name));
      return t;
    };
    Node* xt = transpose(x, "_t_in");
    xt->output(0)->type = ValueType::Tensor(x->type.elem_type, ToDims(swapped));
    xt->output(0)->in_value_info = true;  // typed, as infer-shapes would list it
    Node* op = rewriter.CreateNodeBefore(&node, node.op_type, {xt->output(0), vector}, 1);
    op->name = absl::StrCat(base, "_channel");
    op->output(0)->set_name(graph.UniqueName(op->name));
    op->output(0)->type = ValueType::Tensor(node.output(0)->type.elem_type, ToDims(swapped));
    op->output(0)->in_value_info = true;
    Node* yt = transpose(op->output(0), "_t_out");
    yt->output(0)->type = node.output(0)->type;
    if (absl::Status s =
            simplify::ReplaceAndEraseKeepingName(rewriter, &node, node.output(0), yt->output(0));
        !s.ok()) {
      return s;
    }
    ++count_;
    return true;
  }

 private:
  static std::vector<Dim> ToDims(const std::vector<int64_t>& dims) {
    std::vector<Dim> out;
    out.reserve(dims.size());
    for (int64_t d : dims) out.push_back(Dim::Fixed(d));
    return out;
  }
  PassStatistic& count_;
};

}  // namespace

std::unique_ptr<RewritePattern> MakeLastAxisConstantToChannel(PassStatistic& count) {
  return std::make_unique<LastAxisConstantToChannel>(count);
}

}  // namespace onnx_opt::legalize
