// Loading and saving ONNX models (protobuf, optionally with external data) to and from the IR.
//
// Load + save with no pass in between reproduces the ModelProto field by field, presence
// included (an explicitly empty string field such as a node's `domain: ""` stays present: see
// EmptyStringFields), and a file that protobuf serialized canonically comes back byte for byte
// (SaveModel frames the streamed parts in field-number order). Shown on ONNX's 1072 backend test
// models (ir/roundtrip_conformance_test.cc) and the real models of eval/models.json
// (scripts/roundtrip-real-models.sh). Documented differences:
//  - tensor data keeps its form: raw_data stays raw_data, typed fields (float_data, int64_data,
//    ...) stay typed; tensors that passes create are written as raw_data;
//  - external data is read on load; where it goes on save is decided by SaveOptions;
//  - a node domain spelled "ai.onnx" is written back as "" (the same domain by the spec);
//  - ir_version is raised when the model needs it (10 for int4/uint4, see SaveModel);
//  - a value listed more than once (graph input and output, or a subgraph output naming an outer
//    value) has one type and doc string, those of its defining entry;
//  - TensorProto.segment is dropped.
// Unknown fields (from an onnx.proto newer than 1.12) of every message are kept and written back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"

namespace onnx {
class ModelProto;
}

namespace onnx_opt {

struct LoadOptions {
  // Run VerifyModel after import; its message is prefixed with the file name.
  bool verify = true;
};

// Reads a binary ONNX model (a non-empty regular file, see CheckInputFile; external data is
// resolved next to the file a symlink leads to). The file is memory-mapped (read-only, private) and each
// initializer's raw_data is a slice of the mapping, as are tensors in external data files: no
// tensor bytes are copied, and pages are read when first used (they count in RSS once touched).
// raw_data slices keep the protobuf file's byte offsets, so they may be unaligned for their
// element type: read them with memcpy (Tensor::CopyValues) or check alignment before values<T>().
// The file must not be truncated or rewritten in place while the model lives (SaveModel never
// does: it renames a new file over the old one). Errors are one line naming the file (and tensor).
absl::StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& path,
                                                 const LoadOptions& options = {});

// Imports an in-memory proto; tensor raw_data is moved out of it, not copied. External data is
// resolved relative to base_dir ("" = external data is an error). Does not verify.
absl::StatusOr<std::unique_ptr<Model>> ImportModel(onnx::ModelProto&& proto,
                                                   const std::string& base_dir);

// Builds a ModelProto from the IR, copying tensor data (for tests and small models).
absl::Status ExportModel(const Model& model, onnx::ModelProto* out);

struct SaveOptions {
  // Tensors with at least this many bytes go to an external data file next to the output
  // (-1 = never).
  int64_t external_data_threshold = -1;
  // File name of the sidecar; default "<output file name>.data".
  std::string external_data_name;
};

// Writes a binary ONNX model. Data is streamed from the tensor buffers (no copy of the model in
// memory). `path` follows the rules of ir/file_io.h: a regular output and its sidecar are written
// to temporary files and renamed into place (a failure leaves no partial output, and saving over
// the input is safe); a symlink's target is replaced, with the sidecar next to the target;
// "-", /dev/stdout, devices and FIFOs are written in place (no external data then). Raises ir_version to 9 for float8,
// 10 for int4/uint4 and 11 for float4 element types when it is lower.
absl::Status SaveModel(const Model& model, const std::string& path,
                       const SaveOptions& options = {});

}  // namespace onnx_opt
