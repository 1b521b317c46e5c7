// The public API of include/onnx_opt/onnx_opt.h: bytes in, bytes out.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "ir/onnx_io.h"
#include "onnx/onnx_pb.h"
#include "onnx_opt/onnx_opt.h"
#include "passes/core/named_pipeline.h"
#include "passes/core/pipeline.h"

#ifndef ONNX_OPT_VERSION
#define ONNX_OPT_VERSION "unknown"
#endif

namespace onnx_opt {

std::string_view Version() { return ONNX_OPT_VERSION; }

absl::StatusOr<std::string> SerializeModel(const Model& model) {
  onnx::ModelProto proto;
  if (absl::Status s = ExportModel(model, &proto); !s.ok()) return s;
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) {
    return absl::ResourceExhaustedError(
        "model does not fit one protobuf (2 GB): save it to a file with external data");
  }
  return bytes;
}

namespace {

// Temporary report files for OptimizeOptions::collect_reports, removed when done.
class ReportFiles {
 public:
  ~ReportFiles() {
    std::error_code ignored;
    for (const auto& [pass, path] : files_) std::filesystem::remove(path, ignored);
  }
  absl::Status Route(PassManager& pm) {
    static std::atomic<int> counter{0};
    for (const auto& pass : pm.passes()) {
      PassOptionBase* option = pass->FindOption("report");
      if (option == nullptr || option->is_set()) continue;
      texts_.emplace_back(pass.get(), PrintPass(*pass));
      std::string path = (std::filesystem::temp_directory_path() /
                          absl::StrCat("onnx-opt-report-", getpid(), "-", counter++, ".json"))
                             .string();
      if (absl::Status s = option->Parse(path); !s.ok()) return s;
      files_.emplace_back(pass.get(), path);
    }
    return absl::OkStatus();
  }
  // Reports of the passes that wrote theirs (a pass that failed may not have).
  std::vector<PassReport> Read() const {
    std::vector<PassReport> reports;
    for (const auto& [pass, path] : files_) {
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;
      reports.push_back({PrintPass(*pass), std::string(std::istreambuf_iterator<char>(in), {})});
    }
    return reports;
  }
  // The pass as the caller wrote it (before its report= pointed at a temporary file).
  std::string PassText(const Pass& pass) const {
    for (const auto& [routed, text] : texts_) {
      if (routed == &pass) return text;
    }
    return PrintPass(pass);
  }

 private:
  std::vector<std::pair<const Pass*, std::string>> files_;
  std::vector<std::pair<const Pass*, std::string>> texts_;
};

}  // namespace

absl::StatusOr<OptimizeResult> Optimize(std::string_view model_bytes, std::string_view pipeline,
                                        const OptimizeOptions& options) {
  OptimizeResult result;
  PassRegistry registry = MakeDefaultPassRegistry();
  PassManagerOptions pm_options;
  pm_options.verify_each = options.verify_each;
  CollectQuantizationWarnings(pm_options, &result.warnings);
  absl::StatusOr<std::unique_ptr<PassManager>> pm =
      BuildPassManager(pipeline, registry, std::move(pm_options));
  if (!pm.ok()) return pm.status();
  ReportFiles reports;
  if (options.collect_reports) {
    if (absl::Status s = reports.Route(**pm); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<Model>> model = LoadModelFromBytes(model_bytes, "<model>");
  if (!model.ok()) return model.status();
  result.before = SummarizeModel(**model);
  if (absl::Status s = (*pm)->Run(**model); !s.ok()) return s;
  result.after = SummarizeModel(**model);
  // A named pipeline's passes count as "simplify/fuse-affine", as in --stats.
  int index = 0;
  for (const auto& pass : (*pm)->passes()) {
    for (const PassStatistic* stat : pass->statistics()) {
      result.statistics.push_back({index, reports.PassText(*pass), stat->name(), stat->value()});
    }
    ++index;
    if (const auto* pipeline = dynamic_cast<const NamedPipelinePass*>(pass.get())) {
      for (const auto& nested : pipeline->nested_passes()) {
        const std::string text = absl::StrCat(PrintPass(*pass), "/", reports.PassText(*nested));
        for (const PassStatistic* stat : nested->statistics()) {
          result.statistics.push_back({index, text, stat->name(), stat->value()});
        }
        ++index;
      }
    }
  }
  result.reports = reports.Read();
  absl::StatusOr<std::string> bytes = SerializeModel(**model);
  if (!bytes.ok()) return bytes.status();
  result.model = *std::move(bytes);
  return result;
}

absl::StatusOr<std::string> OptimizeModelBytes(std::string_view model, std::string_view pipeline) {
  absl::StatusOr<OptimizeResult> result = Optimize(model, pipeline);
  if (!result.ok()) return result.status();
  return std::move(result->model);
}

}  // namespace onnx_opt
