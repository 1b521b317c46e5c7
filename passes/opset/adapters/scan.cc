// Scan 9: Scan-8's batch axis removed (and sequence_lens with it).
//
// Scan-8 runs its body over every batch element (axis 0 of every input and output) with the
// sequence on axis 1. The same computation at opset 9 is an outer Scan over the batch axis whose
// body runs an inner Scan-9 over one batch element; every Scan-8 input is a scan input of the
// outer Scan (states included: each batch element has its own initial state) and every output a
// scan output, so outputs keep their [batch, ...] layout. Any batch size, static or not.
//
// Before (opset 8):
//   fs, ys = Scan <num_scan_inputs = 1, directions = [1], body = b> (, init, xs)
// After (opset 9):
//   fs, ys = Scan <num_scan_inputs = 2, body = per_batch (init_b, xs_b) => (fs_b, ys_b) {
//     fs_b, ys_b = Scan <num_scan_inputs = 1, scan_input_directions = [1], body = b> (init_b, xs_b)
//   }> (init, xs)
//
// sequence_lens (variable-length sequences, padded outputs) has no Scan-9 equivalent: refused.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/opset/adapters/adapter.h"

namespace onnx_opt::opset {
namespace {

const Graph* Body(const Node& node) {
  const Attribute* body = node.FindAttribute("body");
  if (body == nullptr || body->type != AttrType::kGraph) return nullptr;
  return std::get<Attribute::GraphPtr>(body->value).get();
}

absl::Status CheckScanEight(const Node& node, int64_t target_opset) {
  if (node.input(0) != nullptr) {
    return Refuse(node,
                  "has a sequence_lens input (variable-length sequences), which Scan-9 "
                  "dropped; only full-length batches convert");
  }
  const Graph* body = Body(node);
  std::optional<int64_t> num_scan_inputs = node.GetInt("num_scan_inputs");
  if (body == nullptr || !num_scan_inputs || *num_scan_inputs < 1) {
    return Refuse(node, "Scan-8 needs a body graph and num_scan_inputs >= 1");
  }
  const int64_t inputs = static_cast<int64_t>(node.inputs().size()) - 1;
  if (inputs < *num_scan_inputs || static_cast<int64_t>(body->inputs().size()) != inputs ||
      body->outputs().size() != node.outputs().size()) {
    return Refuse(node, "input/output counts do not match its body");
  }
  for (size_t i = 1; i < node.inputs().size(); ++i) {
    if (node.input(i) == nullptr) return Refuse(node, "has an absent state or scan input");
  }
  for (const Value* out : node.outputs()) {
    if (out == nullptr) return Refuse(node, "has an absent output");
  }
  std::optional<std::vector<int64_t>> directions = node.GetInts("directions");
  if (directions && static_cast<int64_t>(directions->size()) != *num_scan_inputs) {
    return Refuse(node, "directions does not have num_scan_inputs entries");
  }
  return absl::OkStatus();
}

// The type of one batch element: the leading dim dropped (rank unknown stays unknown).
ValueType WithoutBatchDim(const ValueType& type) {
  ValueType element = type;
  if (element.is_tensor() && element.shape && !element.shape->empty()) {
    element.shape->erase(element.shape->begin());
  }
  return element;
}

bool NameUsedIn(Graph& graph, const std::string& name) {
  bool used = false;
  graph.Walk([&](Graph& g) { used |= g.FindLocalValue(name) != nullptr; });
  return used;
}

// Names for the per-batch graph's values: unique in the outer scope, absent from the original
// body (which becomes nested inside), and distinct from each other.
class FreshNames {
 public:
  FreshNames(const Graph& scope, Graph& body) : scope_(scope), body_(body) {}
  std::string Make(const std::string& hint) {
    std::string name = scope_.UniqueName(hint);
    for (int k = 1; taken_.contains(name) || NameUsedIn(body_, name); ++k) {
      name = scope_.UniqueName(absl::StrCat(hint, "_", k));
    }
    taken_.insert(name);
    return name;
  }

 private:
  const Graph& scope_;
  Graph& body_;
  absl::flat_hash_set<std::string> taken_;
};

absl::StatusOr<Node*> ScanBatchToNested(Node& node, RewriteContext& ctx) {
  Graph& graph = ctx.graph();
  const int64_t num_scan_inputs = *node.GetInt("num_scan_inputs");
  std::optional<std::vector<int64_t>> directions = node.GetInts("directions");
  std::vector<Value*> batched_inputs(node.inputs().begin() + 1, node.inputs().end());
  const size_t num_outputs = node.outputs().size();

  // Take the body out of the Scan-8 node; it becomes the inner Scan's body.
  Attribute body_attr;
  auto& attrs = node.mutable_attributes();
  for (auto it = attrs.begin(); it != attrs.end(); ++it) {
    if (it->name == "body") {
      body_attr = std::move(*it);
      attrs.erase(it);
      break;
    }
  }
  Graph* body = std::get<Attribute::GraphPtr>(body_attr.value).get();

  FreshNames names(graph, *body);
  auto per_batch = std::make_unique<Graph>();
  per_batch->name = absl::StrCat(body->name.empty() ? "scan" : body->name, "_per_batch");
  std::vector<Value*> element_inputs;
  for (Value* batched : batched_inputs) {
    element_inputs.push_back(per_batch->AddInput(names.Make(absl::StrCat(batched->name(), "_b")),
                                                 WithoutBatchDim(batched->type)));
  }
  std::vector<std::string> inner_hints;
  for (size_t i = 0; i < num_outputs; ++i) {
    inner_hints.push_back(names.Make(absl::StrCat(node.output(i)->name(), "_b")));
  }
  Node* inner = per_batch->CreateNode("Scan", element_inputs, num_outputs, nullptr, "",
                                      std::move(inner_hints));
  if (!node.name.empty()) inner->name = absl::StrCat(node.name, "_per_batch");
  inner->SetAttribute(Attribute::Int("num_scan_inputs", num_scan_inputs));
  if (directions &&
      std::any_of(directions->begin(), directions->end(), [](int64_t d) { return d != 0; })) {
    inner->SetAttribute(Attribute::Ints("scan_input_directions", *directions));
  }
  inner->SetAttribute(std::move(body_attr));  // SetAttribute adopts the body
  for (size_t i = 0; i < num_outputs; ++i) {
    inner->output(i)->type = WithoutBatchDim(node.output(i)->type);
    per_batch->AddOutput(inner->output(i));
  }

  std::vector<std::string> outer_hints;
  for (size_t i = 0; i < num_outputs; ++i) {
    outer_hints.push_back(absl::StrCat(node.output(i)->name(), "_scan9"));
  }
  Node* outer =
      graph.CreateNode("Scan", batched_inputs, num_outputs, &node, "", std::move(outer_hints));
  outer->name = node.name;
  outer->doc_string = node.doc_string;
  outer->SetAttribute(
      Attribute::Int("num_scan_inputs", static_cast<int64_t>(batched_inputs.size())));
  outer->SetAttribute(Attribute::GraphValue("body", std::move(per_batch)));

  struct Kept {
    std::string name;
    ValueType type;
    bool in_value_info;
  };
  std::vector<Kept> kept;
  for (size_t i = 0; i < num_outputs; ++i) {
    Value* old_out = node.output(i);
    kept.push_back({old_out->name(), old_out->type, old_out->in_value_info});
    old_out->ReplaceAllUsesWith(outer->output(i));
  }
  node.DropAllInputs();
  if (absl::Status s = graph.EraseNode(&node); !s.ok()) return s;
  for (size_t i = 0; i < num_outputs; ++i) {
    Value* v = outer->output(i);
    if (graph.FindLocalValue(kept[i].name) == nullptr) v->set_name(kept[i].name);
    v->type = kept[i].type;
    v->in_value_info = kept[i].in_value_info;
  }
  return outer;
}

}  // namespace

void AppendScanRules(std::vector<StepRule>& rules) {
  rules.push_back(StepRule{"Scan", 9,
                           "batch axis removed: outer Scan over the batch axis running an inner "
                           "Scan-9 (directions -> scan_input_directions); sequence_lens refused",
                           CheckScanEight, ScanBatchToNested});
}

}  // namespace onnx_opt::opset
