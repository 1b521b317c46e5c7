// onnx-opt's public C++ API: the one header an embedding project includes.
//
//   #include <onnx_opt/onnx_opt.h>
//   absl::StatusOr<std::string> out = onnx_opt::OptimizeModelBytes(bytes, "quantize-weights");
//   absl::Status s = onnx_opt::OptimizeModelFile("in.onnx", "dce,dedup-initializers", "out.onnx");
//
// Link it with CMake: find_package(onnx_opt) (or add_subdirectory of this tree), then
// target_link_libraries(app PRIVATE onnx_opt::onnx_opt). docs/embedding.md has the whole story.
// Nothing here throws: every call returns absl::Status / absl::StatusOr, whose message is one line
// naming the file, pass, node or tensor at fault.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "driver/onnx_opt.h"  // file and IR level: LoadModelFile, SaveModelFile, BuildPassManager
#include "driver/run_report.h"
#include "ir/ir.h"
#include "ir/text/text.h"  // PrintModel, ParseModel (ONNX text syntax)
#include "ir/verifier.h"
#include "passes/core/pass.h"
#include "passes/core/pass_manager.h"
#include "passes/core/registry.h"

namespace onnx_opt {

// "0.1.0": the project version this library was built from.
std::string_view Version();

struct OptimizeOptions {
  // Verify the model after every pass (the failure names the pass that broke it).
  bool verify_each = true;
  // Give every pass with a `report` option (quantize-weights) that the pipeline left unset a
  // temporary report file and return its JSON in OptimizeResult::reports.
  bool collect_reports = false;
};

struct StatisticValue {
  int pass_index = 0;  // position of the pass in the pipeline (a pass may appear twice)
  std::string pass;  // the pass as printed in the pipeline, e.g. "quantize-weights{bits=8}"
  std::string name;  // e.g. "weights-quantized"
  int64_t value = 0;
};

struct PassReport {
  std::string pass;
  std::string json;  // {"weights": [...], "totals": {...}} (docs/quantization.md)
};

struct OptimizeResult {
  std::string model;                       // binary ONNX (ModelProto bytes)
  std::vector<StatisticValue> statistics;  // every counter of every pass run, zeros included
  std::vector<std::string> warnings;       // one line each, e.g. a pass that quantized nothing
  std::vector<PassReport> reports;         // reports written by the pipeline's passes
  ModelSummary before;                     // op counts and weights of the input ...
  ModelSummary after;                      // ... and of the result
};

// Bytes in, bytes out: parses `model` (binary ONNX or ONNX text), runs `pipeline` (pass
// pipeline text, e.g. "dce,quantize-weights{bits=4}") and serializes the result as binary ONNX.
// Models with external data must go through files (OptimizeModelFile); the protobuf limit of
// 2 GB applies to the bytes.
absl::StatusOr<OptimizeResult> Optimize(std::string_view model, std::string_view pipeline,
                                        const OptimizeOptions& options = {});
// Optimize() keeping only the model bytes.
absl::StatusOr<std::string> OptimizeModelBytes(std::string_view model, std::string_view pipeline);

// The IR as binary ONNX bytes (copies tensor data).
absl::StatusOr<std::string> SerializeModel(const Model& model);

// File in, file out is OptimizeModelFile(input, pipeline, output) from driver/onnx_opt.h.

}  // namespace onnx_opt
