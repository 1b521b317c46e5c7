// ONNX protobuf -> IR. Tensor bytes are moved out of the proto (raw_data) or mapped from external
// data files; nothing large is copied.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/unknown_field_set.h"
#include "ir/file_io.h"
#include "ir/onnx_internal.h"
#include "ir/onnx_io.h"
#include "ir/onnx_tensor_data.h"
#include "ir/strings.h"
#include "ir/verifier.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;
using internal::EmptyStringsOf;
using internal::PrereadRawData;
using internal::UnknownBytes;

// FunctionProto fields newer than ONNX 1.12's onnx.proto that the IR models directly.
constexpr int kFunctionAttributeProtoField = 11;
constexpr int kFunctionOverloadField = 13;

OpsetImport ImportOpset(const onnx::OperatorSetIdProto& op) {
  OpsetImport opset{op.domain(), op.version()};
  opset.domain_absent = !op.has_domain();
  return opset;
}

std::string NormaliseDomain(const std::string& domain) {
  return domain == "ai.onnx" ? std::string() : domain;
}

// Resolves TensorProto external data against the model's folder, mapping each file once.

// raw_data the file parser sliced out of the mapped file, keyed by the TensorProto it belongs to.

class ExternalDataResolver {
 public:
  explicit ExternalDataResolver(std::string base_dir) : base_dir_(std::move(base_dir)) {}

  absl::StatusOr<std::shared_ptr<const Buffer>> Resolve(const onnx::TensorProto& tensor) {
    const std::string& name = tensor.name();
    std::string location;
    int64_t offset = 0;
    std::optional<int64_t> length;
    for (const onnx::StringStringEntryProto& entry : tensor.external_data()) {
      if (entry.key() == "location") {
        location = entry.value();
      } else if (entry.key() == "offset" || entry.key() == "length") {
        int64_t number;
        if (!absl::SimpleAtoi(entry.value(), &number) || number < 0) {
          return Error(name, absl::StrCat("external data ", entry.key(), " '", entry.value(),
                                          "' is not a non-negative integer"));
        }
        if (entry.key() == "offset") {
          offset = number;
        } else {
          length = number;
        }
      }
    }
    if (location.empty()) return Error(name, "external data has no location");
    if (base_dir_.empty()) {
      return Error(name,
                   absl::StrCat("external data file '", location,
                                "' cannot be resolved: the model was not loaded from a file"));
    }
    if (location.front() == '/' || location.front() == '\\') {
      return Error(name, absl::StrCat("external data path '", location,
                                      "' is absolute; it must be relative to the model's folder"));
    }
    for (absl::string_view part : absl::StrSplit(location, absl::ByAnyChar("/\\"))) {
      if (part == "..") {
        return Error(name, absl::StrCat("external data path '", location,
                                        "' escapes the model's folder ('..')"));
      }
    }
    absl::StatusOr<std::shared_ptr<MappedFile>> file = Map(name, location);
    if (!file.ok()) return file.status();
    int64_t size = static_cast<int64_t>((*file)->size());
    if (offset > size || (length && *length > size - offset)) {
      std::string range = length ? absl::StrCat("range offset ", offset, " length ", *length)
                                 : absl::StrCat("offset ", offset);
      return Error(name, absl::StrCat("external data ", range, " is past the end of '", location,
                                      "' (", size, " bytes)"));
    }
    int64_t bytes = length.value_or(size - offset);
    return MappedFile::Slice(*file, static_cast<size_t>(offset), static_cast<size_t>(bytes));
  }

 private:
  static absl::Status Error(const std::string& tensor, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", tensor, "': ", message));
  }

  static std::optional<std::string> RealPath(const std::string& path) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (resolved == nullptr) return std::nullopt;
    std::string out(resolved);
    std::free(resolved);
    return out;
  }

  absl::StatusOr<std::shared_ptr<MappedFile>> Map(const std::string& tensor,
                                                  const std::string& location) {
    std::string path = absl::StrCat(base_dir_, "/", location);
    std::optional<std::string> real = RealPath(path);
    if (!real) {
      return Error(tensor, absl::StrCat("external data file '", path,
                                        "' not found: ", std::strerror(errno)));
    }
    if (real_base_.empty()) {
      std::optional<std::string> base = RealPath(base_dir_);
      if (!base) return Error(tensor, absl::StrCat("model folder '", base_dir_, "' not found"));
      real_base_ = *base == "/" ? std::string() : *base;
      real_base_ += "/";
    }
    if (real->compare(0, real_base_.size(), real_base_) != 0) {
      return Error(tensor, absl::StrCat("external data file '", location,
                                        "' resolves outside the model's folder (", *real, ")"));
    }
    auto it = files_.find(*real);
    if (it != files_.end()) return it->second;
    absl::StatusOr<std::shared_ptr<MappedFile>> file = MappedFile::Open(*real);
    if (!file.ok()) {
      return Error(tensor,
                   absl::StrCat("external data file '", path, "': ", file.status().message()));
    }
    files_.emplace(*real, *file);
    return *file;
  }

  std::string base_dir_;
  std::string real_base_;  // realpath of base_dir_ with a trailing '/'
  absl::flat_hash_map<std::string, std::shared_ptr<MappedFile>> files_;
};

}  // namespace

// Builds the IR from a proto. A friend of Graph: it creates values with their exact names (no
// uniquing) and records every definition, so the verifier, not the importer, reports bad SSA.
class ModelImporter {
 public:
  explicit ModelImporter(std::string base_dir, const PrereadRawData* preread = nullptr)
      : external_(std::move(base_dir)), preread_(preread) {}

  absl::StatusOr<std::unique_ptr<Model>> Import(onnx::ModelProto& proto) {
    auto model = std::make_unique<Model>();
    model->ir_version = proto.ir_version();
    for (const onnx::OperatorSetIdProto& op : proto.opset_import()) {
      model->opset_imports.push_back(ImportOpset(op));
    }
    model->producer_name = proto.producer_name();
    model->producer_version = proto.producer_version();
    model->domain = proto.domain();
    model->has_model_version = proto.has_model_version();
    model->model_version = proto.model_version();
    model->doc_string = proto.doc_string();
    for (const onnx::StringStringEntryProto& entry : proto.metadata_props()) {
      model->metadata_props.emplace_back(entry.key(), entry.value());
    }
    for (const onnx::TrainingInfoProto& info : proto.training_info()) {
      model->training_info.push_back(OpaqueProto{info.SerializeAsString()});
    }
    model->unknown_fields = UnknownBytes(proto);
    model->empty_fields = EmptyStringsOf(proto);
    if (proto.has_graph()) {
      model->graph = std::make_unique<Graph>();
      if (absl::Status s = ImportGraph(*proto.mutable_graph(), model->graph.get()); !s.ok()) {
        return s;
      }
    }
    for (onnx::FunctionProto& fp : *proto.mutable_functions()) {
      absl::StatusOr<Function> function = ImportFunction(fp);
      if (!function.ok()) return function.status();
      model->functions.push_back(std::move(*function));
    }
    return model;
  }

 private:
  static ValueType ImportType(const onnx::ValueInfoProto& info) {
    if (!info.has_type()) return ValueType();
    const onnx::TypeProto& tp = info.type();
    if (!tp.has_tensor_type()) {
      ValueType opaque;
      opaque.kind = ValueType::Kind::kOpaque;
      opaque.opaque_proto = tp.SerializeAsString();
      return opaque;
    }
    const onnx::TypeProto::Tensor& tensor = tp.tensor_type();
    ValueType type = ValueType::Tensor(static_cast<DataType>(tensor.elem_type()));
    type.denotation = tp.denotation();
    if (tensor.has_shape()) {
      std::vector<Dim> dims;
      dims.reserve(tensor.shape().dim_size());
      for (const onnx::TensorShapeProto::Dimension& d : tensor.shape().dim()) {
        Dim dim;
        if (d.has_dim_value()) dim.value = d.dim_value();
        if (d.has_dim_param()) dim.param = d.dim_param();
        dim.denotation = d.denotation();
        dims.push_back(std::move(dim));
      }
      type.shape = std::move(dims);
    }
    return type;
  }

  static void ApplyValueInfo(const onnx::ValueInfoProto& info, Value* v) {
    v->type = ImportType(info);
    v->doc_string = info.doc_string();
    v->unknown_fields = UnknownBytes(info);
    v->empty_fields = EmptyStringsOf(info);
  }

  absl::StatusOr<TensorPtr> ImportTensor(onnx::TensorProto& proto) {
    const DataType type = static_cast<DataType>(proto.data_type());
    std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
    Tensor tensor;
    bool typed_field_data = false;
    if (type == DataType::kString) {
      std::vector<std::string> strings;
      strings.reserve(proto.string_data_size());
      for (std::string& s : *proto.mutable_string_data()) strings.push_back(std::move(s));
      tensor = Tensor::FromStrings(std::move(dims), std::move(strings));
    } else {
      std::shared_ptr<const Buffer> data;
      if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
        absl::StatusOr<std::shared_ptr<const Buffer>> mapped = external_.Resolve(proto);
        if (!mapped.ok()) return mapped.status();
        data = std::move(*mapped);
      } else if (auto it = preread_ ? preread_->find(&proto) : PrereadRawData::const_iterator();
                 preread_ != nullptr && it != preread_->end()) {
        data = it->second;
      } else if (proto.has_raw_data()) {
        data = Buffer::FromString(std::move(*proto.mutable_raw_data()));
      } else {
        absl::StatusOr<std::shared_ptr<const Buffer>> typed = TypedFieldsToBuffer(proto, type);
        if (!typed.ok()) return typed.status();
        data = std::move(*typed);
        typed_field_data = true;
      }
      tensor = Tensor(type, std::move(dims), std::move(data));
    }
    tensor.name = proto.name();
    tensor.doc_string = proto.doc_string();
    tensor.unknown_fields = UnknownBytes(proto);
    tensor.empty_fields = EmptyStringsOf(proto);
    tensor.typed_field_data = typed_field_data;
    return std::make_shared<const Tensor>(std::move(tensor));
  }

  absl::StatusOr<Attribute> ImportAttribute(onnx::AttributeProto& proto, Node* owner) {
    Attribute attr;
    attr.name = proto.name();
    attr.ref_attr_name = proto.ref_attr_name();
    attr.doc_string = proto.doc_string();
    attr.unknown_fields = UnknownBytes(proto);
    attr.empty_fields = EmptyStringsOf(proto);
    attr.type = static_cast<AttrType>(proto.type());
    if (attr.type == AttrType::kUndefined) attr.type = InferAttrType(proto);
    switch (attr.type) {
      case AttrType::kFloat:
        if (proto.has_f()) attr.value = proto.f();
        break;
      case AttrType::kInt:
        if (proto.has_i()) attr.value = proto.i();
        break;
      case AttrType::kString:
        if (proto.has_s()) attr.value = std::move(*proto.mutable_s());
        break;
      case AttrType::kTensor:
        if (proto.has_t()) {
          absl::StatusOr<TensorPtr> t = ImportTensor(*proto.mutable_t());
          if (!t.ok()) return t.status();
          attr.value = std::move(*t);
        }
        break;
      case AttrType::kGraph:
        if (proto.has_g()) {
          absl::StatusOr<Attribute::GraphPtr> g = ImportSubgraph(*proto.mutable_g(), owner);
          if (!g.ok()) return g.status();
          attr.value = std::move(*g);
        }
        break;
      case AttrType::kSparseTensor:
        if (proto.has_sparse_tensor()) {
          attr.value = std::vector<OpaqueProto>{{proto.sparse_tensor().SerializeAsString()}};
        }
        break;
      case AttrType::kTypeProto:
        if (proto.has_tp()) attr.value = std::vector<OpaqueProto>{{proto.tp().SerializeAsString()}};
        break;
      case AttrType::kFloats:
        attr.value = std::vector<float>(proto.floats().begin(), proto.floats().end());
        break;
      case AttrType::kInts:
        attr.value = std::vector<int64_t>(proto.ints().begin(), proto.ints().end());
        break;
      case AttrType::kStrings: {
        std::vector<std::string> strings;
        for (std::string& s : *proto.mutable_strings()) strings.push_back(std::move(s));
        attr.value = std::move(strings);
        break;
      }
      case AttrType::kTensors: {
        std::vector<TensorPtr> tensors;
        for (onnx::TensorProto& tp : *proto.mutable_tensors()) {
          absl::StatusOr<TensorPtr> t = ImportTensor(tp);
          if (!t.ok()) return t.status();
          tensors.push_back(std::move(*t));
        }
        attr.value = std::move(tensors);
        break;
      }
      case AttrType::kGraphs: {
        std::vector<Attribute::GraphPtr> graphs;
        for (onnx::GraphProto& gp : *proto.mutable_graphs()) {
          absl::StatusOr<Attribute::GraphPtr> g = ImportSubgraph(gp, owner);
          if (!g.ok()) return g.status();
          graphs.push_back(std::move(*g));
        }
        attr.value = std::move(graphs);
        break;
      }
      case AttrType::kSparseTensors: {
        std::vector<OpaqueProto> list;
        for (const auto& sp : proto.sparse_tensors()) list.push_back({sp.SerializeAsString()});
        attr.value = std::move(list);
        break;
      }
      case AttrType::kTypeProtos: {
        std::vector<OpaqueProto> list;
        for (const auto& tp : proto.type_protos()) list.push_back({tp.SerializeAsString()});
        attr.value = std::move(list);
        break;
      }
      case AttrType::kUndefined:
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(owner ? owner->DebugName() : std::string("function"), ": attribute '",
                         attr.name, "' has unknown type ", static_cast<int>(attr.type)));
    }
    return attr;
  }

  // Old models (IR version 1) may omit AttributeProto.type; it follows from the field set.
  static AttrType InferAttrType(const onnx::AttributeProto& p) {
    if (p.has_f()) return AttrType::kFloat;
    if (p.has_i()) return AttrType::kInt;
    if (p.has_s()) return AttrType::kString;
    if (p.has_t()) return AttrType::kTensor;
    if (p.has_g()) return AttrType::kGraph;
    if (p.has_sparse_tensor()) return AttrType::kSparseTensor;
    if (p.has_tp()) return AttrType::kTypeProto;
    if (p.floats_size() > 0) return AttrType::kFloats;
    if (p.ints_size() > 0) return AttrType::kInts;
    if (p.strings_size() > 0) return AttrType::kStrings;
    if (p.tensors_size() > 0) return AttrType::kTensors;
    if (p.graphs_size() > 0) return AttrType::kGraphs;
    if (p.sparse_tensors_size() > 0) return AttrType::kSparseTensors;
    if (p.type_protos_size() > 0) return AttrType::kTypeProtos;
    return AttrType::kUndefined;
  }

  absl::StatusOr<Attribute::GraphPtr> ImportSubgraph(onnx::GraphProto& proto, Node* owner) {
    auto sub = std::make_unique<Graph>();
    // Link to the owner first so names resolve through the enclosing graphs.
    AdoptSubgraph(owner, sub.get());
    if (absl::Status s = ImportGraph(proto, sub.get()); !s.ok()) return s;
    return sub;
  }

  // A value named exactly `name`. A second definition of a name gets its own Value (for the
  // verifier to report) while lookups keep finding the first one.
  static Value* NewNamedValue(Graph* graph, const std::string& name) {
    Value* first = graph->FindLocalValue(name);
    Value* v = graph->NewValue(name);
    if (first != nullptr) graph->by_name_[name] = first;
    return v;
  }

  static Value* AddNamedNodeOutput(Graph* graph, Node* node, const std::string& name) {
    Value* first = graph->FindLocalValue(name);
    Value* v = graph->AddNodeOutput(node, name);
    if (v->name() != name) graph->Rename(v, name);
    if (first != nullptr) graph->by_name_[name] = first;
    return v;
  }

  // Looks a name up in scope; an undefined name becomes a value nobody defines (reported by the
  // verifier) so that the model still round-trips when verification is off.
  static Value* ResolveName(Graph* graph, const std::string& name) {
    if (Value* v = graph->FindValue(name)) return v;
    return NewNamedValue(graph, name);
  }

  using NodeProtos = google::protobuf::RepeatedPtrField<onnx::NodeProto>;

  // Creates the nodes with their outputs; inputs and attributes come in ResolveNodes, once every
  // name of this graph exists.
  static std::vector<Node*> CreateNodes(NodeProtos& protos, Graph* graph) {
    std::vector<Node*> nodes;
    nodes.reserve(protos.size());
    for (onnx::NodeProto& np : protos) {
      Node* node = graph->CreateNode(np.op_type(), {}, 0, nullptr, NormaliseDomain(np.domain()));
      node->name = np.name();
      node->doc_string = np.doc_string();
      node->unknown_fields = UnknownBytes(np);
      node->empty_fields = EmptyStringsOf(np);
      for (const std::string& out : np.output()) {
        if (out.empty()) {
          graph->AppendAbsentOutput(node);
        } else {
          AddNamedNodeOutput(graph, node, out);
        }
      }
      nodes.push_back(node);
    }
    return nodes;
  }

  absl::Status ResolveNodes(NodeProtos& protos, const std::vector<Node*>& nodes, Graph* graph) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      onnx::NodeProto& np = protos[static_cast<int>(i)];
      Node* node = nodes[i];
      for (const std::string& in : np.input()) {
        node->AddInput(in.empty() ? nullptr : ResolveName(graph, in));
      }
      for (onnx::AttributeProto& ap : *np.mutable_attribute()) {
        absl::StatusOr<Attribute> attr = ImportAttribute(ap, node);
        if (!attr.ok()) return attr.status();
        node->mutable_attributes().push_back(std::move(*attr));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ImportGraph(onnx::GraphProto& proto, Graph* graph) {
    graph->name = proto.name();
    graph->doc_string = proto.doc_string();
    graph->unknown_fields = UnknownBytes(proto);
    graph->empty_fields = EmptyStringsOf(proto);
    absl::flat_hash_map<std::string, Value*> inputs_by_name;
    for (const onnx::ValueInfoProto& info : proto.input()) {
      Value* v = NewNamedValue(graph, info.name());
      ApplyValueInfo(info, v);
      graph->inputs_.push_back(v);
      inputs_by_name.try_emplace(info.name(), v);
    }
    for (onnx::TensorProto& tp : *proto.mutable_initializer()) {
      absl::StatusOr<TensorPtr> tensor = ImportTensor(tp);
      if (!tensor.ok()) return tensor.status();
      auto input = inputs_by_name.find(tp.name());
      if (input != inputs_by_name.end() && !input->second->is_initializer()) {
        // An input with a default value: keep the type the input declared.
        ValueType declared = input->second->type;
        graph->SetInputDefault(input->second, std::move(*tensor));
        input->second->type = std::move(declared);
      } else {
        Value* v = NewNamedValue(graph, tp.name());
        graph->SetInitializer(v, std::move(*tensor));
        graph->initializers_.push_back(v);
      }
    }
    for (const onnx::SparseTensorProto& sp : proto.sparse_initializer()) {
      graph->sparse_initializers.push_back(OpaqueProto{sp.SerializeAsString()});
    }
    for (const onnx::TensorAnnotation& qa : proto.quantization_annotation()) {
      graph->quantization_annotations.push_back(OpaqueProto{qa.SerializeAsString()});
    }
    std::vector<Node*> nodes = CreateNodes(*proto.mutable_node(), graph);

    // value_info: exporters list these in value_info order, which the IR keeps as the order of
    // these values at the end of the graph's value list.
    std::vector<Value*> listed;
    listed.reserve(proto.value_info_size());
    for (const onnx::ValueInfoProto& info : proto.value_info()) {
      Value* v = graph->FindLocalValue(info.name());
      if (v == nullptr || v->in_value_info) v = NewNamedValue(graph, info.name());
      ApplyValueInfo(info, v);
      v->in_value_info = true;
      listed.push_back(v);
    }
    if (!listed.empty()) {
      absl::flat_hash_map<Value*, std::list<std::unique_ptr<Value>>::iterator> position;
      for (auto it = graph->values_.begin(); it != graph->values_.end(); ++it) {
        position[it->get()] = it;
      }
      for (Value* v : listed)
        graph->values_.splice(graph->values_.end(), graph->values_, position[v]);
    }

    for (const onnx::ValueInfoProto& info : proto.output()) {
      Value* v = ResolveName(graph, info.name());
      // One Value has one type: an output that is also an input here, or a subgraph output naming
      // an outer value, keeps the type its definition declared.
      if (v->graph() == graph && !v->is_graph_input()) ApplyValueInfo(info, v);
      graph->outputs_.push_back(v);
    }
    return ResolveNodes(*proto.mutable_node(), nodes, graph);
  }

  absl::StatusOr<Function> ImportFunction(onnx::FunctionProto& proto) {
    Function function;
    function.name = proto.name();
    function.domain = proto.domain();
    function.doc_string = proto.doc_string();
    function.empty_fields = EmptyStringsOf(proto);
    function.attribute_names.assign(proto.attribute().begin(), proto.attribute().end());
    for (const onnx::OperatorSetIdProto& op : proto.opset_import()) {
      function.opset_imports.push_back(ImportOpset(op));
    }
    // attribute_proto and overload are newer than 1.12's FunctionProto: take them out of the
    // unknown fields; the rest stays there.
    const UnknownFieldSet& unknown = proto.unknown_fields();
    UnknownFieldSet rest;
    for (int i = 0; i < unknown.field_count(); ++i) {
      const UnknownField& field = unknown.field(i);
      bool delimited = field.type() == UnknownField::TYPE_LENGTH_DELIMITED;
      if (delimited && field.number() == kFunctionAttributeProtoField) {
        onnx::AttributeProto ap;
        if (ap.ParseFromString(field.length_delimited())) {
          absl::StatusOr<Attribute> attr = ImportAttribute(ap, nullptr);
          if (!attr.ok()) return attr.status();
          function.attribute_defaults.push_back(std::move(*attr));
          continue;
        }
      } else if (delimited && field.number() == kFunctionOverloadField) {
        function.overload = field.length_delimited();
        continue;
      }
      rest.AddField(field);
    }
    if (!rest.empty()) rest.SerializeToString(&function.unknown_fields);

    function.body = std::make_unique<Graph>();
    Graph* body = function.body.get();
    for (const std::string& in : proto.input()) body->inputs_.push_back(NewNamedValue(body, in));
    std::vector<Node*> nodes = CreateNodes(*proto.mutable_node(), body);
    for (const std::string& out : proto.output()) body->outputs_.push_back(ResolveName(body, out));
    if (absl::Status s = ResolveNodes(*proto.mutable_node(), nodes, body); !s.ok()) return s;
    return function;
  }

  ExternalDataResolver external_;
  const PrereadRawData* preread_;
};

absl::StatusOr<std::unique_ptr<Model>> ImportModel(onnx::ModelProto&& proto,
                                                   const std::string& base_dir) {
  ModelImporter importer(base_dir);
  return importer.Import(proto);
}

absl::StatusOr<std::unique_ptr<Model>> internal::ImportModelProto(
    onnx::ModelProto& proto, const std::string& base_dir, const internal::PrereadRawData* preread) {
  ModelImporter importer(base_dir, preread);
  return importer.Import(proto);
}

}  // namespace onnx_opt
