// Named pipelines: a registered name (`simplify`) that stands for a nested pipeline run to a
// fixpoint.
//
// `-p 'simplify,quantize-weights{bits=4}'` parses `simplify` like any pass; the Pass it creates
// holds the nested passes and runs rounds of them until one round leaves the model unchanged
// (ModelFingerprint before and after each pass), or fails after `max-iterations` rounds. Within a
// round an idempotent pass (Pass::convergence) is skipped when the model is exactly what it
// produced last time. The PassManager runs the nested passes itself, so --verify-each,
// --print-ir-*, --time-passes and --stats see each one ("simplify/fuse-affine"); RunOnModel runs
// them without instrumentation for library users. The pipeline prints back as its name.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "passes/core/pass.h"

namespace onnx_opt {

class NamedPipelinePass : public Pass {
 public:
  NamedPipelinePass(std::string name, std::string summary, std::string pipeline_text,
                    std::vector<std::unique_ptr<Pass>> passes);

  std::string_view name() const override { return name_; }
  std::string_view summary() const override { return summary_; }
  std::string_view description() const override { return description_; }
  // One run ends at a fixpoint of its passes.
  PassConvergence convergence() const override { return PassConvergence::kIdempotent; }

  const std::string& pipeline_text() const { return pipeline_text_; }
  const std::vector<std::unique_ptr<Pass>>& nested_passes() const { return passes_; }

  // Runs rounds of the nested passes; `run_pass` runs one of them (the PassManager passes its
  // instrumented runner). Fails naming the pipeline when no fixpoint is reached.
  absl::Status RunToFixpoint(Model& model, const std::function<absl::Status(Pass&)>& run_pass);
  absl::Status RunOnModel(Model& model) override;

 private:
  std::string name_;
  std::string summary_;
  std::string pipeline_text_;
  std::string description_;
  std::vector<std::unique_ptr<Pass>> passes_;

  PassOption<int64_t> max_iterations_{
      this, "max-iterations", "Rounds of the nested pipeline before giving up without a fixpoint",
      10};
  PassStatistic rounds_{this, "rounds", "Rounds run (the last one changed nothing)"};
  PassStatistic skipped_{this, "idempotent-skips",
                         "Idempotent passes skipped because the model was their own output"};
};

}  // namespace onnx_opt
