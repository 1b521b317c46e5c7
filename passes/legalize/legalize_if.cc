// The If rewrite of legalize (passes/legalize/legalize.cc): OpenCV 4.12 and 4.6 read no subgraph
// attribute ("DNN/ONNX/Attribute[then_branch]: 'Graph' is not supported"). An If whose branches
// are plain node lists with outputs of one static shape becomes both branches inlined and one
// Where per output: the taken branch's values are selected exactly, the other branch is computed
// and dropped (openWakeWord's verifier: p = p1 >= t ? verifier(x) : p1).
//
// Before (runtime=opencv-4.12):
//   c = GreaterOrEqual (p1, t)
//   y = If (c) <then_branch = g1 () => (float[1,1] v) { v = Sigmoid (x) },
//               else_branch = g2 () => (float[1,1] p1_id) { p1_id = Identity (p1) }>
// After:
//   c = GreaterOrEqual (p1, t)
//   v = Sigmoid (x)
//   y = Where (c, v, p1)              # a branch's Identity is not copied
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"
#include "passes/legalize/legalize_rewrites.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt::legalize {
namespace {

const Graph* Branch(const Node& node, std::string_view attr_name) {
  const Attribute* attr = node.FindAttribute(attr_name);
  if (attr == nullptr) return nullptr;
  const auto* g = std::get_if<Attribute::GraphPtr>(&attr->value);
  return g == nullptr ? nullptr : g->get();
}

std::optional<std::vector<int64_t>> StaticDims(const Value* v) {
  if (v == nullptr || !v->type.is_tensor() || v->type.elem_type == DataType::kUndefined) {
    return std::nullopt;
  }
  if (TensorPtr t = GetConstantTensor(v)) return t->dims();
  return v->type.static_dims();
}

}  // namespace

std::string IfToWhereBlocker(const Node& node) {
  const Graph* branches[2] = {Branch(node, "then_branch"), Branch(node, "else_branch")};
  if (branches[0] == nullptr || branches[1] == nullptr) return "it has no then/else branch graph";
  const std::optional<std::vector<int64_t>> cond = StaticDims(node.input(0));
  if (!cond) return "the shape of its condition is unknown (run infer-shapes first)";
  for (const Graph* g : branches) {
    if (!g->inputs().empty()) return absl::StrCat("branch '", g->name, "' has inputs");
    if (g->outputs().size() != node.outputs().size()) {
      return absl::StrCat("branch '", g->name, "' has ", g->outputs().size(), " outputs");
    }
    for (const auto& n : g->nodes()) {
      if (!n->subgraphs().empty()) {
        return absl::StrCat("branch '", g->name, "' holds ", n->DebugName(),
                            ", itself with a subgraph");
      }
    }
  }
  for (size_t i = 0; i < node.outputs().size(); ++i) {
    const Value* a = branches[0]->outputs()[i];
    const Value* b = branches[1]->outputs()[i];
    const std::optional<std::vector<int64_t>> da = StaticDims(a);
    const std::optional<std::vector<int64_t>> db = StaticDims(b);
    if (!da || !db || *da != *db || a->type.elem_type != b->type.elem_type) {
      return absl::StrCat("its branches' output ", i, " ('", a->name(), "', '", b->name(),
                          "') is not of one known type and static shape");
    }
    if (cond->size() > da->size()) {
      return absl::StrCat("its condition has rank ", cond->size(), ", above output ", i, "'s ",
                          da->size());
    }
  }
  return "";
}

namespace {

class IfToWhere : public RewritePattern {
 public:
  explicit IfToWhere(PassStatistic& count) : count_(count) {}
  std::string_view name() const override { return "if-to-where"; }
  std::string_view root_op_type() const override { return "If"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& node, Rewriter& rewriter) override {
    if (!node.domain.empty() || node.input(0) == nullptr || !IfToWhereBlocker(node).empty()) {
      return false;
    }
    Graph& parent = *node.graph();
    absl::flat_hash_map<const Value*, Value*> mapped;  // branch-local value -> its parent copy
    auto lookup = [&](Value* v) -> Value* {
      auto it = mapped.find(v);
      return it == mapped.end() ? v : it->second;  // values of enclosing graphs stay
    };
    std::vector<Value*> selected[2];
    int which = 0;
    for (const char* attr_name : {"then_branch", "else_branch"}) {
      Graph& branch = *std::get<Attribute::GraphPtr>(node.FindAttribute(attr_name)->value);
      for (Value* init : branch.initializers()) {
        mapped[init] = parent.AddInitializer(init->name(), init->initializer());
      }
      for (const auto& owned : branch.nodes()) {
        Node& inner = *owned;
        if (inner.Is("Identity") && inner.inputs().size() == 1 && inner.input(0) != nullptr &&
            inner.output(0) != nullptr) {
          mapped[inner.output(0)] = lookup(inner.input(0));  // the branch's pass-through
          continue;
        }
        std::vector<Value*> inputs;
        inputs.reserve(inner.inputs().size());
        for (Value* in : inner.inputs()) inputs.push_back(in == nullptr ? nullptr : lookup(in));
        std::vector<std::string> hints;
        for (const Value* out : inner.outputs()) hints.push_back(out ? out->name() : "");
        Node* copy = rewriter.CreateNodeBefore(&node, inner.op_type, std::move(inputs),
                                               inner.outputs().size(), inner.domain, hints);
        copy->name = inner.name;
        copy->doc_string = inner.doc_string;
        for (Attribute& attr : inner.mutable_attributes()) copy->SetAttribute(std::move(attr));
        for (size_t k = 0; k < inner.outputs().size(); ++k) {
          if (inner.output(k) == nullptr) continue;
          copy->output(k)->type = inner.output(k)->type;
          copy->output(k)->in_value_info = copy->output(k)->type.is_tensor();  // as infer-shapes
          mapped[inner.output(k)] = copy->output(k);
        }
      }
      for (Value* out : branch.outputs()) selected[which].push_back(lookup(out));
      ++which;
    }
    const std::string base = node.name.empty() ? node.output(0)->name() : node.name;
    std::vector<Value*> results;
    for (size_t i = 0; i < node.outputs().size(); ++i) {
      Node* where = rewriter.CreateNodeBefore(&node, "Where",
                                              {node.input(0), selected[0][i], selected[1][i]}, 1);
      where->name = parent.UniqueName(absl::StrCat(base, "_where", i == 0 ? "" : absl::StrCat(i)));
      where->output(0)->type = selected[0][i]->type;
      results.push_back(where->output(0));
    }
    std::vector<std::string> names;
    for (const Value* out : node.outputs()) names.push_back(out ? out->name() : "");
    for (size_t i = 0; i < results.size(); ++i) {
      if (node.output(i) == nullptr) continue;
      if (node.output(i)->is_graph_output()) results[i]->type = node.output(i)->type;
      rewriter.ReplaceAllUsesWith(node.output(i), results[i]);
    }
    if (absl::Status s = rewriter.EraseNode(&node); !s.ok()) return s;
    for (size_t i = 0; i < results.size(); ++i) {
      if (!names[i].empty()) results[i]->set_name(names[i]);  // free now
      results[i]->in_value_info = !results[i]->is_graph_output() && results[i]->type.is_tensor();
    }
    ++count_;
    return true;
  }

 private:
  PassStatistic& count_;
};

}  // namespace

std::unique_ptr<RewritePattern> MakeIfToWhere(PassStatistic& count) {
  return std::make_unique<IfToWhere>(count);
}

}  // namespace onnx_opt::legalize
