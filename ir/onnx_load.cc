// LoadModel: reads a binary model from a memory-mapped file. The ModelProto wire format is
// parsed here rather than by protobuf so that raw_data of the top-level initializers becomes
// slices of the mapping (nothing large is copied); the rest is imported by onnx_import.cc.
#include <climits>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ir/file_io.h"
#include "ir/onnx_internal.h"
#include "ir/onnx_io.h"
#include "ir/verifier.h"
#include "ir/wire_format.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt {
namespace {

using internal::PrereadRawData;

absl::Status WithFile(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}


// Reads a memory-mapped file front to back. Large byte ranges (raw_data) are not copied: they
// become slices of the mapping (see ModelStreamParser).
class MappedReader {
 public:
  explicit MappedReader(std::shared_ptr<MappedFile> file)
      : file_(std::move(file)), data_(file_->data()), size_(file_->size()) {}

  uint64_t position() const { return position_; }
  bool AtEnd() const { return position_ == size_; }

  bool ReadVarint(uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (position_ == size_) return false;
      const uint8_t byte = data_[position_++];
      *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

  bool Read(char* dest, uint64_t size) {
    if (size > size_ - position_) return false;
    if (size > 0) std::memcpy(dest, data_ + position_, size);
    position_ += size;
    return true;
  }

  // The next `size` bytes as a buffer that keeps the mapping alive.
  std::shared_ptr<const Buffer> Slice(uint64_t size) {
    if (size > size_ - position_) return nullptr;
    std::shared_ptr<const Buffer> slice = MappedFile::Slice(file_, position_, size);
    position_ += size;
    return slice;
  }

 private:
  std::shared_ptr<MappedFile> file_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t position_ = 0;
};

// Parses ModelProto wire format from a mapped file. Fields are copied verbatim into a small buffer
// and parsed by protobuf, except along the path ModelProto.graph -> GraphProto.initializer ->
// TensorProto.raw_data, whose bytes become slices of the mapping that the IR adopts: nothing is
// copied, and a weight's pages are read from the page cache only when something touches them.
// (protobuf's own parser would copy every raw_data into a new string.)
class ModelStreamParser {
 public:
  explicit ModelStreamParser(MappedReader& in) : in_(in) {}

  // raw_data of the top-level initializers, left out of their TensorProtos.
  PrereadRawData& raw_data() { return raw_data_; }

  bool Parse(onnx::ModelProto* model) {
    std::string rest;
    while (!in_.AtEnd()) {
      uint64_t tag;
      if (!in_.ReadVarint(&tag)) return false;
      if (tag == kModelGraphTag) {
        uint64_t length;
        if (!in_.ReadVarint(&length) || !ParseGraph(length, model->mutable_graph())) return false;
      } else if (!CopyField(tag, &rest)) {
        return false;
      }
    }
    return model->MergeFromString(rest);
  }

 private:
  static constexpr uint64_t kModelGraphTag = (7 << 3) | 2;
  static constexpr uint64_t kGraphInitializerTag = (5 << 3) | 2;
  static constexpr uint64_t kTensorRawDataTag = (9 << 3) | 2;

  bool ParseGraph(uint64_t length, onnx::GraphProto* graph) {
    const uint64_t end = in_.position() + length;
    std::string rest;
    while (in_.position() < end) {
      uint64_t tag;
      if (!in_.ReadVarint(&tag)) return false;
      if (tag == kGraphInitializerTag) {
        uint64_t size;
        if (!in_.ReadVarint(&size) || !ParseTensor(size, graph->add_initializer())) return false;
      } else if (!CopyField(tag, &rest)) {
        return false;
      }
    }
    return in_.position() == end && graph->MergeFromString(rest);
  }

  bool ParseTensor(uint64_t length, onnx::TensorProto* tensor) {
    const uint64_t end = in_.position() + length;
    std::string rest;
    std::shared_ptr<const Buffer> raw;
    while (in_.position() < end) {
      uint64_t tag;
      if (!in_.ReadVarint(&tag)) return false;
      if (tag == kTensorRawDataTag) {
        uint64_t size;
        if (!in_.ReadVarint(&size) || size > end - in_.position()) return false;
        raw = in_.Slice(size);
        if (raw == nullptr) return false;
      } else if (!CopyField(tag, &rest)) {
        return false;
      }
    }
    if (in_.position() != end || !tensor->ParseFromString(rest)) return false;
    if (raw) raw_data_[tensor] = std::move(raw);
    return true;
  }

  // Appends one field (tag already read) verbatim to `out`.
  bool CopyField(uint64_t tag, std::string* out) {
    AppendVarint(tag, out);
    switch (tag & 7) {
      case 0: {  // varint
        uint64_t value;
        if (!in_.ReadVarint(&value)) return false;
        AppendVarint(value, out);
        return true;
      }
      case 1:  // fixed64
        return AppendRaw(8, out);
      case 5:  // fixed32
        return AppendRaw(4, out);
      case 2: {  // length-delimited
        uint64_t size;
        if (!in_.ReadVarint(&size) || size > INT_MAX) return false;
        AppendVarint(size, out);
        return AppendRaw(size, out);
      }
      default:  // groups are not used by onnx.proto
        return false;
    }
  }

  bool AppendRaw(uint64_t size, std::string* out) {
    size_t old = out->size();
    out->resize(old + size);
    return in_.Read(out->data() + old, size);
  }

  static void AppendVarint(uint64_t value, std::string* out) {
    uint8_t bytes[kMaxVarintBytes];
    out->append(reinterpret_cast<const char*>(bytes), EncodeVarint(value, bytes));
  }

  MappedReader& in_;
  PrereadRawData raw_data_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& path,
                                                 const LoadOptions& options) {
  // The file is mapped read-only and private; tensors keep the mapping alive. SaveModel writes a
  // new file and renames it, so even saving over `path` leaves the mapped inode intact.
  if (absl::Status s = CheckInputFile(path); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  if ((*file)->size() > INT_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", (*file)->size(),
                     " bytes is over protobuf's 2 GiB limit; store the weights as external data"));
  }
  MappedReader reader(*std::move(file));
  onnx::ModelProto proto;
  ModelStreamParser parser(reader);
  if (!parser.Parse(&proto)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a valid ONNX protobuf file (parsing failed: truncated or not a model)"));
  }
  if (!proto.has_graph()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an ONNX model (no graph)"));
  }
  absl::StatusOr<std::unique_ptr<Model>> model =
      internal::ImportModelProto(proto, internal::DirectoryOf(FollowedPath(path)), &parser.raw_data());
  if (!model.ok()) return WithFile(path, model.status());
  if (options.verify) {
    if (absl::Status s = VerifyModel(**model); !s.ok()) return WithFile(path, s);
  }
  return model;
}

}  // namespace onnx_opt
