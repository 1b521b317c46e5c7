// The onnx-opt IR: Model -> Graph -> Node/Value, with typed attributes and nested subgraphs.
//
// Values are in SSA form: each has at most one producer (a node output) or is a graph input or an
// initializer, and keeps a list of its uses. A Graph owns its nodes (in topological order) and the
// values defined in it. Subgraphs of If/Loop/Scan are Graphs owned by a node attribute; their nodes
// may use values of enclosing graphs (the use is recorded on the outer value).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "ir/tensor.h"
#include "ir/types.h"

namespace onnx_opt {

class Graph;
class Node;

struct Use {
  Node* node;
  int input_index;
  friend bool operator==(const Use&, const Use&) = default;
};

class Value {
 public:
  const std::string& name() const { return name_; }
  // Renames the value; the owning graph's name index is updated.
  void set_name(std::string name);

  ValueType type;
  std::string doc_string;
  std::string unknown_fields;  // of the ValueInfoProto this came from
  EmptyStringFields empty_fields;  // of that ValueInfoProto
  // True when the model listed the value in graph.value_info (kept for lossless round trips).
  bool in_value_info = false;

  Node* producer() const { return producer_; }
  int producer_output_index() const { return producer_index_; }
  const std::vector<Use>& uses() const { return uses_; }
  bool has_uses() const { return !uses_.empty(); }
  Graph* graph() const { return graph_; }

  // Constant data when this value is an initializer, else null.
  const TensorPtr& initializer() const { return initializer_; }
  bool is_initializer() const { return initializer_ != nullptr; }
  bool is_graph_input() const;
  bool is_graph_output() const;

  // Makes every user of this value use `other` instead (graph outputs included).
  void ReplaceAllUsesWith(Value* other);

 private:
  friend class Graph;
  friend class Node;
  std::string name_;
  Graph* graph_ = nullptr;
  Node* producer_ = nullptr;
  int producer_index_ = -1;
  std::vector<Use> uses_;
  TensorPtr initializer_;
  std::list<std::unique_ptr<Value>>::iterator self_;
};

// A serialized proto the IR does not model (sparse tensors, type protos in attributes).
struct OpaqueProto {
  std::string bytes;
  friend bool operator==(const OpaqueProto&, const OpaqueProto&) = default;
};

enum class AttrType {
  kUndefined = 0,
  kFloat = 1,
  kInt = 2,
  kString = 3,
  kTensor = 4,
  kGraph = 5,
  kSparseTensor = 11,
  kTypeProto = 13,
  kFloats = 6,
  kInts = 7,
  kStrings = 8,
  kTensors = 9,
  kGraphs = 10,
  kSparseTensors = 12,
  kTypeProtos = 14,
};

struct Attribute {
  using GraphPtr = std::unique_ptr<Graph>;
  using Payload =
      std::variant<std::monostate, float, int64_t, std::string, TensorPtr, GraphPtr,
                   std::vector<float>, std::vector<int64_t>, std::vector<std::string>,
                   std::vector<TensorPtr>, std::vector<GraphPtr>, std::vector<OpaqueProto>>;
  std::string name;
  AttrType type = AttrType::kUndefined;
  Payload value;  // kSparseTensor(s)/kTypeProto(s) use vector<OpaqueProto> (one element if single)
  std::string ref_attr_name;  // inside functions: refers to an attribute of the caller
  std::string doc_string;
  std::string unknown_fields;
  EmptyStringFields empty_fields;  // see ir/types.h

  static Attribute Float(std::string name, float v);
  static Attribute Int(std::string name, int64_t v);
  static Attribute String(std::string name, std::string v);
  static Attribute Ints(std::string name, std::vector<int64_t> v);
  static Attribute Floats(std::string name, std::vector<float> v);
  static Attribute Strings(std::string name, std::vector<std::string> v);
  static Attribute TensorValue(std::string name, TensorPtr v);
  // A subgraph (If/Loop/Scan body); Node::SetAttribute makes the node its parent.
  static Attribute GraphValue(std::string name, GraphPtr v);
};

class Node {
 public:
  std::string domain;  // "" is the default ONNX domain ("ai.onnx" is normalised to "")
  std::string op_type;
  std::string name;
  std::string doc_string;
  std::string unknown_fields;
  EmptyStringFields empty_fields;  // see ir/types.h

  Graph* graph() const { return graph_; }

  // Inputs; a null entry is an absent optional input (empty name in ONNX).
  const std::vector<Value*>& inputs() const { return inputs_; }
  Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  void SetInput(size_t i, Value* v);  // grows the list with absent inputs when needed
  void AddInput(Value* v);
  void RemoveInput(size_t i);  // later inputs shift down
  void DropAllInputs();

  // Outputs; a null entry is an unused optional output (empty name in ONNX).
  const std::vector<Value*>& outputs() const { return outputs_; }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }

  // Attributes in their original order.
  const std::vector<Attribute>& attributes() const { return attributes_; }
  std::vector<Attribute>& mutable_attributes() { return attributes_; }
  const Attribute* FindAttribute(std::string_view attr_name) const;
  Attribute* FindAttribute(std::string_view attr_name);
  void SetAttribute(Attribute attr);  // replaces one with the same name, else appends
  bool RemoveAttribute(std::string_view attr_name);
  std::optional<int64_t> GetInt(std::string_view attr_name) const;
  std::optional<float> GetFloat(std::string_view attr_name) const;
  std::optional<std::string> GetString(std::string_view attr_name) const;
  std::optional<std::vector<int64_t>> GetInts(std::string_view attr_name) const;
  // Subgraphs held by graph / graphs attributes, in attribute order.
  std::vector<Graph*> subgraphs() const;

  // "op_type 'name'" or "op_type #index" for diagnostics.
  std::string DebugName() const;
  bool Is(std::string_view op, std::string_view dom = "") const {
    return op_type == op && domain == dom;
  }

 private:
  friend class Graph;
  Graph* graph_ = nullptr;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::vector<Attribute> attributes_;
  std::list<std::unique_ptr<Node>>::iterator self_;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();

  std::string name;
  std::string doc_string;
  std::string unknown_fields;
  EmptyStringFields empty_fields;  // see ir/types.h
  std::vector<OpaqueProto> sparse_initializers;     // kept as serialized SparseTensorProto
  std::vector<OpaqueProto> quantization_annotations;  // kept as serialized proto

  // The node whose attribute holds this graph (null for a top-level or function body graph).
  Node* parent_node() const { return parent_node_; }
  Graph* parent_graph() const;

  // --- values ---
  // Creates a value defined in this graph (not yet produced, input or initializer). The name is
  // made unique in this graph and its enclosing graphs by appending a suffix when taken.
  Value* CreateValue(std::string_view name_hint);
  // Looks a name up in this graph, then in enclosing graphs.
  Value* FindValue(std::string_view name) const;
  // Looks a name up in this graph only.
  Value* FindLocalValue(std::string_view name) const;
  std::string UniqueName(std::string_view hint) const;

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  const std::vector<Value*>& initializers() const { return initializers_; }
  Value* AddInput(std::string_view name, ValueType type);
  void AddOutput(Value* v);
  void SetOutput(size_t i, Value* v);
  void RemoveOutput(size_t i);
  // Adds an initializer; the value name comes from name_hint (uniqued); tensor.name is ignored.
  Value* AddInitializer(std::string_view name_hint, TensorPtr tensor);
  // Replaces the data of an existing initializer (type of the value is updated to match).
  void SetInitializer(Value* v, TensorPtr tensor);
  // Gives a graph input a default value: it becomes an initializer too (listed in initializers()).
  void SetInputDefault(Value* input, TensorPtr tensor);
  // Removes an unused value: an unused initializer, an input or a value nobody produces.
  absl::Status EraseValue(Value* v);
  // Every value owned by this graph (inputs, initializers, node outputs, value_info-only entries).
  std::vector<Value*> values() const;

  // --- nodes ---
  const std::list<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  size_t num_nodes() const { return nodes_.size(); }
  // Creates a node before `before` (or at the end when null) with `num_outputs` fresh outputs
  // named after `output_hints` (or the node name).
  Node* CreateNode(std::string_view op_type, std::vector<Value*> inputs, size_t num_outputs,
                   Node* before = nullptr, std::string_view domain = "",
                   std::vector<std::string> output_hints = {});
  // Adds an output slot to a node (null name hint: absent optional output).
  Value* AddNodeOutput(Node* node, std::string_view name_hint);
  void AppendAbsentOutput(Node* node);
  // Erases a node whose outputs are unused; its output values are erased too.
  absl::Status EraseNode(Node* node);
  // Moves a node to just before `before` in this graph's order.
  void MoveBefore(Node* node, Node* before);
  // Reorders nodes to `order` (must be a permutation of the current nodes).
  void Reorder(const std::vector<Node*>& order);

  // Calls fn on this graph and on every nested subgraph, depth first, outer graphs first.
  void Walk(const std::function<void(Graph&)>& fn);

 private:
  friend class Node;
  friend class Value;
  friend class ModelImporter;
  Value* NewValue(std::string name);
  void Rename(Value* v, std::string new_name);
  bool NameTakenInScope(std::string_view name) const;

  Node* parent_node_ = nullptr;
  std::list<std::unique_ptr<Node>> nodes_;
  std::list<std::unique_ptr<Value>> values_;
  absl::flat_hash_map<std::string, Value*> by_name_;  // keyed lookups go through ToAbsl
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::vector<Value*> initializers_;
  // Nodes and Graph attributes set parent_node_ of the graphs they own.
  friend void AdoptSubgraph(Node* owner, Graph* sub);
  mutable uint64_t name_counter_ = 0;
};

// Sets the parent links of a graph stored in `owner`'s attribute (call after attaching one).
void AdoptSubgraph(Node* owner, Graph* sub);

struct OpsetImport {
  std::string domain;
  int64_t version = 0;
  // The source OperatorSetIdProto had no domain field (the exporter otherwise always writes it).
  bool domain_absent = false;
  friend bool operator==(const OpsetImport& a, const OpsetImport& b) {
    return a.domain == b.domain && a.version == b.version;
  }
};

// A model-local function. Its body is a Graph whose inputs are the formal inputs (untyped) and
// whose outputs are the formal outputs.
struct Function {
  std::string name;
  std::string domain;
  std::string overload;
  std::string doc_string;
  std::vector<std::string> attribute_names;
  std::vector<Attribute> attribute_defaults;  // attribute_proto
  std::vector<OpsetImport> opset_imports;
  std::unique_ptr<Graph> body;
  std::string unknown_fields;
  EmptyStringFields empty_fields;  // see ir/types.h
};

class Model {
 public:
  int64_t ir_version = 0;
  std::vector<OpsetImport> opset_imports;
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  bool has_model_version = false;
  std::string doc_string;
  std::vector<std::pair<std::string, std::string>> metadata_props;
  std::unique_ptr<Graph> graph;
  std::vector<Function> functions;
  std::vector<OpaqueProto> training_info;
  std::string unknown_fields;
  EmptyStringFields empty_fields;  // see ir/types.h

  // Opset version imported for a domain ("" and "ai.onnx" are the same), or nullopt.
  std::optional<int64_t> OpsetVersion(std::string_view domain) const;
  void SetOpsetVersion(std::string_view domain, int64_t version);
  // Calls fn on the main graph, every subgraph and every function body (with their subgraphs).
  void WalkGraphs(const std::function<void(Graph&)>& fn);
};

}  // namespace onnx_opt
