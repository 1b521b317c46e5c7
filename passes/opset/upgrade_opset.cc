// upgrade-opset: converts the model's default-domain opset to a newer one (up to 21), rewriting
// every node whose operator schema changed in between so the model computes the same outputs.
//
// Each node walks the since-versions of its operator between the source opset and the target; each
// step has a rule in passes/opset_adapters (compatible, or an adapter). The whole model (subgraphs
// and model-local functions included) is checked first; if any node lacks a rule or an adapter
// refuses it, the pass fails naming the node and versions and the model is unchanged.
// Other domains are left alone. Upgrading to the model's own opset changes nothing.
//
// Before (opset 12):
//   main (float[2,3] x) => (float[3] y) {
//     y = ReduceSum <axes = [0], keepdims = 0> (x)
//   }
// After (opset 21):
//   main (float[2,3] x) => (float[3] y)
//   <int64[1] ReduceSum_axes = {0}>
//   {
//     y = ReduceSum <keepdims = 0> (x, ReduceSum_axes)
//   }
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/opset/adapters/adapter.h"
#include "passes/core/pass.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

using opset::RewriteContext;
using opset::StepRule;

struct Step {
  const StepRule* rule;
};

// A graph to convert with the default-domain opset its nodes were written for.
struct GraphJob {
  Graph* graph;
  int64_t source_opset;
  bool in_function;
};

class UpgradeOpsetPass : public Pass {
 public:
  UpgradeOpsetPass() { target_.Range(1, opset::kMaxKnownOpset); }
  std::string_view name() const override { return "upgrade-opset"; }
  std::string_view summary() const override {
    return "Convert the default-domain opset to a newer version (up to 21), rewriting changed ops";
  }
  std::string_view description() const override {
    return "Every default-domain node is carried through each schema change between the model's "
           "opset and the target by a compatible rule or an adapter (docs/opset-upgrade.md lists "
           "them). The whole model is checked before anything is rewritten. Attributes that "
           "became inputs are added as int64 (or data-typed) initializers, shared when equal; "
           "inside functions as Constant nodes. Other domains are untouched.";
  }

  absl::Status RunOnModel(Model& model) override {
    std::optional<int64_t> source = model.OpsetVersion("");
    if (!source) return absl::InvalidArgumentError("model imports no ONNX opset");
    const int64_t target = target_.value();
    if (target < *source) {
      return absl::InvalidArgumentError(absl::StrCat("target ", target,
                                                     " is below the model's opset ", *source,
                                                     " (downgrading is not supported)"));
    }
    std::vector<GraphJob> jobs;
    if (model.graph) {
      model.graph->Walk([&](Graph& g) { jobs.push_back({&g, *source, false}); });
    }
    for (Function& function : model.functions) {
      int64_t function_source = *source;
      for (const OpsetImport& imp : function.opset_imports) {
        if (imp.domain.empty() || imp.domain == "ai.onnx") function_source = imp.version;
      }
      if (function_source > target) {
        return absl::InvalidArgumentError(absl::StrCat("function '", function.name,
                                                       "' imports opset ", function_source,
                                                       ", above the target ", target));
      }
      if (function.body) {
        function.body->Walk([&](Graph& g) { jobs.push_back({&g, function_source, true}); });
      }
    }

    bool anything_to_do = false;
    for (const GraphJob& job : jobs) anything_to_do |= job.source_opset < target;
    if (!anything_to_do && *source == target) return absl::OkStatus();

    // Check everything before rewriting anything.
    for (const GraphJob& job : jobs) {
      if (job.source_opset == target) continue;
      for (const auto& node : job.graph->nodes()) {
        if (!node->domain.empty()) continue;
        absl::StatusOr<std::vector<Step>> plan = Plan(node->op_type, job.source_opset, target);
        if (!plan.ok()) {
          return absl::InvalidArgumentError(absl::StrCat("", node->DebugName(), " in ",
                                                         GraphDebugName(*job.graph), ": ",
                                                         plan.status().message()));
        }
        for (const Step& step : *plan) {
          if (step.rule->check == nullptr) continue;
          if (absl::Status s = step.rule->check(*node, target); !s.ok()) {
            return absl::InvalidArgumentError(absl::StrCat(
                s.message(), " (", ToAbsl(step.rule->op_type), " ", step.rule->version - 1, " -> ",
                step.rule->version, ", in ", GraphDebugName(*job.graph), ")"));
          }
        }
      }
    }

    for (const GraphJob& job : jobs) {
      if (job.source_opset == target) continue;
      RewriteContext ctx(*job.graph, target, job.in_function);
      std::vector<Node*> nodes;
      for (const auto& node : job.graph->nodes()) {
        if (node->domain.empty()) nodes.push_back(node.get());
      }
      for (Node* node : nodes) {
        if (absl::Status s = Upgrade(node, job.source_opset, target, ctx); !s.ok()) return s;
      }
      constants_created_ += ctx.constants_created();
      constants_reused_ += ctx.constants_reused();
    }

    model.SetOpsetVersion("", target);
    for (Function& function : model.functions) {
      for (OpsetImport& imp : function.opset_imports) {
        if (imp.domain.empty() || imp.domain == "ai.onnx") imp.version = target;
      }
    }
    // Newer opsets need newer IR versions (opset 21 came with IR 10).
    model.ir_version = std::max(model.ir_version, MinIrVersion(target));
    return absl::OkStatus();
  }

 private:
  // The steps an operator takes from `source` to `target` (following renames such as
  // Upsample -> Resize), or an error saying which step has no rule.
  absl::StatusOr<std::vector<Step>> Plan(std::string op, int64_t source, int64_t target) const {
    std::vector<Step> steps;
    int64_t at = source;
    bool first = true;
    while (true) {
      std::span<const int> versions = opset::SchemaVersions(op);
      if (versions.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown default-domain operator '", op, "'"));
      }
      if (first && versions.front() > source) {
        return absl::InvalidArgumentError(absl::StrCat(
            "'", op, "' does not exist at opset ", source, " (added in ", versions.front(), ")"));
      }
      first = false;
      std::string renamed;
      for (int version : versions) {
        if (version <= at || version > target) continue;
        const StepRule* rule = rules_.Find(op, version);
        if (rule == nullptr) {
          int previous = versions.front();
          for (int v : versions) {
            if (v < version) previous = v;
          }
          return absl::UnimplementedError(
              absl::StrCat("no adapter for '", op, "' from version ", previous, " to ", version,
                           " (needed to go from opset ", source, " to ", target, ")"));
        }
        steps.push_back(Step{rule});
        renamed = RenameTarget(*rule);
        if (!renamed.empty()) {
          at = version;
          break;
        }
      }
      if (renamed.empty()) return steps;
      op = renamed;
    }
  }

  // The operator an adapter renames its node to (the renaming rules are known statically).
  static std::string RenameTarget(const StepRule& rule) {
    if (rule.op_type == "Upsample" && rule.version == 10) return "Resize";
    if (rule.op_type == "Scatter" && rule.version == 11) return "ScatterElements";
    return "";
  }

  absl::Status Upgrade(Node* node, int64_t source, int64_t target, RewriteContext& ctx) {
    absl::StatusOr<std::vector<Step>> plan = Plan(node->op_type, source, target);
    if (!plan.ok()) return plan.status();  // checked already; kept for safety
    bool changed = false;
    for (const Step& step : *plan) {
      if (step.rule->apply == nullptr) continue;
      absl::StatusOr<Node*> next = step.rule->apply(*node, ctx);
      if (!next.ok()) return next.status();
      changed = true;
      node = *next;
      if (node == nullptr) break;
    }
    if (changed) ++nodes_rewritten_;
    return absl::OkStatus();
  }

  static int64_t MinIrVersion(int64_t opset) {
    if (opset >= 21) return 10;
    if (opset >= 19) return 9;
    if (opset >= 15) return 8;
    if (opset >= 12) return 7;
    if (opset >= 11) return 6;
    if (opset >= 10) return 5;
    if (opset >= 9) return 4;
    return 3;
  }

  opset::RuleTable rules_;
  PassOption<int64_t> target_{this, "target", "Default-domain opset to convert to", 21};
  PassStatistic nodes_rewritten_{this, "nodes-rewritten", "Nodes changed by an adapter"};
  PassStatistic constants_created_{this, "constants-created",
                                   "Constants added for attributes that became inputs"};
  PassStatistic constants_reused_{this, "constants-reused",
                                  "Attribute inputs that reused an identical constant"};
};

}  // namespace

std::unique_ptr<Pass> CreateUpgradeOpsetPass() { return std::make_unique<UpgradeOpsetPass>(); }

}  // namespace onnx_opt
