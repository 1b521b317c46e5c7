// Pieces shared by the ONNX reader (onnx_import.cc, onnx_load.cc) and writer (onnx_export.cc,
// onnx_save.cc). Not part of the library's API.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "ir/ir.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt::internal {

// ---- fields the IR keeps opaque or by presence (onnx_proto_fields.cc)

// The serialized unknown fields of `message` ("" when none).
std::string UnknownBytes(const google::protobuf::Message& message);
// Merges serialized unknown fields back into `message`.
absl::Status SetUnknown(const std::string& bytes, google::protobuf::Message* message);
// Singular string fields present with the value "" (bytes fields such as raw_data excluded: a
// tensor's data form is kept by Tensor::typed_field_data).
EmptyStringFields EmptyStringsOf(const google::protobuf::Message& message);
// Writes back as "" the fields of `fields` that `message` does not set.
void RestoreEmptyStrings(const EmptyStringFields& fields, google::protobuf::Message* message);
// Serializes the fields of `message` numbered below `split` into `head`, and those above it with
// the unknown fields into `tail` (emptying `message`): head + <field split> + tail is what
// protobuf writes for the whole message.
void SerializeAround(google::protobuf::Message& message, int split, std::string* head,
                     std::string* tail);

// "dir" of "dir/name" ("." without a slash, "/" at the root).
std::string DirectoryOf(const std::string& path);

// ---- import (onnx_import.cc)

// raw_data the file parser sliced out of the mapped file, keyed by the TensorProto it belongs to.
using PrereadRawData = absl::flat_hash_map<const onnx::TensorProto*, std::shared_ptr<const Buffer>>;

// ImportModel, taking the raw_data of `preread` tensors instead of their (empty) proto field.
absl::StatusOr<std::unique_ptr<Model>> ImportModelProto(onnx::ModelProto& proto,
                                                        const std::string& base_dir,
                                                        const PrereadRawData* preread);

// ---- export (onnx_export.cc)

// A tensor whose bytes the exporter left out of the proto, to be written by SaveModel.
struct PendingBytes {
  std::shared_ptr<const Buffer> buffer;
  int64_t offset = 0;  // in the external data file
};

// A top-level initializer left out of the proto: the TensorProto without its raw_data, and the
// bytes to append as raw_data (null when stored externally, as strings or in a typed field).
struct DeferredInitializer {
  onnx::TensorProto header;
  std::shared_ptr<const Buffer> raw_data;
};

struct ExportedForSave {
  onnx::ModelProto proto;  // without the top-level initializers
  std::vector<DeferredInitializer> initializers;
  std::vector<PendingBytes> external;  // tensors for the external data file, by offset
};

// Exports `model` for streaming: tensors of at least `external_threshold` bytes (-1 = none) are
// recorded for the external data file `external_name`.
absl::Status ExportForSave(const Model& model, int64_t external_threshold,
                           const std::string& external_name, ExportedForSave* out);

}  // namespace onnx_opt::internal
