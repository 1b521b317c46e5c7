#include "ir/ir.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"

namespace onnx_opt {

// ---------------------------------------------------------------- Value

void Value::set_name(std::string name) { graph_->Rename(this, std::move(name)); }

bool Value::is_graph_input() const {
  const auto& in = graph_->inputs();
  return std::find(in.begin(), in.end(), this) != in.end();
}

bool Value::is_graph_output() const {
  const auto& out = graph_->outputs();
  return std::find(out.begin(), out.end(), this) != out.end();
}

void Value::ReplaceAllUsesWith(Value* other) {
  if (other == this) return;
  std::vector<Use> uses = uses_;
  for (const Use& use : uses) use.node->SetInput(use.input_index, other);
  for (size_t i = 0; i < graph_->outputs_.size(); ++i) {
    if (graph_->outputs_[i] == this) graph_->outputs_[i] = other;
  }
}

// ---------------------------------------------------------------- Attribute

Attribute Attribute::Float(std::string name, float v) {
  return Attribute{std::move(name), AttrType::kFloat, v, {}, {}, {}};
}
Attribute Attribute::Int(std::string name, int64_t v) {
  return Attribute{std::move(name), AttrType::kInt, v, {}, {}, {}};
}
Attribute Attribute::String(std::string name, std::string v) {
  return Attribute{std::move(name), AttrType::kString, std::move(v), {}, {}, {}};
}
Attribute Attribute::Ints(std::string name, std::vector<int64_t> v) {
  return Attribute{std::move(name), AttrType::kInts, std::move(v), {}, {}, {}};
}
Attribute Attribute::Floats(std::string name, std::vector<float> v) {
  return Attribute{std::move(name), AttrType::kFloats, std::move(v), {}, {}, {}};
}
Attribute Attribute::Strings(std::string name, std::vector<std::string> v) {
  return Attribute{std::move(name), AttrType::kStrings, std::move(v), {}, {}, {}};
}
Attribute Attribute::TensorValue(std::string name, TensorPtr v) {
  return Attribute{std::move(name), AttrType::kTensor, std::move(v), {}, {}, {}};
}
Attribute Attribute::GraphValue(std::string name, GraphPtr v) {
  return Attribute{std::move(name), AttrType::kGraph, std::move(v), {}, {}, {}};
}

// ---------------------------------------------------------------- Node

namespace {

void RemoveUse(Value* v, Node* node, int index) {
  if (v == nullptr) return;
  auto& uses = const_cast<std::vector<Use>&>(v->uses());
  auto it = std::find(uses.begin(), uses.end(), Use{node, index});
  if (it != uses.end()) uses.erase(it);
}

}  // namespace

void Node::SetInput(size_t i, Value* v) {
  if (i >= inputs_.size()) inputs_.resize(i + 1, nullptr);
  if (inputs_[i] == v) return;
  RemoveUse(inputs_[i], this, static_cast<int>(i));
  inputs_[i] = v;
  if (v != nullptr) v->uses_.push_back(Use{this, static_cast<int>(i)});
}

void Node::AddInput(Value* v) { SetInput(inputs_.size(), v); }

void Node::RemoveInput(size_t i) {
  if (i >= inputs_.size()) return;
  for (size_t j = i; j < inputs_.size(); ++j) RemoveUse(inputs_[j], this, static_cast<int>(j));
  inputs_.erase(inputs_.begin() + static_cast<std::ptrdiff_t>(i));
  for (size_t j = i; j < inputs_.size(); ++j) {
    if (inputs_[j] != nullptr) inputs_[j]->uses_.push_back(Use{this, static_cast<int>(j)});
  }
}

void Node::DropAllInputs() {
  for (size_t j = 0; j < inputs_.size(); ++j) RemoveUse(inputs_[j], this, static_cast<int>(j));
  inputs_.clear();
}

const Attribute* Node::FindAttribute(std::string_view attr_name) const {
  for (const Attribute& a : attributes_) {
    if (a.name == attr_name) return &a;
  }
  return nullptr;
}

Attribute* Node::FindAttribute(std::string_view attr_name) {
  for (Attribute& a : attributes_) {
    if (a.name == attr_name) return &a;
  }
  return nullptr;
}

void Node::SetAttribute(Attribute attr) {
  Attribute* existing = FindAttribute(attr.name);
  Attribute& slot = existing ? *existing : attributes_.emplace_back();
  slot = std::move(attr);
  if (auto* g = std::get_if<Attribute::GraphPtr>(&slot.value)) AdoptSubgraph(this, g->get());
  if (auto* gs = std::get_if<std::vector<Attribute::GraphPtr>>(&slot.value)) {
    for (auto& g : *gs) AdoptSubgraph(this, g.get());
  }
}

bool Node::RemoveAttribute(std::string_view attr_name) {
  auto it = std::find_if(attributes_.begin(), attributes_.end(),
                         [&](const Attribute& a) { return a.name == attr_name; });
  if (it == attributes_.end()) return false;
  attributes_.erase(it);
  return true;
}

std::optional<int64_t> Node::GetInt(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return std::nullopt;
  if (const auto* v = std::get_if<int64_t>(&a->value)) return *v;
  return std::nullopt;
}

std::optional<float> Node::GetFloat(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return std::nullopt;
  if (const auto* v = std::get_if<float>(&a->value)) return *v;
  return std::nullopt;
}

std::optional<std::string> Node::GetString(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return std::nullopt;
  if (const auto* v = std::get_if<std::string>(&a->value)) return *v;
  return std::nullopt;
}

std::optional<std::vector<int64_t>> Node::GetInts(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return std::nullopt;
  if (const auto* v = std::get_if<std::vector<int64_t>>(&a->value)) return *v;
  return std::nullopt;
}

std::vector<Graph*> Node::subgraphs() const {
  std::vector<Graph*> out;
  for (const Attribute& a : attributes_) {
    if (const auto* g = std::get_if<Attribute::GraphPtr>(&a.value)) {
      if (*g) out.push_back(g->get());
    } else if (const auto* gs = std::get_if<std::vector<Attribute::GraphPtr>>(&a.value)) {
      for (const auto& sub : *gs) out.push_back(sub.get());
    }
  }
  return out;
}

std::string Node::DebugName() const {
  std::string op = domain.empty() ? op_type : absl::StrCat(domain, ".", op_type);
  if (!name.empty()) return absl::StrCat(op, " '", name, "'");
  if (!outputs_.empty() && outputs_[0] != nullptr) {
    return absl::StrCat(op, " (output '", outputs_[0]->name(), "')");
  }
  return op;
}

// ---------------------------------------------------------------- Graph

void AdoptSubgraph(Node* owner, Graph* sub) {
  if (sub != nullptr) sub->parent_node_ = owner;
}

Graph::~Graph() {
  // Drop uses that nodes of this graph hold on values of enclosing graphs before they vanish.
  for (auto& node : nodes_) {
    for (size_t i = 0; i < node->inputs_.size(); ++i) {
      Value* v = node->inputs_[i];
      if (v != nullptr && v->graph_ != this) RemoveUse(v, node.get(), static_cast<int>(i));
    }
    node->inputs_.clear();
  }
  // Nodes own subgraphs whose destructors drop uses on this graph's values: destroy the nodes
  // while the values still exist (members would be destroyed values_ first).
  nodes_.clear();
}

Graph* Graph::parent_graph() const { return parent_node_ ? parent_node_->graph() : nullptr; }

Value* Graph::NewValue(std::string name) {
  auto v = std::make_unique<Value>();
  Value* raw = v.get();
  raw->name_ = std::move(name);
  raw->graph_ = this;
  values_.push_back(std::move(v));
  raw->self_ = std::prev(values_.end());
  if (!raw->name_.empty()) by_name_[raw->name_] = raw;
  return raw;
}

bool Graph::NameTakenInScope(std::string_view name) const {
  for (const Graph* g = this; g != nullptr; g = g->parent_graph()) {
    if (g->by_name_.contains(ToAbsl(name))) return true;
  }
  return false;
}

std::string Graph::UniqueName(std::string_view hint) const {
  std::string base = hint.empty() ? std::string("v") : std::string(hint);
  if (!NameTakenInScope(base)) return base;
  while (true) {
    std::string candidate = absl::StrCat(base, "__", ++name_counter_);
    if (!NameTakenInScope(candidate)) return candidate;
  }
}

Value* Graph::CreateValue(std::string_view name_hint) { return NewValue(UniqueName(name_hint)); }

Value* Graph::FindLocalValue(std::string_view name) const {
  auto it = by_name_.find(ToAbsl(name));
  return it == by_name_.end() ? nullptr : it->second;
}

Value* Graph::FindValue(std::string_view name) const {
  for (const Graph* g = this; g != nullptr; g = g->parent_graph()) {
    if (Value* v = g->FindLocalValue(name)) return v;
  }
  return nullptr;
}

void Graph::Rename(Value* v, std::string new_name) {
  auto it = by_name_.find(v->name_);
  if (it != by_name_.end() && it->second == v) by_name_.erase(it);
  v->name_ = std::move(new_name);
  if (!v->name_.empty()) by_name_[v->name_] = v;
}

Value* Graph::AddInput(std::string_view name, ValueType type) {
  Value* v = CreateValue(name);
  v->type = std::move(type);
  inputs_.push_back(v);
  return v;
}

void Graph::AddOutput(Value* v) { outputs_.push_back(v); }
void Graph::SetOutput(size_t i, Value* v) { outputs_.at(i) = v; }
void Graph::RemoveOutput(size_t i) {
  outputs_.erase(outputs_.begin() + static_cast<std::ptrdiff_t>(i));
}

Value* Graph::AddInitializer(std::string_view name_hint, TensorPtr tensor) {
  Value* v = CreateValue(name_hint);
  SetInitializer(v, std::move(tensor));
  initializers_.push_back(v);
  return v;
}

void Graph::SetInitializer(Value* v, TensorPtr tensor) {
  std::vector<Dim> dims;
  for (int64_t d : tensor->dims()) dims.push_back(Dim::Fixed(d));
  v->type = ValueType::Tensor(tensor->type(), std::move(dims));
  v->initializer_ = std::move(tensor);
}

void Graph::SetInputDefault(Value* input, TensorPtr tensor) {
  SetInitializer(input, std::move(tensor));
  if (std::find(initializers_.begin(), initializers_.end(), input) == initializers_.end()) {
    initializers_.push_back(input);
  }
}

absl::Status Graph::EraseValue(Value* v) {
  if (v->graph_ != this) return absl::InternalError("EraseValue: value of another graph");
  if (v->has_uses() || v->is_graph_output()) {
    return absl::FailedPreconditionError(absl::StrCat("value '", v->name(), "' is still used"));
  }
  if (v->producer_ != nullptr) {
    v->producer_->outputs_[v->producer_index_] = nullptr;
  }
  std::erase(inputs_, v);
  std::erase(initializers_, v);
  auto it = by_name_.find(v->name_);
  if (it != by_name_.end() && it->second == v) by_name_.erase(it);
  values_.erase(v->self_);
  return absl::OkStatus();
}

std::vector<Value*> Graph::values() const {
  std::vector<Value*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v.get());
  return out;
}

Node* Graph::CreateNode(std::string_view op_type, std::vector<Value*> inputs, size_t num_outputs,
                        Node* before, std::string_view domain,
                        std::vector<std::string> output_hints) {
  auto node = std::make_unique<Node>();
  Node* raw = node.get();
  raw->op_type = std::string(op_type);
  raw->domain = std::string(domain);
  raw->graph_ = this;
  auto pos = before ? before->self_ : nodes_.end();
  raw->self_ = nodes_.insert(pos, std::move(node));
  for (Value* in : inputs) raw->AddInput(in);
  for (size_t i = 0; i < num_outputs; ++i) {
    std::string hint = i < output_hints.size() ? output_hints[i]
                                               : absl::StrCat(ToAbsl(op_type), "_out", i);
    AddNodeOutput(raw, hint);
  }
  return raw;
}

Value* Graph::AddNodeOutput(Node* node, std::string_view name_hint) {
  Value* v = CreateValue(name_hint);
  v->producer_ = node;
  v->producer_index_ = static_cast<int>(node->outputs_.size());
  node->outputs_.push_back(v);
  return v;
}

void Graph::AppendAbsentOutput(Node* node) { node->outputs_.push_back(nullptr); }

absl::Status Graph::EraseNode(Node* node) {
  if (node->graph_ != this) return absl::InternalError("EraseNode: node of another graph");
  for (Value* out : node->outputs_) {
    if (out != nullptr && (out->has_uses() || out->is_graph_output())) {
      return absl::FailedPreconditionError(absl::StrCat(
          node->DebugName(), ": cannot erase, output '", out->name(), "' is still used"));
    }
  }
  node->DropAllInputs();
  std::vector<Value*> outs = node->outputs_;
  for (Value* out : outs) {
    if (out == nullptr) continue;
    out->producer_ = nullptr;
    if (absl::Status s = EraseValue(out); !s.ok()) return s;
  }
  nodes_.erase(node->self_);
  return absl::OkStatus();
}

void Graph::MoveBefore(Node* node, Node* before) {
  auto target = before ? before->self_ : nodes_.end();
  nodes_.splice(target, nodes_, node->self_);
}

void Graph::Reorder(const std::vector<Node*>& order) {
  for (Node* n : order) nodes_.splice(nodes_.end(), nodes_, n->self_);
}

void Graph::Walk(const std::function<void(Graph&)>& fn) {
  fn(*this);
  // Collect first: fn on a subgraph may not change this graph's node list, but be safe.
  std::vector<Graph*> subs;
  for (const auto& node : nodes_) {
    for (Graph* g : node->subgraphs()) subs.push_back(g);
  }
  for (Graph* g : subs) g->Walk(fn);
}

// ---------------------------------------------------------------- Model

std::optional<int64_t> Model::OpsetVersion(std::string_view dom) const {
  if (dom == "ai.onnx") dom = "";
  for (const OpsetImport& imp : opset_imports) {
    std::string_view d = imp.domain == "ai.onnx" ? std::string_view() : imp.domain;
    if (d == dom) return imp.version;
  }
  return std::nullopt;
}

void Model::SetOpsetVersion(std::string_view dom, int64_t version) {
  if (dom == "ai.onnx") dom = "";
  for (OpsetImport& imp : opset_imports) {
    std::string_view d = imp.domain == "ai.onnx" ? std::string_view() : imp.domain;
    if (d == dom) {
      imp.version = version;
      return;
    }
  }
  opset_imports.push_back(OpsetImport{std::string(dom), version});
}

void Model::WalkGraphs(const std::function<void(Graph&)>& fn) {
  if (graph) graph->Walk(fn);
  for (Function& f : functions) {
    if (f.body) f.body->Walk(fn);
  }
}

}  // namespace onnx_opt
