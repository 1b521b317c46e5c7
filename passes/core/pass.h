// The pass interface: a named transformation with typed options and statistics.
//
// A pass overrides RunOnGraph; the pass manager calls it for the main graph, every nested subgraph
// (If/Loop/Scan bodies) and every model-local function body, so passes never recurse by hand.
// Passes that need the whole model at once (opset changes) override RunOnModel instead.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "ir/ir.h"

namespace onnx_opt {

class Pass;

// An option declared as a member of a pass: `PassOption<int64_t> bits{this, "bits", "help", 8};`
class PassOptionBase {
 public:
  PassOptionBase(Pass* owner, std::string name, std::string help);
  virtual ~PassOptionBase() = default;
  PassOptionBase(const PassOptionBase&) = delete;
  PassOptionBase& operator=(const PassOptionBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  // "bool", "int", "float", "string", "list", or "a|b|c" for a choice.
  virtual std::string TypeName() const = 0;
  virtual std::string DefaultText() const = 0;
  // Parses and validates `text`; the error names the pass and the option and says what is
  // accepted. A list option splits `text` at commas.
  virtual absl::Status Parse(std::string_view text) = 0;
  // Parses a value already split into items by the pipeline parser (quotes removed). Scalar
  // options accept exactly one item.
  virtual absl::Status ParseItems(const std::vector<std::string>& items);
  // True for std::vector<std::string> options (they take several comma-separated items).
  virtual bool is_list() const { return false; }
  // Accepted values of a choice option (empty when any value of the type is accepted).
  virtual const std::vector<std::string>& choices() const = 0;
  // Canonical text of the current value (parses back to the same value).
  virtual std::string ValueText() const = 0;
  bool is_set() const { return is_set_; }
  Pass* owner() const { return owner_; }

 protected:
  // "pass-name: option 'x'" for the start of diagnostics.
  std::string Where() const;
  bool is_set_ = false;

 private:
  Pass* owner_;
  std::string name_;
  std::string help_;
};

// T is one of bool, int64_t, double, std::string, std::vector<std::string>. In pipeline text a
// list is written `ops=Conv,MatMul` (items after the first are the following comma-separated
// words that contain no '='); any value may be double-quoted to hold ',', '=', '{' or '}'.
template <typename T>
class PassOption final : public PassOptionBase {
 public:
  PassOption(Pass* owner, std::string name, std::string help, T default_value)
      : PassOptionBase(owner, std::move(name), std::move(help)),
        value_(default_value),
        default_(std::move(default_value)) {}
  // A string option restricted to `choices` (printed as "a|b|c" in help).
  PassOption(Pass* owner, std::string name, std::string help, T default_value,
             std::vector<std::string> choices)
      : PassOption(owner, std::move(name), std::move(help), std::move(default_value)) {
    choices_ = std::move(choices);
  }
  // Inclusive numeric range check for int64_t / double options.
  PassOption& Range(double min, double max) {
    has_range_ = true;
    min_ = min;
    max_ = max;
    return *this;
  }

  const T& value() const { return value_; }
  operator const T&() const { return value_; }  // NOLINT(google-explicit-constructor)
  void set_value(T v) {
    value_ = std::move(v);
    is_set_ = true;
  }

  std::string TypeName() const override;
  std::string DefaultText() const override;
  absl::Status Parse(std::string_view text) override;
  absl::Status ParseItems(const std::vector<std::string>& items) override;
  std::string ValueText() const override;
  bool is_list() const override { return std::is_same_v<T, std::vector<std::string>>; }
  const std::vector<std::string>& choices() const override { return choices_; }

 private:
  T value_;
  T default_;
  std::vector<std::string> choices_;
  bool has_range_ = false;
  double min_ = 0;
  double max_ = 0;
};

// A counter declared as a member of a pass: `PassStatistic removed{this, "nodes-removed", "..."};`
class PassStatistic {
 public:
  PassStatistic(Pass* owner, std::string name, std::string help);
  PassStatistic(const PassStatistic&) = delete;
  PassStatistic& operator=(const PassStatistic&) = delete;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  int64_t value() const { return value_; }
  void Reset() { value_ = 0; }
  PassStatistic& operator++() {
    ++value_;
    return *this;
  }
  PassStatistic& operator+=(int64_t n) {
    value_ += n;
    return *this;
  }

 private:
  std::string name_;
  std::string help_;
  int64_t value_ = 0;
};

// What one run of a pass achieves (onnx/optimizer's PassEfficiency). A fixpoint pipeline skips an
// idempotent pass when the model has not changed since that pass last ran.
enum class PassConvergence {
  kIdempotent,     // running the pass again on its own output changes nothing
  kNeedsFixpoint,  // a second run may find more to do (the default)
};

class Pass {
 public:
  Pass() = default;
  virtual ~Pass() = default;
  Pass(const Pass&) = delete;
  Pass& operator=(const Pass&) = delete;

  // Kebab-case name used in pipelines, e.g. "quantize-weights".
  virtual std::string_view name() const = 0;
  // One line for --list-passes.
  virtual std::string_view summary() const = 0;
  // Longer text for docs/passes.md (may be empty).
  virtual std::string_view description() const { return {}; }

  // Declared property checked by tests (running an idempotent pass twice changes nothing).
  virtual PassConvergence convergence() const { return PassConvergence::kNeedsFixpoint; }

  // Validates option combinations after parsing (e.g. format=qdq-axis needs bits=8).
  virtual absl::Status ValidateOptions() const { return absl::OkStatus(); }

  // Default: calls RunOnGraph on every graph of the model (main graph, subgraphs, function
  // bodies), outer graphs first.
  virtual absl::Status RunOnModel(Model& model);
  virtual absl::Status RunOnGraph(Graph& graph, Model& model) { return absl::OkStatus(); }

  const std::vector<PassOptionBase*>& options() const { return options_; }
  const std::vector<PassStatistic*>& statistics() const { return statistics_; }
  PassOptionBase* FindOption(std::string_view option_name) const;

 private:
  friend class PassOptionBase;
  friend class PassStatistic;
  std::vector<PassOptionBase*> options_;
  std::vector<PassStatistic*> statistics_;
};

}  // namespace onnx_opt
