// The pass registry: maps kebab-case pass names to factories, in registration order.
//
// Registration is explicit (RegisterAllPasses in passes/core/register_all.cc); there are no static
// initialisers, so a library user decides which passes exist.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "passes/core/pass.h"

namespace onnx_opt {

using PassFactory = std::function<std::unique_ptr<Pass>()>;

class PassRegistry {
 public:
  struct Entry {
    std::string name;
    std::string summary;
    PassFactory factory;
    std::string pipeline;  // the nested pipeline of a named pipeline, else empty
  };

  // Registers a pass; its name and summary are read from one instance made by the factory.
  // Fails when the name is taken or is not kebab-case.
  absl::Status Register(PassFactory factory);
  // Registers `name` as a named pipeline (passes/core/named_pipeline.h) running `pipeline` to a
  // fixpoint. The pipeline is parsed now, against the passes registered so far (so it cannot
  // name itself): an unknown pass or bad option fails here, not when the name is used.
  absl::Status RegisterPipeline(std::string name, std::string summary, std::string pipeline);
  // A fresh instance with default options; the error for an unknown name lists the valid ones.
  absl::StatusOr<std::unique_ptr<Pass>> Create(std::string_view name) const;
  bool Contains(std::string_view name) const;
  // Names in registration order.
  std::vector<std::string> Names() const;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

// Registers every built-in pass (defined in passes/core/register_all.cc).
void RegisterAllPasses(PassRegistry& registry);

// A registry holding every built-in pass.
PassRegistry MakeDefaultPassRegistry();

}  // namespace onnx_opt
