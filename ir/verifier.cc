#include "ir/verifier.h"

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ir/strings.h"

namespace onnx_opt {
namespace {

absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

// Messages quote names from the model file: escape control characters so a diagnostic stays one
// line whatever the names hold.
absl::Status OneLine(absl::Status status) {
  std::string escaped = EscapeString(ToStd(status.message()), EscapeStyle::kControl);
  if (escaped.size() == status.message().size()) return status;
  return absl::Status(status.code(), escaped);
}

std::string GraphLabel(const Graph& graph) {
  if (const Node* owner = graph.parent_node()) {
    return absl::StrCat("subgraph '", graph.name, "' of ", owner->DebugName());
  }
  return absl::StrCat("graph '", graph.name, "'");
}

// True when some topological order of the graph's nodes exists (dependencies through the
// graph's own values, including uses inside subgraphs of a node).
bool HasTopologicalOrder(const Graph& graph, const Node** on_cycle) {
  absl::flat_hash_map<const Node*, int> pending;
  absl::flat_hash_map<const Node*, std::vector<const Node*>> users;
  for (const auto& node : graph.nodes()) {
    absl::flat_hash_set<const Node*> deps;
    auto add_inputs = [&](const Node& n) {
      for (const Value* in : n.inputs()) {
        if (in != nullptr && in->graph() == &graph && in->producer() != nullptr &&
            in->producer() != node.get()) {
          deps.insert(in->producer());
        } else if (in != nullptr && in->producer() == node.get()) {
          deps.insert(node.get());  // a node consuming its own output
        }
      }
    };
    add_inputs(*node);
    for (Graph* sub : node->subgraphs()) {
      sub->Walk([&](Graph& g) {
        for (const auto& inner : g.nodes()) add_inputs(*inner);
      });
    }
    pending[node.get()] = static_cast<int>(deps.size());
    for (const Node* dep : deps) users[dep].push_back(node.get());
  }
  std::deque<const Node*> ready;
  for (const auto& [node, count] : pending) {
    if (count == 0) ready.push_back(node);
  }
  size_t visited = 0;
  while (!ready.empty()) {
    const Node* n = ready.front();
    ready.pop_front();
    ++visited;
    for (const Node* user : users[n]) {
      if (--pending[user] == 0) ready.push_back(user);
    }
  }
  if (visited == graph.num_nodes()) return true;
  for (const auto& node : graph.nodes()) {
    if (pending[node.get()] > 0) {
      *on_cycle = node.get();
      break;
    }
  }
  return false;
}

class Verifier {
 public:

  // `opsets`: the imports node domains are checked against (the model's or a function's).
  absl::Status CheckGraph(const Graph& graph, const std::vector<OpsetImport>& opsets) {
    std::vector<const Value*> local;  // definitions of this graph, removed from scope at the end
    absl::flat_hash_map<std::string, const Value*> names;
    auto define = [&](const Value* v, absl::string_view by) -> absl::Status {
      if (v->graph() != &graph) {
        return Invalid(absl::StrCat(by, " defines value '", v->name(), "' owned by another graph"));
      }
      auto [it, inserted] = names.try_emplace(v->name(), v);
      if (!inserted && it->second != v) {
        return Invalid(absl::StrCat("duplicate definition of '", v->name(), "' in ",
                                    GraphLabel(graph), " (", by, ")"));
      }
      if (defined_.insert(v).second) local.push_back(v);
      return absl::OkStatus();
    };
    absl::Status status = CheckGraphBody(graph, opsets, define);
    for (const Value* v : local) defined_.erase(v);
    return status;
  }

 private:
  template <typename Define>
  absl::Status CheckGraphBody(const Graph& graph, const std::vector<OpsetImport>& opsets,
                              Define& define) {
    for (const Value* in : graph.inputs()) {
      if (absl::Status s = define(in, absl::StrCat(GraphLabel(graph), " input")); !s.ok()) return s;
    }
    for (const Value* v : graph.initializers()) {
      if (absl::Status s = CheckTensor(*v->initializer(),
                                       absl::StrCat("initializer '", v->name(), "'"), v->name());
          !s.ok()) {
        return s;
      }
      if (!v->is_graph_input()) {
        if (absl::Status s = define(v, "initializer"); !s.ok()) return s;
      }
    }
    for (const auto& node_ptr : graph.nodes()) {
      const Node& node = *node_ptr;
      if (node.graph() != &graph) {
        return Invalid(absl::StrCat(node.DebugName(), ": listed in a graph it does not belong to"));
      }
      if (absl::Status s = CheckDomain(node, opsets); !s.ok()) return s;
      for (size_t i = 0; i < node.inputs().size(); ++i) {
        const Value* in = node.inputs()[i];
        if (in == nullptr || defined_.contains(in)) continue;
        return UndefinedInput(graph, node, *in);
      }
      for (const Attribute& attr : node.attributes()) {
        if (absl::Status s = CheckAttribute(node, attr, opsets); !s.ok()) return s;
      }
      for (size_t i = 0; i < node.outputs().size(); ++i) {
        const Value* out = node.outputs()[i];
        if (out == nullptr) continue;
        if (out->producer() != &node || out->producer_output_index() != static_cast<int>(i)) {
          return Invalid(absl::StrCat(node.DebugName(), ": output '", out->name(),
                                      "' does not record this node as its producer"));
        }
        if (absl::Status s = define(out, node.DebugName()); !s.ok()) return s;
      }
    }
    for (size_t i = 0; i < graph.outputs().size(); ++i) {
      const Value* out = graph.outputs()[i];
      if (out == nullptr) {
        return Invalid(absl::StrCat(GraphLabel(graph), ": output #", i, " is null"));
      }
      if (!defined_.contains(out)) {
        return Invalid(
            absl::StrCat(GraphLabel(graph), ": output '", out->name(),
                         "' is not produced by any node nor a graph input or initializer"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status UndefinedInput(const Graph& graph, const Node& node, const Value& in) {
    const bool defined_somewhere =
        in.producer() != nullptr || in.is_initializer() || in.is_graph_input();
    if (!defined_somewhere) {
      return Invalid(absl::StrCat(node.DebugName(), ": input '", in.name(), "' is not defined"));
    }
    bool in_scope = false;
    for (const Graph* g = &graph; g != nullptr; g = g->parent_graph()) in_scope |= in.graph() == g;
    if (!in_scope) {
      return Invalid(absl::StrCat(node.DebugName(), ": input '", in.name(),
                                  "' belongs to a graph that does not enclose this node"));
    }
    // Defined later in its graph: either the order is wrong or there is a cycle.
    const Graph& owner = *in.graph();
    const Node* on_cycle = nullptr;
    if (!HasTopologicalOrder(owner, &on_cycle)) {
      return Invalid(
          absl::StrCat(GraphLabel(owner), " has a cycle through ", on_cycle->DebugName()));
    }
    return Invalid(absl::StrCat(node.DebugName(), ": input '", in.name(),
                                "' is used before it is defined (nodes not in topological order)"));
  }

  absl::Status CheckDomain(const Node& node, const std::vector<OpsetImport>& opsets) {
    // Checked here because every node passes through: an operator needs a name to be resolved.
    if (node.op_type.empty()) return Invalid(absl::StrCat(node.DebugName(), ": node has no op_type"));
    for (const OpsetImport& op : opsets) {
      std::string_view domain = op.domain == "ai.onnx" ? std::string_view() : op.domain;
      if (domain == node.domain) return absl::OkStatus();
    }
    return Invalid(absl::StrCat(node.DebugName(), ": domain '",
                                node.domain.empty() ? std::string("ai.onnx") : node.domain,
                                "' is not imported (no opset_import entry)"));
  }

  absl::Status CheckTensor(const Tensor& tensor, absl::string_view label,
                           const std::string& expected_name) {
    absl::Status s = tensor.CheckConsistent();
    if (s.ok() || tensor.name == expected_name) return s;
    return Invalid(absl::StrCat(label, ": ", s.message()));
  }

  absl::Status CheckAttribute(const Node& node, const Attribute& attr,
                              const std::vector<OpsetImport>& opsets) {
    std::string label = absl::StrCat(node.DebugName(), " attribute '", attr.name, "'");
    auto check_tensor = [&](const TensorPtr& t) -> absl::Status {
      if (t == nullptr) return Invalid(absl::StrCat(label, ": null tensor"));
      absl::Status s = t->CheckConsistent();
      if (!s.ok()) return Invalid(absl::StrCat(label, ": ", s.message()));
      return absl::OkStatus();
    };
    if (const auto* t = std::get_if<TensorPtr>(&attr.value)) return check_tensor(*t);
    if (const auto* ts = std::get_if<std::vector<TensorPtr>>(&attr.value)) {
      for (const TensorPtr& t : *ts) {
        if (absl::Status s = check_tensor(t); !s.ok()) return s;
      }
    }
    // Only this attribute's own subgraphs: node.subgraphs() would check every subgraph of the
    // node once per attribute, which is exponential in the nesting depth (If has two).
    std::vector<const Graph*> subs;
    if (const auto* g = std::get_if<Attribute::GraphPtr>(&attr.value); g != nullptr && *g) {
      subs.push_back(g->get());
    }
    if (const auto* gs = std::get_if<std::vector<Attribute::GraphPtr>>(&attr.value)) {
      for (const Attribute::GraphPtr& g : *gs) subs.push_back(g.get());
    }
    for (const Graph* sub : subs) {
      if (sub == nullptr) return Invalid(absl::StrCat(label, ": null subgraph"));
      if (sub->parent_node() != &node) {
        return Invalid(absl::StrCat(label, ": subgraph '", sub->name,
                                    "' is not linked to its node (AdoptSubgraph)"));
      }
      if (absl::Status s = CheckGraph(*sub, opsets); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Values visible at the current point: definitions of this graph so far, and those of the
  // enclosing graphs before the node that owns the subgraph being checked.
  absl::flat_hash_set<const Value*> defined_;
};

}  // namespace

absl::Status VerifyGraph(const Graph& graph, const Model& model) {
  Verifier verifier;
  return OneLine(verifier.CheckGraph(graph, model.opset_imports));
}

absl::Status VerifyModel(const Model& model) {
  if (model.graph == nullptr) return Invalid("model has no graph");
  if (absl::Status s = VerifyGraph(*model.graph, model); !s.ok()) return s;
  for (const Function& function : model.functions) {
    if (function.body == nullptr) {
      return OneLine(Invalid(absl::StrCat("function '", function.name, "' has no body")));
    }
    Verifier verifier;
    absl::Status s = verifier.CheckGraph(*function.body, function.opset_imports);
    if (!s.ok()) {
      return OneLine(absl::Status(s.code(), absl::StrCat("function '", function.domain, ".",
                                                         function.name, "': ", s.message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace onnx_opt
