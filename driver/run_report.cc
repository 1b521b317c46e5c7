#include "driver/run_report.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "passes/core/utils.h"

namespace onnx_opt {

namespace {

std::string OpKey(const Node& node) {
  return node.domain.empty() ? node.op_type : node.domain + "." + node.op_type;
}

int64_t Statistic(const Pass& pass, std::string_view name) {
  for (const PassStatistic* stat : pass.statistics()) {
    if (stat->name() == name) return stat->value();
  }
  return 0;
}

// The option's value when the pipeline set it, else "".
std::string SetOption(const Pass& pass, std::string_view name) {
  const PassOptionBase* option = pass.FindOption(name);
  return option != nullptr && option->is_set() ? option->ValueText() : "";
}

std::string OptionValue(const Pass& pass, std::string_view name) {
  const PassOptionBase* option = pass.FindOption(name);
  return option != nullptr ? option->ValueText() : "";
}

// A weight is a constant that a MatMul, Gemm, Conv or ConvTranspose reads directly (not a
// scale of DequantizeLinear, MatMulNBits or the arith form, nor a shape).
bool IsWeight(const Value& value) {
  for (const Use& use : value.uses()) {
    const Node& node = *use.node;
    if (node.Is("MatMul") || node.Is("Gemm") || node.Is("Conv") || node.Is("ConvTranspose")) {
      return true;
    }
  }
  return false;
}

}  // namespace

ModelSummary SummarizeModel(const Model& model) {
  ModelSummary summary;
  // WalkGraphs does not change the model; it only lacks a const overload.
  const_cast<Model&>(model).WalkGraphs([&](Graph& graph) {
    std::vector<const Value*> constants(graph.initializers().begin(), graph.initializers().end());
    for (const auto& node : graph.nodes()) {
      ++summary.nodes;
      ++summary.op_counts[OpKey(*node)];
      if (IsConstantNode(*node) && node->output(0) != nullptr) constants.push_back(node->output(0));
      const bool constant_fed = node->input(0) != nullptr && GetConstantTensor(node->input(0));
      if ((node->Is("DequantizeLinear", "") || node->Is("MatMulNBits", "com.microsoft")) &&
          (node->op_type == "DequantizeLinear" ? constant_fed
                                                : GetConstantTensor(node->input(1)) != nullptr)) {
        ++summary.quantized_weights;
      }
    }
    for (const Value* value : constants) {
      TensorPtr tensor = GetConstantTensor(value);
      if (tensor == nullptr || tensor->rank() < 2) continue;
      const DataType type = tensor->type();  // the types quantize-weights takes
      if (type != DataType::kFloat && type != DataType::kFloat16 && type != DataType::kBFloat16) {
        continue;
      }
      if (!IsWeight(*value)) continue;
      ++summary.float_weights;
      summary.float_weight_bytes += static_cast<int64_t>(tensor->bytes().size());
    }
  });
  return summary;
}

// quantize-activations counts nodes, not weights: one that made no node integer says why.
std::optional<std::string> ActivationQuantizationWarning(const Pass& pass) {
  if (Statistic(pass, "nodes-quantized") > 0) return std::nullopt;
  std::vector<std::string> reasons;
  for (const char* name : {"nodes-kept-float", "nodes-in-subgraphs-skipped"}) {
    if (const int64_t n = Statistic(pass, name); n > 0) reasons.push_back(absl::StrCat(name, ": ", n));
  }
  std::string hint;
  if (OptionValue(pass, "mode") == "dynamic") {
    hint = "mode=dynamic quantizes Conv and MatMul nodes only";
  } else if (Statistic(pass, "nodes-kept-float") > 0) {
    hint = "the per-layer decisions kept every selected node float (report= says why)";
  } else {
    hint = absl::StrCat("op-types=", OptionValue(pass, "op-types"), " matches no node");
  }
  std::string line = absl::StrCat(std::string(pass.name()), ": made no node integer");
  if (!reasons.empty()) absl::StrAppend(&line, " (", absl::StrJoin(reasons, ", "), ")");
  absl::StrAppend(&line, ": ", hint);
  return line;
}

std::optional<std::string> QuantizationWarning(const Pass& pass, const ModelSummary& before) {
  for (const PassStatistic* stat : pass.statistics()) {
    if (stat->name() == "nodes-quantized") return ActivationQuantizationWarning(pass);
  }
  bool counts_weights = false;
  for (const PassStatistic* stat : pass.statistics()) {
    counts_weights = counts_weights || stat->name() == "weights-quantized";
  }
  if (!counts_weights) return std::nullopt;
  const int64_t quantized = Statistic(pass, "weights-quantized");
  // The reason counts: why weights stayed float, the most frequent for the hint. Small weights
  // stay float by design, so they explain the result only when no other reason occurs.
  std::vector<std::string> reasons;
  std::string top;
  int64_t top_count = 0;
  for (const PassStatistic* stat : pass.statistics()) {
    if (stat->value() > 0 &&
        (stat->name().starts_with("skipped-") || stat->name() == "mixed-kept-float")) {
      reasons.push_back(absl::StrCat(stat->name(), ": ", stat->value()));
      const bool small = stat->name() == "skipped-small";
      if ((top.empty() || top == "skipped-small") ? !small || stat->value() > top_count
                                                  : !small && stat->value() > top_count) {
        top = stat->name();
        top_count = stat->value();
      }
    }
  }
  std::string hint;
  if (top == "skipped-already-quantized") {
    hint = "the model is already quantized";
  } else if (top == "skipped-format") {
    hint = absl::StrCat("format=", OptionValue(pass, "format"),
                        " cannot express these uses (format=qdq covers MatMul, Gemm and Conv)");
  } else if (top == "skipped-small") {
    hint = quantized == 0 ? absl::StrCat("every weight is below min-elements=",
                                         OptionValue(pass, "min-elements"))
                          : absl::StrCat("weights below min-elements=",
                                         OptionValue(pass, "min-elements"), " stay float");
  } else if (top == "skipped-not-float") {
    hint = "the weights are not float32, float16 or bfloat16";
  } else if (top == "skipped-ragged") {
    hint = "the ragged policy rejects their reduction axes";
  } else if (top == "skipped-excluded") {
    hint = "exclude= matches their users";
  } else if (top == "mixed-kept-float") {
    hint = "target-size/max-error kept them float";
  } else if (!SetOption(pass, "ops").empty()) {
    hint = absl::StrCat("ops=", SetOption(pass, "ops"), " matches none of their users");
  }
  auto line = [&](std::string head) {
    if (!reasons.empty()) absl::StrAppend(&head, " (", absl::StrJoin(reasons, ", "), ")");
    if (!hint.empty()) absl::StrAppend(&head, ": ", hint);
    return head;
  };

  if (quantized == 0) {
    if (before.float_weights == 0) {
      if (hint.empty()) hint = "the model holds no float weights";
      return line(absl::StrCat(std::string(pass.name()), ": quantized no weights"));
    }
    return line(absl::StrCat(std::string(pass.name()), ": quantized none of the model's ",
                             before.float_weights, " float weights"));
  }
  const std::string calibration = SetOption(pass, "calibration");
  if (!calibration.empty() && Statistic(pass, "gptq-weights") == 0) {
    hint = "is the calibration file made for this model?";
    reasons.insert(reasons.begin(),
                   absl::StrCat("gptq-fallback-rtn: ", Statistic(pass, "gptq-fallback-rtn")));
    return line(absl::StrCat(std::string(pass.name()), ": calibration=", calibration, " served none of the ",
                             quantized, " weights quantized; all were plainly rounded"));
  }
  const bool chosen = !SetOption(pass, "exclude").empty() || !SetOption(pass, "weights").empty() ||
                      Statistic(pass, "mixed-kept-float") > 0 ||
                      Statistic(pass, "mixed-promoted-int8") > 0;
  const int64_t bytes = Statistic(pass, "bytes-before");
  if (!chosen && before.float_weight_bytes > 0 && 2 * bytes < before.float_weight_bytes) {
    return line(absl::StrFormat("%s: quantized %d of %d float weights, %.0f%% of their bytes",
                                std::string(pass.name()), quantized, before.float_weights,
                                100.0 * static_cast<double>(bytes) /
                                    static_cast<double>(before.float_weight_bytes)));
  }
  return std::nullopt;
}

void CollectQuantizationWarnings(PassManagerOptions& options, std::vector<std::string>* warnings) {
  auto before = std::make_shared<ModelSummary>();
  auto counts_weights = [](const Pass& pass) {
    return std::any_of(pass.statistics().begin(), pass.statistics().end(),
                       [](const PassStatistic* s) { return s->name() == "weights-quantized"; });
  };
  options.before_pass = [previous = std::move(options.before_pass), before, counts_weights](
                            const Pass& pass, const Model& model) {
    if (previous) previous(pass, model);
    if (counts_weights(pass)) *before = SummarizeModel(model);
  };
  options.after_pass = [previous = std::move(options.after_pass), before, warnings](
                           const Pass& pass, const Model& model, const absl::Status& status) {
    if (previous) previous(pass, model, status);
    if (!status.ok()) return;
    if (std::optional<std::string> w = QuantizationWarning(pass, *before)) {
      warnings->push_back(*std::move(w));
    }
  };
}

std::string HumanBytes(int64_t bytes) {
  if (bytes < 1000) return absl::StrCat(bytes, " B");
  if (bytes < 1000 * 1000) return absl::StrFormat("%.1f kB", static_cast<double>(bytes) / 1e3);
  if (bytes < int64_t{1000} * 1000 * 1000) {
    return absl::StrFormat("%.2f MB", static_cast<double>(bytes) / 1e6);
  }
  return absl::StrFormat("%.2f GB", static_cast<double>(bytes) / 1e9);
}

std::string SummaryTable(const ModelSummary& before, const ModelSummary& after,
                         int64_t file_bytes_before, int64_t file_bytes_after) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"", "Before", "After"});
  if (file_bytes_before >= 0 && file_bytes_after >= 0) {
    rows.push_back({"File size", HumanBytes(file_bytes_before),
                    absl::StrFormat("%s (%.3fx)", HumanBytes(file_bytes_after),
                                    file_bytes_before > 0
                                        ? static_cast<double>(file_bytes_after) /
                                              static_cast<double>(file_bytes_before)
                                        : 0.0)});
  }
  rows.push_back({"Float weights", absl::StrCat(before.float_weights),
                  absl::StrCat(after.float_weights)});
  rows.push_back({"Quantized weights", absl::StrCat(before.quantized_weights),
                  absl::StrCat(after.quantized_weights)});
  rows.push_back({"Nodes", absl::StrCat(before.nodes), absl::StrCat(after.nodes)});
  std::map<std::string, std::pair<int64_t, int64_t>> ops;
  for (const auto& [op, n] : before.op_counts) ops[op].first = n;
  for (const auto& [op, n] : after.op_counts) ops[op].second = n;
  int64_t unchanged = 0;
  for (const auto& [op, counts] : ops) {
    if (counts.first == counts.second) {
      ++unchanged;
      continue;
    }
    rows.push_back({"  " + op, absl::StrCat(counts.first), absl::StrCat(counts.second)});
  }
  size_t widths[3] = {0, 0, 0};
  for (const auto& row : rows) {
    for (size_t i = 0; i < 3; ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string rule = absl::StrCat("+", std::string(widths[0] + 2, '-'), "+",
                                  std::string(widths[1] + 2, '-'), "+",
                                  std::string(widths[2] + 2, '-'), "+\n");
  std::string out = rule;
  for (size_t r = 0; r < rows.size(); ++r) {
    absl::StrAppend(&out, absl::StrFormat("| %-*s | %*s | %*s |\n", static_cast<int>(widths[0]),
                                          rows[r][0], static_cast<int>(widths[1]), rows[r][1],
                                          static_cast<int>(widths[2]), rows[r][2]));
    if (r == 0) absl::StrAppend(&out, rule);
  }
  absl::StrAppend(&out, rule);
  if (unchanged > 0) absl::StrAppend(&out, unchanged, " other op type(s) unchanged\n");
  return out;
}

}  // namespace onnx_opt
