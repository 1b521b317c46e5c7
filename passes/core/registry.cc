#include "passes/core/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "passes/core/named_pipeline.h"
#include "passes/core/pipeline.h"

namespace onnx_opt {

namespace {

bool IsKebabCase(std::string_view name) {
  if (name.empty() || name.front() == '-' || name.back() == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return name.find("--") == std::string_view::npos;
}

}  // namespace

absl::Status PassRegistry::Register(PassFactory factory) {
  std::unique_ptr<Pass> sample = factory();
  if (sample == nullptr) return absl::InvalidArgumentError("pass factory returned null");
  std::string name(sample->name());
  if (!IsKebabCase(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pass name '", name, "' is not kebab-case (a-z, 0-9, single '-')"));
  }
  if (Contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("pass '", name, "' is registered twice"));
  }
  entries_.push_back(Entry{name, std::string(sample->summary()), std::move(factory)});
  return absl::OkStatus();
}

absl::Status PassRegistry::RegisterPipeline(std::string name, std::string summary,
                                            std::string pipeline) {
  // The nested passes come from a snapshot of this registry: factories stay valid however the
  // registry is later copied or moved.
  auto snapshot = std::make_shared<const PassRegistry>(*this);
  absl::StatusOr<std::vector<std::unique_ptr<Pass>>> parsed = ParsePipeline(pipeline, *snapshot);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat("pipeline '", name, "': ", parsed.status().message()));
  }
  PassFactory factory = [name, summary, pipeline, snapshot]() -> std::unique_ptr<Pass> {
    absl::StatusOr<std::vector<std::unique_ptr<Pass>>> passes =
        ParsePipeline(pipeline, *snapshot);  // parsed once above: cannot fail now
    if (!passes.ok()) return nullptr;
    return std::make_unique<NamedPipelinePass>(name, summary, pipeline, *std::move(passes));
  };
  if (absl::Status s = Register(std::move(factory)); !s.ok()) return s;
  entries_.back().pipeline = std::move(pipeline);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Pass>> PassRegistry::Create(std::string_view name) const {
  for (const Entry& entry : entries_) {
    if (entry.name == name) return entry.factory();
  }
  return absl::NotFoundError(absl::StrCat("unknown pass '", ToAbsl(name),
                                          "'; valid passes: ", absl::StrJoin(Names(), ", ")));
}

bool PassRegistry::Contains(std::string_view name) const {
  for (const Entry& entry : entries_) {
    if (entry.name == name) return true;
  }
  return false;
}

std::vector<std::string> PassRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const Entry& entry : entries_) names.push_back(entry.name);
  return names;
}

PassRegistry MakeDefaultPassRegistry() {
  PassRegistry registry;
  RegisterAllPasses(registry);
  return registry;
}

}  // namespace onnx_opt
