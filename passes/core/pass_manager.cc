#include "passes/core/pass_manager.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ir/strings.h"
#include "passes/core/named_pipeline.h"
#include "passes/core/pipeline.h"

namespace onnx_opt {

PassManager::PassManager(PassManagerOptions options) : options_(std::move(options)) {}

void PassManager::AddPass(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }

absl::Status PassManager::AddPipeline(std::string_view pipeline, const PassRegistry& registry) {
  absl::StatusOr<std::vector<std::unique_ptr<Pass>>> parsed = ParsePipeline(pipeline, registry);
  if (!parsed.ok()) return parsed.status();
  for (auto& pass : *parsed) passes_.push_back(std::move(pass));
  return absl::OkStatus();
}

std::string PassManager::PipelineText() const { return PrintPipeline(passes_); }

std::ostream& PassManager::dump() const {
  return options_.dump_stream != nullptr ? *options_.dump_stream : std::cerr;
}

namespace {
bool Listed(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}
}  // namespace

bool PassManager::ShouldPrintBefore(const Pass& pass) const {
  return options_.print_ir_before_all || Listed(options_.print_ir_before, pass.name());
}

bool PassManager::ShouldPrintAfter(const Pass& pass) const {
  return options_.print_ir_after_all || Listed(options_.print_ir_after, pass.name());
}

void PassManager::DumpIr(const Model& model, std::string_view when, const Pass& pass) {
  std::ostream& os = dump();
  os << "// -----// IR Dump " << when << " " << PrintPass(pass) << " //----- //\n";
  if (options_.printer) {
    os << options_.printer(model);
  } else {
    os << "// (no IR printer configured)\n";
  }
  os << "\n";
  os.flush();
}

absl::Status PassManager::RunPass(Pass& pass, Model& model, const std::string& parent) {
  using Clock = std::chrono::steady_clock;
  const std::string label = parent + PrintPass(pass);                   // timing rows
  const std::string where = absl::StrCat(parent, ToAbsl(pass.name()));  // error messages
  if (auto* pipeline = dynamic_cast<NamedPipelinePass*>(&pass)) {
    // Nested passes get the same instrumentation, labelled "pipeline/pass".
    Clock::time_point start = Clock::now();
    absl::Status status = pipeline->RunToFixpoint(
        model, [&](Pass& nested) { return RunPass(nested, model, where + "/"); });
    timings_.push_back(
        PassTiming{label, std::chrono::duration<double>(Clock::now() - start).count()});
    if (!status.ok() && !absl::StartsWith(status.message(), where + "/")) {
      return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
    }
    return status;
  }
  if (ShouldPrintBefore(pass)) DumpIr(model, "Before", pass);
  if (options_.before_pass) options_.before_pass(pass, model);
  Clock::time_point start = Clock::now();
  absl::Status status = pass.RunOnModel(model);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (options_.after_pass) options_.after_pass(pass, model, status);
  timings_.push_back(PassTiming{label, seconds});
  if (!status.ok()) return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
  if (ShouldPrintAfter(pass)) DumpIr(model, "After", pass);
  if (options_.verify_each && options_.verifier) {
    Clock::time_point verify_start = Clock::now();
    absl::Status verified = options_.verifier(model);
    timings_.push_back(PassTiming{
        "(verifier)", std::chrono::duration<double>(Clock::now() - verify_start).count()});
    if (!verified.ok()) {
      return absl::Status(verified.code(),
                          absl::StrCat(where, ": produced an invalid model: ", verified.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status PassManager::Run(Model& model) {
  timings_.clear();
  passes_run_ = 0;
  absl::Status result = absl::OkStatus();
  for (const auto& pass : passes_) {
    ++passes_run_;
    result = RunPass(*pass, model, "");
    if (!result.ok()) break;
  }
  if (options_.time_passes) PrintTimingReport(dump());
  if (options_.print_statistics) PrintStatisticsReport(dump());
  return result;
}

void PassManager::PrintTimingReport(std::ostream& os) const {
  double total = 0;
  for (const PassTiming& t : timings_) total += t.seconds;
  os << "===-------------------------------------------------------------------------===\n";
  os << "                         ... Pass execution timing report ...\n";
  os << "===-------------------------------------------------------------------------===\n";
  os << absl::StrFormat("  Total Execution Time: %.6f seconds\n\n", total);
  os << "  ----Wall Time----  ----Name----\n";
  for (const PassTiming& t : timings_) {
    double share = total > 0 ? 100.0 * t.seconds / total : 0;
    os << absl::StrFormat("  %9.6f (%5.1f%%)  %s\n", t.seconds, share, t.pass);
  }
  os << absl::StrFormat("  %9.6f (100.0%%)  Total\n", total);
  os.flush();
}

namespace {
// Zero counters say nothing happened: they are left out, and a pass whose counters are all zero
// gets one line saying so.
void PrintStatistics(const Pass& pass, std::string_view indent, std::ostream& os) {
  bool any = false;
  for (const PassStatistic* stat : pass.statistics()) {
    if (stat->value() == 0) continue;
    any = true;
    os << absl::StrFormat("%s  (S) %8d %s - %s\n", indent, stat->value(), stat->name(),
                          stat->help());
  }
  if (!any && !pass.statistics().empty()) os << indent << "  (no statistic changed)\n";
}
}  // namespace

void PassManager::PrintStatisticsReport(std::ostream& os) const {
  os << "===-------------------------------------------------------------------------===\n";
  os << "                         ... Pass statistics report ...\n";
  os << "===-------------------------------------------------------------------------===\n";
  for (size_t i = 0; i < passes_.size() && i < passes_run_; ++i) {
    const Pass& pass = *passes_[i];
    os << PrintPass(pass) << "\n";
    PrintStatistics(pass, "", os);
    if (const auto* pipeline = dynamic_cast<const NamedPipelinePass*>(&pass)) {
      for (const auto& nested : pipeline->nested_passes()) {
        os << PrintPass(pass) << "/" << PrintPass(*nested) << "\n";
        PrintStatistics(*nested, "", os);
      }
    }
  }
  os.flush();
}

}  // namespace onnx_opt
