// Opset-upgrade adapters: the per-operator rules that carry a default-domain node from one schema
// version to the next without changing what it computes.
//
// A "step" enters schema version V of an operator (V is one of the operator's since-versions).
// Every step between a model's opset and the target needs a rule: either compatible (the new
// schema accepts the node as it is and computes the same) or an adapter that rewrites the node.
// Adapters create new nodes in the form valid at the *target* opset (they are not converted again).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"

namespace onnx_opt::opset {

// Highest default-domain opset the upgrade knows.
inline constexpr int64_t kMaxKnownOpset = 21;

// Since-versions (ascending) of a default-domain operator up to opset 21; empty when unknown.
std::span<const int> SchemaVersions(std::string_view op_type);
// Every default-domain operator the history knows, sorted.
std::vector<std::string_view> KnownOperators();

// Rewrites happen per graph; this holds what an adapter needs besides the node.
class RewriteContext {
 public:
  RewriteContext(Graph& graph, int64_t target_opset, bool in_function);

  Graph& graph() const { return graph_; }
  int64_t target_opset() const { return target_opset_; }

  // A constant usable by `user`: an initializer (a Constant node placed before `user` inside
  // function bodies, which cannot hold initializers). An identical constant already made by this
  // pass, or an identical initializer of the graph that is not an overridable input, is reused.
  Value* AddConstant(Tensor tensor, Node* user, std::string_view name_hint);
  Value* Int64s(const std::vector<int64_t>& values, Node* user, std::string_view name_hint);
  Value* Int64Scalar(int64_t value, Node* user, std::string_view name_hint);
  // A scalar of a floating-point element type (float, float16, bfloat16, double).
  Value* FloatScalar(DataType type, double value, Node* user, std::string_view name_hint);

  // Erases initializer `v` when nothing uses it, and forgets it as a constant to reuse (a later
  // AddConstant must not hand out a freed value).
  void EraseIfUnused(Value* v);

  int64_t constants_created() const { return constants_created_; }
  int64_t constants_reused() const { return constants_reused_; }

 private:
  Graph& graph_;
  int64_t target_opset_;
  bool in_function_;
  absl::flat_hash_map<uint64_t, std::vector<Value*>> constants_by_hash_;
  int64_t constants_created_ = 0;
  int64_t constants_reused_ = 0;
};

// A rule for entering schema `version` of `op_type`. `check` (may be null) runs on the unchanged
// model before anything is rewritten and refuses with a message naming the node; `apply` (null
// for compatible steps) rewrites the node. An adapter may rename the node (Upsample -> Resize);
// the remaining steps then follow the new operator's versions. `apply` returns the node that now
// stands for the original (a rebuilt copy, or null when the node was replaced by a subgraph that
// needs no later steps).
struct StepRule {
  std::string_view op_type;
  int version;
  std::string_view rule;  // one line: what changed and what is done about it
  absl::Status (*check)(const Node& node, int64_t target_opset) = nullptr;
  absl::StatusOr<Node*> (*apply)(Node& node, RewriteContext& ctx) = nullptr;
};

// Rules by family (each defined in its own file).
void AppendCompatibleRules(std::vector<StepRule>& rules);
void AppendReductionRules(std::vector<StepRule>& rules);
void AppendSqueezeSplitRules(std::vector<StepRule>& rules);
void AppendSoftmaxRules(std::vector<StepRule>& rules);
void AppendResizeRules(std::vector<StepRule>& rules);
void AppendPadClipSliceRules(std::vector<StepRule>& rules);
void AppendNormalizationRules(std::vector<StepRule>& rules);
void AppendMiscRules(std::vector<StepRule>& rules);
void AppendLegacyRules(std::vector<StepRule>& rules);  // steps into opsets 2-7
void AppendScanRules(std::vector<StepRule>& rules);

// All rules, looked up by (op_type, version).
class RuleTable {
 public:
  RuleTable();
  const StepRule* Find(std::string_view op_type, int version) const;
  const std::vector<StepRule>& rules() const { return rules_; }

 private:
  std::vector<StepRule> rules_;
  absl::flat_hash_map<std::string, size_t> index_;  // "op@version"
};

// ---- helpers shared by adapters ----

// "Op 'name'" plus a message, as an InvalidArgument status (one line).
absl::Status Refuse(const Node& node, std::string_view why);
// Moves an ints attribute to input `index` as a 1-D int64 constant; absent attribute: nothing.
void IntsAttributeToInput(Node& node, std::string_view attr, size_t index, RewriteContext& ctx);
// True when any output beyond the first `keep` is used.
bool UsesOutputsBeyond(const Node& node, size_t keep);
// Replaces `node` by a copy (same op, inputs, attributes, name) with only its first `keep`
// outputs; the kept output values keep their names and types. Returns the new node.
Node* RebuildWithOutputs(Node& node, size_t keep);
// Makes `replacement` take the place of `old_value`: every use and graph-output slot moves to it,
// then it takes the old name and type. `old_value`'s producer must be erased by the caller first
// if the name is to be reused; this function erases `producer` (when non-null) in between.
absl::Status TakeOverValue(Value* old_value, Value* replacement, Node* producer);
// Element type of a value: its declared type, its initializer's, or (through operators whose first
// output has their first input's type: Conv, Relu, Add, Reshape, ...) that of a producer's input.
std::optional<DataType> InferElemType(const Value* value);
// Upsample-1's height_scale/width_scale as opset-7 scales [1, 1, h, w], when present.
std::optional<std::vector<float>> LegacyUpsampleScales(const Node& node);

}  // namespace onnx_opt::opset
