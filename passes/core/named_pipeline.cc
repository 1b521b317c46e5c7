#include "passes/core/named_pipeline.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/core/fingerprint.h"

namespace onnx_opt {

NamedPipelinePass::NamedPipelinePass(std::string name, std::string summary,
                                     std::string pipeline_text,
                                     std::vector<std::unique_ptr<Pass>> passes)
    : name_(std::move(name)),
      summary_(std::move(summary)),
      pipeline_text_(std::move(pipeline_text)),
      passes_(std::move(passes)) {
  max_iterations_.Range(1, 1000);
  description_ = absl::StrCat("A named pipeline: runs `", pipeline_text_,
                              "` in rounds until a round changes nothing. An idempotent pass is "
                              "skipped when the model is unchanged since it last ran.");
}

absl::Status NamedPipelinePass::RunToFixpoint(Model& model,
                                              const std::function<absl::Status(Pass&)>& run_pass) {
  // Fingerprint of the model each pass last produced.
  std::vector<std::optional<uint64_t>> produced(passes_.size());
  uint64_t current = ModelFingerprint(model);
  for (int64_t round = 0; round < max_iterations_.value(); ++round) {
    ++rounds_;
    bool changed = false;
    for (size_t i = 0; i < passes_.size(); ++i) {
      Pass& pass = *passes_[i];
      if (pass.convergence() == PassConvergence::kIdempotent && produced[i] == current) {
        ++skipped_;
        continue;
      }
      if (absl::Status s = run_pass(pass); !s.ok()) return s;
      uint64_t after = ModelFingerprint(model);
      changed = changed || after != current;
      current = after;
      produced[i] = after;
    }
    if (!changed) return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(absl::StrCat("no fixpoint after ", max_iterations_.value(),
                                                   " rounds of '", pipeline_text_, "'"));
}

absl::Status NamedPipelinePass::RunOnModel(Model& model) {
  return RunToFixpoint(model, [&model](Pass& pass) {
    absl::Status s = pass.RunOnModel(model);
    if (s.ok()) return s;
    return absl::Status(s.code(), absl::StrCat(ToAbsl(pass.name()), ": ", s.message()));
  });
}

}  // namespace onnx_opt
