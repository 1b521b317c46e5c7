// Runs a sequence of passes over a Model with instrumentation: verification after each pass, IR
// printing before/after passes, wall-clock timing and pass statistics.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ir/ir.h"
#include "passes/core/pass.h"
#include "passes/core/registry.h"

namespace onnx_opt {

struct PassManagerOptions {
  // Verify the model after every pass; a failure names the pass that broke it.
  bool verify_each = true;
  bool print_ir_before_all = false;
  bool print_ir_after_all = false;
  // Pass names whose input / output IR is printed.
  std::vector<std::string> print_ir_before;
  std::vector<std::string> print_ir_after;
  bool time_passes = false;
  bool print_statistics = false;

  // Checks a model (the driver plugs in VerifyModel from ir/verifier.h). When unset, the pass
  // manager does not verify even if verify_each is true.
  std::function<absl::Status(const Model&)> verifier;
  // Renders a model for IR dumps (the driver plugs in the ONNX text printer).
  std::function<std::string(const Model&)> printer;
  // Where IR dumps, the timing table and statistics go (std::cerr when null).
  std::ostream* dump_stream = nullptr;
  // Instrumentation hooks called around every pass run (the driver's progress line and its
  // quantization warnings use them); `after_pass` runs also when the pass failed.
  std::function<void(const Pass&, const Model&)> before_pass;
  std::function<void(const Pass&, const Model&, const absl::Status&)> after_pass;
};

struct PassTiming {
  std::string pass;  // printed pipeline element, e.g. "dce"
  double seconds = 0;
};

class PassManager {
 public:
  explicit PassManager(PassManagerOptions options = {});

  void AddPass(std::unique_ptr<Pass> pass);
  // Parses `pipeline` (see passes/core/pipeline.h) and appends its passes.
  absl::Status AddPipeline(std::string_view pipeline, const PassRegistry& registry);
  const std::vector<std::unique_ptr<Pass>>& passes() const { return passes_; }
  std::string PipelineText() const;
  PassManagerOptions& options() { return options_; }

  // Runs the passes in order. The first failure stops the pipeline with "pass-name: message"
  // ("pipeline/pass-name: message" inside a named pipeline, whose nested passes are verified,
  // printed and timed one by one).
  // Timing and statistics reports are written at the end when enabled (also after a failure).
  absl::Status Run(Model& model);

  const std::vector<PassTiming>& timings() const { return timings_; }
  // The timing table (one row per pass run, plus the total) and the statistics report.
  void PrintTimingReport(std::ostream& os) const;
  void PrintStatisticsReport(std::ostream& os) const;

 private:
  // Runs one pass (or named pipeline) with instrumentation; `parent` is "" or "pipeline/".
  absl::Status RunPass(Pass& pass, Model& model, const std::string& parent);
  bool ShouldPrintBefore(const Pass& pass) const;
  bool ShouldPrintAfter(const Pass& pass) const;
  void DumpIr(const Model& model, std::string_view when, const Pass& pass);
  std::ostream& dump() const;

  PassManagerOptions options_;
  std::vector<std::unique_ptr<Pass>> passes_;
  std::vector<PassTiming> timings_;
  size_t passes_run_ = 0;
};

}  // namespace onnx_opt
