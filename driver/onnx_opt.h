// onnx-opt as a library: load a model, run a textual pass pipeline over it, save it.
//
//   onnx_opt::PassRegistry registry = onnx_opt::MakeDefaultPassRegistry();
//   auto model = onnx_opt::LoadModelFile("in.onnx");
//   auto pm = onnx_opt::BuildPassManager("dce,dedup-initializers", registry);
//   absl::Status s = (*pm)->Run(**model);
//   s = onnx_opt::SaveModelFile(**model, "out.onnx");
//
// Every call returns absl::Status; messages are one line naming the file, pass, node or tensor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/core/pass_manager.h"
#include "passes/core/registry.h"

namespace onnx_opt {

enum class ModelFormat { kAuto, kOnnx, kText };

// ".onnxtxt"/".onnxtext"/".txt" -> text, ".onnx" -> binary, otherwise kAuto.
ModelFormat FormatFromPath(std::string_view path);
// Text when the bytes look like the ONNX text syntax (printable, opening with '<', '#', a name
// or whitespace); binary protobuf otherwise.
ModelFormat SniffFormat(std::string_view bytes);

struct LoadModelFileOptions {
  ModelFormat format = ModelFormat::kAuto;  // kAuto: by extension, then by content
  bool verify = true;
};

// Loads a binary or text model; "-" reads standard input. Errors name the file.
absl::StatusOr<std::unique_ptr<Model>> LoadModelFile(const std::string& path,
                                                     const LoadModelFileOptions& options = {});
// Parses a model held in memory (text or binary, sniffed); `name` is used in diagnostics.
absl::StatusOr<std::unique_ptr<Model>> LoadModelFromBytes(std::string_view bytes,
                                                          const std::string& name,
                                                          bool verify = true);

struct SaveModelFileOptions {
  ModelFormat format = ModelFormat::kAuto;  // kAuto: by extension (binary unless text-like)
  // Tensors of at least this many bytes go to "<output>.data" (binary output only; -1 = never).
  int64_t external_data_threshold = -1;
  // Text output: tensors with more elements print elided (-1 = never).
  int64_t elide_tensors_larger_than = -1;
};

// Writes the model under the rules of ir/file_io.h: a regular file appears only when writing
// succeeded (temporary file + rename); "-", devices and FIFOs are written in place.
absl::Status SaveModelFile(const Model& model, const std::string& path,
                           const SaveModelFileOptions& options = {});

// A pass manager for `pipeline` whose verifier is VerifyModel and whose IR printer is the ONNX
// text printer (eliding tensors larger than `elide_tensors_larger_than` elements; -1 = never).
absl::StatusOr<std::unique_ptr<PassManager>> BuildPassManager(
    std::string_view pipeline, const PassRegistry& registry, PassManagerOptions options = {},
    int64_t elide_tensors_larger_than = -1);

// Load, run `pipeline`, save: the whole of `onnx-opt in -p pipeline -o out` in one call.
absl::Status OptimizeModelFile(const std::string& input, std::string_view pipeline,
                               const std::string& output);

}  // namespace onnx_opt
