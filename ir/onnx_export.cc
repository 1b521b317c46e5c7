// IR -> ONNX protobuf. For SaveModel (onnx_save.cc) the top-level initializers are left out of the
// proto and their bytes are streamed from the tensor buffers, so saving never holds a second copy
// of the weights.
#include <algorithm>
#include <variant>

#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"
#include "ir/onnx_internal.h"
#include "ir/onnx_io.h"
#include "ir/onnx_tensor_data.h"
#include "ir/strings.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt {
namespace {

using google::protobuf::UnknownFieldSet;
using internal::DeferredInitializer;
using internal::PendingBytes;
using internal::RestoreEmptyStrings;
using internal::SetUnknown;

constexpr int kFunctionAttributeProtoField = 11;
constexpr int kFunctionOverloadField = 13;
// External data offsets are aligned so that each tensor can be mapped on a page boundary.
constexpr int64_t kExternalAlignment = 4096;

void ExportOpset(const OpsetImport& op, onnx::OperatorSetIdProto* out) {
  if (!op.domain_absent || !op.domain.empty()) out->set_domain(op.domain);
  out->set_version(op.version);
}

absl::Status ParseOpaque(const OpaqueProto& opaque, google::protobuf::Message* out,
                         absl::string_view what) {
  if (!out->ParseFromString(opaque.bytes)) {
    return absl::InternalError(
        absl::StrCat("stored ", what, " does not parse as ", out->GetTypeName()));
  }
  return absl::OkStatus();
}

// Lowest IR version that can carry an element type.
int64_t IrVersionFor(DataType type) {
  switch (type) {
    case DataType::kFloat8E4M3FN:
    case DataType::kFloat8E4M3FNUZ:
    case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2FNUZ:
      return 9;
    case DataType::kUint4:
    case DataType::kInt4:
      return 10;
    case DataType::kFloat4E2M1:
      return 11;
    default:
      return 0;
  }
}


class ModelExporter {
 public:
  // external_threshold: tensors with at least this many bytes go to external data (-1: never).
  // defer_initializers: leave the top-level graph's initializers out of the proto; SaveModel
  // writes them from `deferred_initializers`.
  ModelExporter(int64_t external_threshold, std::string external_name, bool defer_initializers)
      : external_threshold_(external_threshold),
        external_name_(std::move(external_name)),
        defer_initializers_(defer_initializers) {}

  absl::Status Export(const Model& model, onnx::ModelProto* out) {
    out->Clear();
    for (const OpsetImport& op : model.opset_imports) ExportOpset(op, out->add_opset_import());
    if (!model.producer_name.empty()) out->set_producer_name(model.producer_name);
    if (!model.producer_version.empty()) out->set_producer_version(model.producer_version);
    if (!model.domain.empty()) out->set_domain(model.domain);
    if (model.has_model_version) out->set_model_version(model.model_version);
    if (!model.doc_string.empty()) out->set_doc_string(model.doc_string);
    for (const auto& [key, value] : model.metadata_props) {
      onnx::StringStringEntryProto* entry = out->add_metadata_props();
      entry->set_key(key);
      entry->set_value(value);
    }
    for (const OpaqueProto& info : model.training_info) {
      if (absl::Status s = ParseOpaque(info, out->add_training_info(), "training_info"); !s.ok()) {
        return s;
      }
    }
    if (model.graph) {
      if (absl::Status s = ExportGraph(*model.graph, out->mutable_graph(), defer_initializers_);
          !s.ok()) {
        return s;
      }
    }
    for (const Function& function : model.functions) {
      if (absl::Status s = ExportFunction(function, out->add_functions()); !s.ok()) return s;
    }
    if (absl::Status s = SetUnknown(model.unknown_fields, out); !s.ok()) return s;
    RestoreEmptyStrings(model.empty_fields, out);
    int64_t ir_version = std::max(model.ir_version, required_ir_version_);
    if (ir_version != 0) out->set_ir_version(ir_version);
    return absl::OkStatus();
  }


  std::vector<DeferredInitializer>& deferred_initializers() { return deferred_; }
  const std::vector<PendingBytes>& external_tensors() const { return external_; }
  int64_t external_size() const { return external_size_; }

 private:
  void NoteType(DataType type) {
    required_ir_version_ = std::max(required_ir_version_, IrVersionFor(type));
  }

  // Fills `out` except raw_data when `omit_raw_data`; returns the buffer left out (if any).
  absl::StatusOr<std::shared_ptr<const Buffer>> ExportTensor(const Tensor& tensor,
                                                             const std::string& name,
                                                             onnx::TensorProto* out,
                                                             bool omit_raw_data) {
    NoteType(tensor.type());
    for (int64_t d : tensor.dims()) out->add_dims(d);
    out->set_data_type(static_cast<int32_t>(tensor.type()));
    if (!name.empty()) out->set_name(name);
    if (!tensor.doc_string.empty()) out->set_doc_string(tensor.doc_string);
    if (absl::Status s = SetUnknown(tensor.unknown_fields, out); !s.ok()) return s;
    RestoreEmptyStrings(tensor.empty_fields, out);
    if (tensor.type() == DataType::kString) {
      for (const std::string& s : tensor.strings()) out->add_string_data(s);
      return std::shared_ptr<const Buffer>();
    }
    const std::shared_ptr<const Buffer>& buffer = tensor.buffer();
    const int64_t size = buffer ? static_cast<int64_t>(buffer->size()) : 0;
    if (external_threshold_ >= 0 && size > 0 && size >= external_threshold_) {
      int64_t offset =
          (external_size_ + kExternalAlignment - 1) / kExternalAlignment * kExternalAlignment;
      external_.push_back(PendingBytes{buffer, offset});
      external_size_ = offset + size;
      out->set_data_location(onnx::TensorProto::EXTERNAL);
      auto add_entry = [&](const char* key, std::string value) {
        onnx::StringStringEntryProto* entry = out->add_external_data();
        entry->set_key(key);
        entry->set_value(std::move(value));
      };
      add_entry("location", external_name_);
      add_entry("offset", absl::StrCat(offset));
      add_entry("length", absl::StrCat(size));
      return std::shared_ptr<const Buffer>();
    }
    if (tensor.typed_field_data) {
      if (absl::Status s = WriteTypedFields(tensor, out); !s.ok()) return s;
      return std::shared_ptr<const Buffer>();
    }
    if (omit_raw_data) return buffer ? buffer : Buffer::Empty();
    if (buffer) {
      out->set_raw_data(reinterpret_cast<const char*>(buffer->data()), buffer->size());
    } else {
      out->set_raw_data(std::string());
    }
    return std::shared_ptr<const Buffer>();
  }

  void ExportType(const ValueType& type, onnx::ValueInfoProto* out, absl::Status& status) {
    switch (type.kind) {
      case ValueType::Kind::kNone:
        return;
      case ValueType::Kind::kOpaque:
        status.Update(ParseOpaque(OpaqueProto{type.opaque_proto}, out->mutable_type(),
                                  absl::StrCat("type of '", out->name(), "'")));
        return;
      case ValueType::Kind::kTensor:
        break;
    }
    NoteType(type.elem_type);
    onnx::TypeProto* tp = out->mutable_type();
    onnx::TypeProto::Tensor* tensor = tp->mutable_tensor_type();
    if (type.elem_type != DataType::kUndefined) {
      tensor->set_elem_type(static_cast<int32_t>(type.elem_type));
    }
    if (!type.denotation.empty()) tp->set_denotation(type.denotation);
    if (type.shape) {
      onnx::TensorShapeProto* shape = tensor->mutable_shape();
      for (const Dim& dim : *type.shape) {
        onnx::TensorShapeProto::Dimension* d = shape->add_dim();
        if (dim.value) {
          d->set_dim_value(*dim.value);
        } else if (!dim.param.empty()) {
          d->set_dim_param(dim.param);
        }
        if (!dim.denotation.empty()) d->set_denotation(dim.denotation);
      }
    }
  }

  absl::Status ExportValueInfo(const Value& v, onnx::ValueInfoProto* out) {
    out->set_name(v.name());
    absl::Status status;
    ExportType(v.type, out, status);
    if (!v.doc_string.empty()) out->set_doc_string(v.doc_string);
    status.Update(SetUnknown(v.unknown_fields, out));
    RestoreEmptyStrings(v.empty_fields, out);
    return status;
  }

  absl::Status ExportAttribute(const Attribute& attr, onnx::AttributeProto* out) {
    out->set_name(attr.name);
    if (!attr.ref_attr_name.empty()) out->set_ref_attr_name(attr.ref_attr_name);
    if (!attr.doc_string.empty()) out->set_doc_string(attr.doc_string);
    if (attr.type != AttrType::kUndefined) {
      out->set_type(static_cast<onnx::AttributeProto::AttributeType>(attr.type));
    }
    if (absl::Status s = SetUnknown(attr.unknown_fields, out); !s.ok()) return s;
    RestoreEmptyStrings(attr.empty_fields, out);
    const Attribute::Payload& value = attr.value;
    if (const auto* f = std::get_if<float>(&value)) {
      out->set_f(*f);
    } else if (const auto* i = std::get_if<int64_t>(&value)) {
      out->set_i(*i);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      out->set_s(*s);
    } else if (const auto* t = std::get_if<TensorPtr>(&value)) {
      if (*t) return ExportTensor(**t, (*t)->name, out->mutable_t(), false).status();
    } else if (const auto* g = std::get_if<Attribute::GraphPtr>(&value)) {
      if (*g) return ExportGraph(**g, out->mutable_g(), false);
    } else if (const auto* fs = std::get_if<std::vector<float>>(&value)) {
      out->mutable_floats()->Add(fs->begin(), fs->end());
    } else if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) {
      out->mutable_ints()->Add(is->begin(), is->end());
    } else if (const auto* ss = std::get_if<std::vector<std::string>>(&value)) {
      for (const std::string& s : *ss) out->add_strings(s);
    } else if (const auto* ts = std::get_if<std::vector<TensorPtr>>(&value)) {
      for (const TensorPtr& t : *ts) {
        absl::Status s = ExportTensor(*t, t->name, out->add_tensors(), false).status();
        if (!s.ok()) return s;
      }
    } else if (const auto* gs = std::get_if<std::vector<Attribute::GraphPtr>>(&value)) {
      for (const Attribute::GraphPtr& g : *gs) {
        if (absl::Status s = ExportGraph(*g, out->add_graphs(), false); !s.ok()) return s;
      }
    } else if (const auto* os = std::get_if<std::vector<OpaqueProto>>(&value)) {
      for (const OpaqueProto& o : *os) {
        google::protobuf::Message* target = nullptr;
        switch (attr.type) {
          case AttrType::kSparseTensor:
            target = out->mutable_sparse_tensor();
            break;
          case AttrType::kTypeProto:
            target = out->mutable_tp();
            break;
          case AttrType::kSparseTensors:
            target = out->add_sparse_tensors();
            break;
          case AttrType::kTypeProtos:
            target = out->add_type_protos();
            break;
          default:
            return absl::InternalError(
                absl::StrCat("attribute '", attr.name, "' holds protos but is not a proto type"));
        }
        if (absl::Status s = ParseOpaque(o, target, absl::StrCat("attribute '", attr.name, "'"));
            !s.ok()) {
          return s;
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status ExportNode(const Node& node, onnx::NodeProto* out) {
    for (const Value* in : node.inputs()) out->add_input(in ? in->name() : std::string());
    for (const Value* o : node.outputs()) out->add_output(o ? o->name() : std::string());
    if (!node.name.empty()) out->set_name(node.name);
    out->set_op_type(node.op_type);
    if (!node.domain.empty()) out->set_domain(node.domain);
    if (!node.doc_string.empty()) out->set_doc_string(node.doc_string);
    for (const Attribute& attr : node.attributes()) {
      if (absl::Status s = ExportAttribute(attr, out->add_attribute()); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(node.DebugName(), ": ", s.message()));
      }
    }
    RestoreEmptyStrings(node.empty_fields, out);
    return SetUnknown(node.unknown_fields, out);
  }

  absl::Status ExportGraph(const Graph& graph, onnx::GraphProto* out, bool defer_initializers) {
    for (const auto& node : graph.nodes()) {
      if (absl::Status s = ExportNode(*node, out->add_node()); !s.ok()) return s;
    }
    if (!graph.name.empty()) out->set_name(graph.name);
    for (const Value* v : graph.initializers()) {
      if (defer_initializers) {
        DeferredInitializer& d = deferred_.emplace_back();
        absl::StatusOr<std::shared_ptr<const Buffer>> raw =
            ExportTensor(*v->initializer(), v->name(), &d.header, true);
        if (!raw.ok()) return raw.status();
        d.raw_data = std::move(*raw);
      } else {
        absl::Status s =
            ExportTensor(*v->initializer(), v->name(), out->add_initializer(), false).status();
        if (!s.ok()) return s;
      }
    }
    for (const OpaqueProto& sparse : graph.sparse_initializers) {
      if (absl::Status s = ParseOpaque(sparse, out->add_sparse_initializer(), "sparse initializer");
          !s.ok()) {
        return s;
      }
    }
    if (!graph.doc_string.empty()) out->set_doc_string(graph.doc_string);
    for (const Value* v : graph.inputs()) {
      if (absl::Status s = ExportValueInfo(*v, out->add_input()); !s.ok()) return s;
    }
    for (const Value* v : graph.outputs()) {
      if (absl::Status s = ExportValueInfo(*v, out->add_output()); !s.ok()) return s;
    }
    for (const Value* v : graph.values()) {
      if (!v->in_value_info) continue;
      if (absl::Status s = ExportValueInfo(*v, out->add_value_info()); !s.ok()) return s;
    }
    for (const OpaqueProto& qa : graph.quantization_annotations) {
      absl::Status s =
          ParseOpaque(qa, out->add_quantization_annotation(), "quantization annotation");
      if (!s.ok()) return s;
    }
    RestoreEmptyStrings(graph.empty_fields, out);
    return SetUnknown(graph.unknown_fields, out);
  }

  absl::Status ExportFunction(const Function& function, onnx::FunctionProto* out) {
    out->set_name(function.name);
    if (!function.domain.empty()) out->set_domain(function.domain);
    if (!function.doc_string.empty()) out->set_doc_string(function.doc_string);
    RestoreEmptyStrings(function.empty_fields, out);
    for (const std::string& a : function.attribute_names) out->add_attribute(a);
    for (const OpsetImport& op : function.opset_imports) ExportOpset(op, out->add_opset_import());
    if (function.body) {
      const Graph& body = *function.body;
      if (!body.initializers().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("function '", function.name,
                         "': body has initializers, which FunctionProto cannot hold"));
      }
      for (const Value* in : body.inputs()) out->add_input(in->name());
      for (const Value* o : body.outputs()) out->add_output(o->name());
      for (const auto& node : body.nodes()) {
        if (absl::Status s = ExportNode(*node, out->add_node()); !s.ok()) return s;
      }
    }
    // Fields newer than 1.12's FunctionProto go back as unknown fields, before the stored ones.
    UnknownFieldSet* unknown = out->mutable_unknown_fields();
    for (const Attribute& attr : function.attribute_defaults) {
      onnx::AttributeProto ap;
      if (absl::Status s = ExportAttribute(attr, &ap); !s.ok()) return s;
      unknown->AddLengthDelimited(kFunctionAttributeProtoField, ap.SerializeAsString());
    }
    if (!function.overload.empty()) {
      unknown->AddLengthDelimited(kFunctionOverloadField, function.overload);
    }
    if (!function.unknown_fields.empty()) {
      UnknownFieldSet rest;
      if (!rest.ParseFromString(function.unknown_fields)) {
        return absl::InternalError(
            absl::StrCat("function '", function.name, "': stored unknown fields do not parse"));
      }
      unknown->MergeFrom(rest);
    }
    return absl::OkStatus();
  }

  const int64_t external_threshold_;
  const std::string external_name_;
  const bool defer_initializers_;
  int64_t required_ir_version_ = 0;
  std::vector<DeferredInitializer> deferred_;
  std::vector<PendingBytes> external_;
  int64_t external_size_ = 0;
};

}  // namespace

absl::Status ExportModel(const Model& model, onnx::ModelProto* out) {
  ModelExporter exporter(-1, "", false);
  return exporter.Export(model, out);
}

namespace internal {

absl::Status ExportForSave(const Model& model, int64_t external_threshold,
                           const std::string& external_name, ExportedForSave* out) {
  ModelExporter exporter(external_threshold, external_name, true);
  if (absl::Status s = exporter.Export(model, &out->proto); !s.ok()) return s;
  out->initializers = std::move(exporter.deferred_initializers());
  out->external = exporter.external_tensors();
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace onnx_opt
