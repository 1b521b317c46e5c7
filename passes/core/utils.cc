#include "passes/core/utils.h"

#include <functional>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace onnx_opt {

bool IsConstantNode(const Node& node) { return node.Is("Constant"); }

absl::StatusOr<TensorPtr> ConstantNodeTensor(const Node& node) {
  for (const Attribute& attr : node.attributes()) {
    if (attr.name == "value") {
      if (const auto* t = std::get_if<TensorPtr>(&attr.value); t != nullptr && *t) return *t;
    } else if (attr.name == "value_float") {
      if (const auto* f = std::get_if<float>(&attr.value)) {
        return std::make_shared<const Tensor>(
            Tensor::FromValues<float>(DataType::kFloat, {}, std::span<const float>(f, 1)));
      }
    } else if (attr.name == "value_floats") {
      if (const auto* fs = std::get_if<std::vector<float>>(&attr.value)) {
        return std::make_shared<const Tensor>(
            Tensor::FromValues<float>(DataType::kFloat, {static_cast<int64_t>(fs->size())}, *fs));
      }
    } else if (attr.name == "value_int") {
      if (const auto* i = std::get_if<int64_t>(&attr.value)) {
        return std::make_shared<const Tensor>(
            Tensor::FromValues<int64_t>(DataType::kInt64, {}, std::span<const int64_t>(i, 1)));
      }
    } else if (attr.name == "value_ints") {
      if (const auto* is = std::get_if<std::vector<int64_t>>(&attr.value)) {
        return std::make_shared<const Tensor>(
            Tensor::FromValues<int64_t>(DataType::kInt64, {static_cast<int64_t>(is->size())}, *is));
      }
    } else if (attr.name == "value_string") {
      if (const auto* s = std::get_if<std::string>(&attr.value)) {
        return std::make_shared<const Tensor>(Tensor::FromStrings({}, {*s}));
      }
    } else if (attr.name == "value_strings") {
      if (const auto* ss = std::get_if<std::vector<std::string>>(&attr.value)) {
        return std::make_shared<const Tensor>(
            Tensor::FromStrings({static_cast<int64_t>(ss->size())}, *ss));
      }
    } else if (attr.name == "sparse_value") {
      return absl::UnimplementedError(
          absl::StrCat(node.DebugName(), ": sparse_value constants are not supported"));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(node.DebugName(), ": Constant has no usable value attribute"));
}

std::vector<Value*> GraphConstants(Graph& graph) {
  std::vector<Value*> constants = graph.initializers();
  for (const auto& node : graph.nodes()) {
    if (IsConstantNode(*node) && node->output(0) != nullptr) constants.push_back(node->output(0));
  }
  return constants;
}

TensorPtr GetConstantTensor(const Value* value) {
  if (value == nullptr) return nullptr;
  if (value->is_initializer()) {
    // An initializer that is also a graph input is only a default the caller may override.
    return value->is_graph_input() ? nullptr : value->initializer();
  }
  const Node* producer = value->producer();
  if (producer == nullptr || !IsConstantNode(*producer)) return nullptr;
  absl::StatusOr<TensorPtr> tensor = ConstantNodeTensor(*producer);
  if (!tensor.ok() || (*tensor)->type() == DataType::kString) return nullptr;
  return *tensor;
}

namespace {

// True when `graph` is `sub` or nested inside it.
bool IsWithin(const Graph* graph, const Graph* sub) {
  for (const Graph* g = graph; g != nullptr; g = g->parent_graph()) {
    if (g == sub) return true;
  }
  return false;
}

}  // namespace

std::vector<Value*> CapturedValues(const Node& node) {
  std::vector<Value*> captured;
  absl::flat_hash_set<Value*> seen;
  for (Graph* sub : node.subgraphs()) {
    auto consider = [&](Value* v) {
      if (v != nullptr && !IsWithin(v->graph(), sub) && seen.insert(v).second) {
        captured.push_back(v);
      }
    };
    sub->Walk([&](Graph& g) {
      for (const auto& inner : g.nodes()) {
        for (Value* in : inner->inputs()) consider(in);
      }
      for (Value* out : g.outputs()) consider(out);
    });
  }
  return captured;
}

absl::StatusOr<std::vector<Node*>> StableTopologicalOrder(const Graph& graph) {
  std::vector<Node*> nodes;
  absl::flat_hash_map<const Node*, size_t> index;
  for (const auto& node : graph.nodes()) {
    index[node.get()] = nodes.size();
    nodes.push_back(node.get());
  }
  // Edges producer -> consumer within this graph, counting captures by subgraphs.
  std::vector<std::vector<size_t>> consumers(nodes.size());
  std::vector<size_t> pending(nodes.size(), 0);
  std::vector<std::vector<size_t>> producers(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::vector<Value*> needed(nodes[i]->inputs().begin(), nodes[i]->inputs().end());
    for (Value* v : CapturedValues(*nodes[i])) needed.push_back(v);
    absl::flat_hash_set<size_t> deps;
    for (Value* v : needed) {
      if (v == nullptr || v->producer() == nullptr) continue;
      auto it = index.find(v->producer());
      if (it != index.end() && deps.insert(it->second).second) {
        consumers[it->second].push_back(i);
        producers[i].push_back(it->second);
        ++pending[i];
      }
    }
  }
  // Kahn's algorithm, always taking the earliest ready node in the current order.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<Node*> order;
  order.reserve(nodes.size());
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(nodes[i]);
    for (size_t c : consumers[i]) {
      if (--pending[c] == 0) ready.push(c);
    }
  }
  if (order.size() == nodes.size()) return order;
  // Walk producers among the unplaced nodes until one repeats: that one is on a cycle.
  size_t at = 0;
  while (pending[at] == 0) ++at;
  std::vector<bool> visited(nodes.size(), false);
  while (!visited[at]) {
    visited[at] = true;
    for (size_t p : producers[at]) {
      if (pending[p] != 0) {
        at = p;
        break;
      }
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat(GraphDebugName(graph), " has a cycle through ", nodes[at]->DebugName()));
}

bool IsValueUsed(const Value* value) { return value->has_uses() || value->is_graph_output(); }

std::string GraphDebugName(const Graph& graph) {
  if (graph.parent_node() == nullptr) {
    return graph.name.empty() ? std::string("main graph")
                              : absl::StrCat("graph '", graph.name, "'");
  }
  return absl::StrCat("graph '", graph.name, "' of ", graph.parent_node()->DebugName());
}

int64_t CountNodes(Model& model) {
  int64_t count = 0;
  model.WalkGraphs([&](Graph& g) { count += static_cast<int64_t>(g.num_nodes()); });
  return count;
}

}  // namespace onnx_opt
