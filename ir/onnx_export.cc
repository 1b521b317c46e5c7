// IR -> ONNX protobuf. SaveModel streams tensor bytes from their buffers into the output file (the
// top-level graph's initializers are framed by hand in protobuf wire format), so saving never
// holds a second copy of the weights.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <variant>

#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"
#include "ir/file_io.h"
#include "ir/onnx_io.h"
#include "ir/strings.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt {
namespace {

using google::protobuf::UnknownFieldSet;

constexpr int kFunctionAttributeProtoField = 11;
constexpr int kFunctionOverloadField = 13;
// External data offsets are aligned so that each tensor can be mapped on a page boundary.
constexpr int64_t kExternalAlignment = 4096;

absl::Status SetUnknown(const std::string& bytes, google::protobuf::Message* message) {
  if (bytes.empty()) return absl::OkStatus();
  if (!message->GetReflection()->MutableUnknownFields(message)->ParseFromString(bytes)) {
    return absl::InternalError(
        absl::StrCat("stored unknown fields of a ", message->GetTypeName(), " do not parse"));
  }
  return absl::OkStatus();
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

// A tensor whose bytes the exporter left out of the proto, to be written by SaveModel.
struct PendingBytes {
  std::shared_ptr<const Buffer> buffer;
  int64_t offset = 0;  // in the external data file
};

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
    for (const OpsetImport& op : model.opset_imports) {
      onnx::OperatorSetIdProto* p = out->add_opset_import();
      p->set_domain(op.domain);
      p->set_version(op.version);
    }
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
    int64_t ir_version = std::max(model.ir_version, required_ir_version_);
    if (ir_version != 0) out->set_ir_version(ir_version);
    return absl::OkStatus();
  }

  // Top-level initializers left out of the proto (defer_initializers): the TensorProto without
  // its raw_data, and the bytes to append as raw_data (null when stored externally or string).
  struct DeferredInitializer {
    onnx::TensorProto header;
    std::shared_ptr<const Buffer> raw_data;
  };
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
    return SetUnknown(graph.unknown_fields, out);
  }

  absl::Status ExportFunction(const Function& function, onnx::FunctionProto* out) {
    out->set_name(function.name);
    if (!function.domain.empty()) out->set_domain(function.domain);
    if (!function.doc_string.empty()) out->set_doc_string(function.doc_string);
    for (const std::string& a : function.attribute_names) out->add_attribute(a);
    for (const OpsetImport& op : function.opset_imports) {
      onnx::OperatorSetIdProto* p = out->add_opset_import();
      p->set_domain(op.domain);
      p->set_version(op.version);
    }
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

// ------------------------------------------------------------------ file output

size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

// Wire-format tags (field number << 3 | length-delimited) of the fields framed by hand.
constexpr uint8_t kModelGraphTag = (7 << 3) | 2;
constexpr uint8_t kGraphInitializerTag = (5 << 3) | 2;
constexpr uint8_t kTensorRawDataTag = (9 << 3) | 2;

std::string FileNameOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string SiblingPath(const std::string& path, const std::string& name) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? name : absl::StrCat(path.substr(0, slash + 1), name);
}

// True when this process has the file (device and inode of `st`) memory-mapped, e.g. a loaded
// model saved over its own file.
bool IsMappedByThisProcess(const struct stat& st) {
  std::FILE* maps = std::fopen("/proc/self/maps", "re");
  if (maps == nullptr) return true;  // cannot tell: assume it is
  bool mapped = false;
  char line[4096];
  while (!mapped && std::fgets(line, sizeof(line), maps) != nullptr) {
    // start-end perms offset major:minor inode [path]
    unsigned dev_major = 0, dev_minor = 0;
    unsigned long long inode = 0;
    if (std::sscanf(line, "%*s %*s %*s %x:%x %llu", &dev_major, &dev_minor, &inode) == 3 &&
        inode != 0) {
      mapped = inode == st.st_ino && dev_major == major(st.st_dev) && dev_minor == minor(st.st_dev);
    }
  }
  std::fclose(maps);
  return mapped;
}

// True when none of the file's cached pages is dirty or under writeback, per cachestat(2)
// (Linux 6.5; not in this distribution's headers). False when that cannot be told.
bool HasOnlyCleanPages(int fd) {
#if defined(__linux__) && defined(SYS_cachestat)
  constexpr long kCachestat = SYS_cachestat;
#elif defined(__linux__)
  constexpr long kCachestat = 451;  // the same number on every architecture
#endif
#ifdef __linux__
  struct {
    uint64_t offset = 0, length = 0;  // length 0: to the end of the file
  } range;
  struct {
    uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } stat{};
  if (::syscall(kCachestat, fd, &range, &stat, 0) != 0) return false;
  return stat.dirty == 0 && stat.writeback == 0;
#else
  return false;
#endif
}

// Drops the page cache of an existing file about to be replaced by a save (only a hint: its
// content is untouched, and it stays complete on disk until the rename). The new file's pages
// are then allocated from memory the kernel has just freed, which in a virtual machine is much
// cheaper to fill than memory that has been idle (writing a 168 MB model took 0.16-0.29 s
// instead of 0.43-0.72 s, docs/performance.md). Skipped when this process maps the file
// (saving over a loaded model), whose weights would otherwise be read from disk again, and when
// the file has dirty pages: dropping starts their writeback, which the rename then waits for,
// whereas replacing a file never written back just discards them.
void DropCacheOfReplacedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (int64_t{16} << 20) &&
      !IsMappedByThisProcess(st) && HasOnlyCleanPages(fd)) {
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  }
  ::close(fd);
}

}  // namespace

absl::Status ExportModel(const Model& model, onnx::ModelProto* out) {
  ModelExporter exporter(-1, "", false);
  return exporter.Export(model, out);
}

absl::Status SaveModel(const Model& model, const std::string& path, const SaveOptions& options) {
  // Where the output leads decides the sidecar: next to the file the model lands in (a symlink's
  // target) and named after it; none when the model is streamed. The temporary file is removed
  // again if anything below fails.
  OutputFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  std::string external_name = options.external_data_name.empty()
                                  ? absl::StrCat(FileNameOf(file.final_path()), ".data")
                                  : options.external_data_name;
  if (options.external_data_threshold >= 0 &&
      (external_name.find('/') != std::string::npos || external_name == "..")) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": external data name '", external_name,
                                                   "' must be a file name, not a path"));
  }
  ModelExporter exporter(options.external_data_threshold, external_name, true);
  onnx::ModelProto proto;
  if (absl::Status s = exporter.Export(model, &proto); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }

  // Sizes of the hand-framed parts: ModelProto = <other fields> graph{<other fields>
  // initializer{<tensor fields> raw_data}...}.
  struct Framed {
    std::string header;
    std::shared_ptr<const Buffer> raw_data;
    uint64_t size;  // of the TensorProto
  };
  std::vector<Framed> initializers;
  uint64_t graph_size = 0;
  std::string graph_rest;
  const bool has_graph = proto.has_graph();
  if (has_graph) {
    graph_rest = proto.graph().SerializeAsString();
    proto.clear_graph();
    graph_size = graph_rest.size();
    for (auto& d : exporter.deferred_initializers()) {
      Framed f{d.header.SerializeAsString(), std::move(d.raw_data), 0};
      f.size = f.header.size();
      if (f.raw_data) f.size += 1 + VarintSize(f.raw_data->size()) + f.raw_data->size();
      graph_size += 1 + VarintSize(f.size) + f.size;
      initializers.push_back(std::move(f));
    }
    exporter.deferred_initializers().clear();
  }
  std::string model_rest = proto.SerializeAsString();
  uint64_t total = model_rest.size() + (has_graph ? 1 + VarintSize(graph_size) + graph_size : 0);
  if (total > static_cast<uint64_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the model needs ", total,
        " bytes, over protobuf's 2 GiB limit; save with external data (external_data_threshold)"));
  }

  const bool has_external = !exporter.external_tensors().empty();
  if (has_external && !file.replaces_atomically()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": external data needs a regular output file, not a stream or device"));
  }
  OutputFile sidecar;
  if (file.replaces_atomically()) DropCacheOfReplacedFile(file.final_path());
  if (has_external) {
    std::string sidecar_path = SiblingPath(file.final_path(), external_name);
    if (absl::Status s = sidecar.Open(sidecar_path); !s.ok()) return s;
    if (sidecar.replaces_atomically()) DropCacheOfReplacedFile(sidecar.final_path());
    int64_t written = 0;
    for (const PendingBytes& pending : exporter.external_tensors()) {
      sidecar.AppendZeros(pending.offset - written);
      sidecar.Append(pending.buffer->bytes());
      pending.buffer->ReleasePages();
      written = pending.offset + static_cast<int64_t>(pending.buffer->size());
    }
    if (absl::Status s = sidecar.Finish(); !s.ok()) return s;
  }

  file.Append(model_rest);
  if (has_graph) {
    file.Append({&kModelGraphTag, 1});
    file.AppendVarint(graph_size);
    file.Append(graph_rest);
    for (const Framed& f : initializers) {
      file.Append({&kGraphInitializerTag, 1});
      file.AppendVarint(f.size);
      file.Append(f.header);
      if (f.raw_data) {
        file.Append({&kTensorRawDataTag, 1});
        file.AppendVarint(f.raw_data->size());
        file.Append(f.raw_data->bytes());
        f.raw_data->ReleasePages();
      }
    }
  }
  if (absl::Status s = file.Finish(); !s.ok()) return s;
  if (has_external) {
    if (absl::Status s = sidecar.Commit(); !s.ok()) return s;
  }
  return file.Commit();
}

}  // namespace onnx_opt
