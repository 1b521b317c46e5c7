#include "passes/simplify/shape_inference.h"

#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ir/onnx_io.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
#include "passes/simplify/libonnx_guards.h"

namespace onnx_opt {
namespace {

// Initializers at least this big are handed to libonnx as typed graph inputs: inference needs
// their data only when they are shape operands (a few int64s), never for weights.
constexpr size_t kMaxInitializerBytesWithData = 4096;

ValueType FromTypeProto(const onnx::TypeProto& tp) {
  if (!tp.has_tensor_type()) return ValueType();
  const onnx::TypeProto::Tensor& tensor = tp.tensor_type();
  ValueType type = ValueType::Tensor(static_cast<DataType>(tensor.elem_type()));
  if (tensor.has_shape()) {
    std::vector<Dim> dims;
    for (const onnx::TensorShapeProto::Dimension& d : tensor.shape().dim()) {
      Dim dim;
      if (d.has_dim_value()) dim.value = d.dim_value();
      if (d.has_dim_param()) dim.param = d.dim_param();
      dims.push_back(std::move(dim));
    }
    type.shape = std::move(dims);
  }
  return type;
}

bool DimKnown(const Dim& d) { return d.is_fixed() || !d.param.empty(); }

// Merges `inferred` into v's type; the model's information wins on a conflict.
void MergeInto(Value* v, const ValueType& inferred, ShapeInferenceStats* stats) {
  if (!inferred.is_tensor() || inferred.elem_type == DataType::kUndefined) return;
  ValueType& type = v->type;
  if (type.kind == ValueType::Kind::kOpaque) return;
  bool changed = false;
  if (type.kind == ValueType::Kind::kNone) {
    type = inferred;
    type.denotation.clear();
    ++stats->values_typed;
    changed = true;
  } else {
    if (type.elem_type != DataType::kUndefined && type.elem_type != inferred.elem_type) {
      ++stats->conflicts;
      return;
    }
    ValueType merged = type;
    merged.elem_type = inferred.elem_type;
    bool refined = type.elem_type == DataType::kUndefined;
    if (inferred.shape) {
      if (!merged.shape) {
        merged.shape = inferred.shape;
        refined = true;
      } else if (merged.shape->size() != inferred.shape->size()) {
        ++stats->conflicts;
        return;
      } else {
        for (size_t i = 0; i < merged.shape->size(); ++i) {
          Dim& d = (*merged.shape)[i];
          const Dim& n = (*inferred.shape)[i];
          if (d.is_fixed()) {
            if (n.is_fixed() && *n.value != *d.value) {
              ++stats->conflicts;
              return;
            }
          } else if (n.is_fixed() || (!DimKnown(d) && DimKnown(n))) {
            d.value = n.value;
            d.param = n.param;
            refined = true;
          }
        }
      }
    }
    if (refined) {
      type = std::move(merged);
      ++stats->values_refined;
      changed = true;
    }
  }
  if (changed && !v->is_graph_output() && !v->is_graph_input()) v->in_value_info = true;
}

// Moves big initializers to typed inputs and drops value_info that libonnx would have to merge
// with its own results (it throws on a disagreement); the IR keeps those types and MergeInto
// reconciles them afterwards. value_info of outputs of ops libonnx has no schema for stays: it
// is the only way their users get typed.
void PrepareGraph(onnx::GraphProto* g, const std::unordered_map<std::string, int>& opsets) {
  absl::flat_hash_set<std::string> unknown_op_outputs;
  for (onnx::NodeProto& node : *g->mutable_node()) {
    auto it = opsets.find(node.domain());
    const bool known =
        it != opsets.end() &&
        onnx::OpSchemaRegistry::Schema(node.op_type(), it->second, node.domain()) != nullptr;
    if (!known) unknown_op_outputs.insert(node.output().begin(), node.output().end());
    for (onnx::AttributeProto& attr : *node.mutable_attribute()) {
      if (attr.has_g()) PrepareGraph(attr.mutable_g(), opsets);
      for (onnx::GraphProto& sub : *attr.mutable_graphs()) PrepareGraph(&sub, opsets);
    }
  }
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> kept;
  for (onnx::ValueInfoProto& info : *g->mutable_value_info()) {
    if (unknown_op_outputs.contains(info.name())) *kept.Add() = std::move(info);
  }
  g->mutable_value_info()->Swap(&kept);
  google::protobuf::RepeatedPtrField<onnx::TensorProto> small;
  for (onnx::TensorProto& t : *g->mutable_initializer()) {
    if (t.raw_data().size() < kMaxInitializerBytesWithData) {
      *small.Add() = std::move(t);
      continue;
    }
    onnx::ValueInfoProto* input = g->add_input();
    input->set_name(t.name());
    auto* tensor_type = input->mutable_type()->mutable_tensor_type();
    tensor_type->set_elem_type(t.data_type());
    auto* shape = tensor_type->mutable_shape();
    for (int64_t d : t.dims()) shape->add_dim()->set_dim_value(d);
  }
  g->mutable_initializer()->Swap(&small);
}

// Graph outputs keep only their element type (shapes may disagree with what libonnx infers).
void ForgetOutputShapes(onnx::GraphProto* g) {
  for (onnx::ValueInfoProto& out : *g->mutable_output()) {
    if (out.type().has_tensor_type()) out.mutable_type()->mutable_tensor_type()->clear_shape();
  }
  for (onnx::NodeProto& node : *g->mutable_node()) {
    for (onnx::AttributeProto& attr : *node.mutable_attribute()) {
      if (attr.has_g()) ForgetOutputShapes(attr.mutable_g());
      for (onnx::GraphProto& sub : *attr.mutable_graphs()) ForgetOutputShapes(&sub);
    }
  }
}

// Copies the inferred types of `proto` (exported from `graph`, so nodes match one to one) back.
void ApplyInferred(Graph& graph, const onnx::GraphProto& proto, ShapeInferenceStats* stats) {
  absl::flat_hash_map<std::string, const onnx::TypeProto*> types;
  for (const onnx::ValueInfoProto& info : proto.value_info()) types[info.name()] = &info.type();
  for (const onnx::ValueInfoProto& info : proto.output()) types[info.name()] = &info.type();
  int index = 0;
  for (const auto& node : graph.nodes()) {
    if (index >= proto.node_size()) break;
    const onnx::NodeProto& pnode = proto.node(index++);
    for (Value* out : node->outputs()) {
      if (out == nullptr) continue;
      auto it = types.find(out->name());
      if (it != types.end()) MergeInto(out, FromTypeProto(*it->second), stats);
      if (!out->type.is_tensor() || out->type.elem_type == DataType::kUndefined) {
        ++stats->untyped;
      }
    }
    for (Attribute& attr : node->mutable_attributes()) {
      const onnx::AttributeProto* pattr = nullptr;
      for (const onnx::AttributeProto& a : pnode.attribute()) {
        if (a.name() == attr.name) pattr = &a;
      }
      if (pattr == nullptr) continue;
      if (auto* g = std::get_if<Attribute::GraphPtr>(&attr.value); g != nullptr && *g) {
        ApplyInferred(**g, pattr->g(), stats);
      } else if (auto* gs = std::get_if<std::vector<Attribute::GraphPtr>>(&attr.value)) {
        for (size_t i = 0; i < gs->size() && static_cast<int>(i) < pattr->graphs_size(); ++i) {
          if ((*gs)[i]) ApplyInferred(*(*gs)[i], pattr->graphs(static_cast<int>(i)), stats);
        }
      }
    }
  }
}

bool RunLibOnnx(onnx::ModelProto& proto, bool data_propagation) {
  InstallLibOnnxGuards();
  try {
    onnx::ShapeInferenceOptions options(/*check_type_val=*/false, /*strict_mode_val=*/0,
                                        data_propagation);
    onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), options);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void CollectTyped(const onnx::GraphProto& g, absl::flat_hash_set<std::string>* typed) {
  auto add = [&](const onnx::ValueInfoProto& info) {
    if (info.type().has_tensor_type() && info.type().tensor_type().elem_type() != 0) {
      typed->insert(info.name());
    }
  };
  for (const auto& v : g.input()) add(v);
  for (const auto& v : g.output()) add(v);
  for (const auto& v : g.value_info()) add(v);
  for (const auto& t : g.initializer()) typed->insert(t.name());
  for (const onnx::NodeProto& node : g.node()) {
    for (const onnx::AttributeProto& attr : node.attribute()) {
      if (attr.has_g()) CollectTyped(attr.g(), typed);
      for (const onnx::GraphProto& sub : attr.graphs()) CollectTyped(sub, typed);
    }
  }
}

// libonnx 1.12's data propagation dereferences the type of a Shape input without checking it
// (a segfault, found by the fold_constants fuzzer: `s = Shape(c)` where c is the output of an op
// without a schema; Size reads its input type the same way, the other propagators only read
// input data, which they check). It is safe when every Shape and Size input has a type, which a
// run without data propagation tells.
bool EveryInputTyped(const onnx::GraphProto& g, const absl::flat_hash_set<std::string>& typed) {
  for (const onnx::NodeProto& node : g.node()) {
    if ((node.domain().empty() || node.domain() == "ai.onnx") &&
        (node.op_type() == "Shape" || node.op_type() == "Size")) {
      for (const std::string& in : node.input()) {
        if (!in.empty() && !typed.contains(in)) return false;
      }
    }
    for (const onnx::AttributeProto& attr : node.attribute()) {
      if (attr.has_g() && !EveryInputTyped(attr.g(), typed)) return false;
      for (const onnx::GraphProto& sub : attr.graphs()) {
        if (!EveryInputTyped(sub, typed)) return false;
      }
    }
  }
  return true;
}

// Inference without data propagation, then with it when that is safe (see EveryInputTyped).
bool InferTypes(onnx::ModelProto& proto) {
  onnx::ModelProto plain = proto;
  if (!RunLibOnnx(plain, /*data_propagation=*/false)) return false;
  absl::flat_hash_set<std::string> typed;
  CollectTyped(plain.graph(), &typed);
  if (EveryInputTyped(plain.graph(), typed) && RunLibOnnx(proto, /*data_propagation=*/true)) {
    return true;
  }
  proto = std::move(plain);
  return true;
}

}  // namespace

absl::Status InferModelShapes(Model& model, ShapeInferenceStats* stats) {
  if (!model.graph) return absl::OkStatus();
  std::unordered_map<std::string, int> opsets;
  for (const OpsetImport& o : model.opset_imports) {
    opsets[o.domain == "ai.onnx" ? "" : o.domain] = static_cast<int>(o.version);
  }
  onnx::ModelProto proto;
  for (int attempt = 0; attempt < 2; ++attempt) {
    proto.Clear();
    if (absl::Status s = ExportModel(model, &proto); !s.ok()) {
      return s;
    }
    proto.clear_functions();
    PrepareGraph(proto.mutable_graph(), opsets);
    // A declared output shape libonnx disagrees with aborts its whole run: the second attempt
    // goes without them (MergeInto keeps the declared ones).
    if (attempt == 1) ForgetOutputShapes(proto.mutable_graph());
    if (InferTypes(proto)) {
      ApplyInferred(*model.graph, proto.graph(), stats);
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace onnx_opt
