#include "passes/quantize/precision_plan.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"
#include "passes/quantize/calib_file.h"
#include "passes/quantize/weight_report.h"

namespace onnx_opt {
namespace {

// The block geometry of a level: int8-block-size for promoted int8, else block-size.
std::optional<BlockGeometry> LevelGeometry(const SelectedWeight& weight,
                                           const QuantizeWeightsOptions& options, int level_bits) {
  std::string unused;
  return ChooseGeometry(weight.tensor->dims(), *weight.uses.role, options.granularity(),
                        options.BlockSizeFor(level_bits), options.ragged(), &unused);
}

// A weight measured at every level; nullopt when a kernel rejects it.
absl::StatusOr<std::optional<MixedCandidate>> Measure(const SelectedWeight& weight,
                                                      const QuantizeWeightsOptions& options,
                                                      RoundingStrategy& rounding) {
  const Tensor& tensor = *weight.tensor;
  absl::StatusOr<std::vector<float>> original = tensor.ToFloats();
  if (!original.ok()) return std::optional<MixedCandidate>();
  MixedCandidate candidate;
  candidate.key = weight.key;
  candidate.elements = tensor.num_elements();
  const bool nbits = !weight.uses.nbits.empty();
  for (int bits : options.MixedLevels()) {
    PrecisionLevel level{bits, static_cast<int64_t>(tensor.bytes().size()), 0, std::nullopt,
                         std::nullopt};
    if (bits == 0 && rounding.data_aware()) level.proxy_error = 0;
    if (bits != 0) {
      QuantSpec spec = options.spec();
      spec.bits = bits;
      level.bytes = 0;
      std::optional<BlockGeometry> geometry = LevelGeometry(weight, options, bits);
      if (!geometry) return std::optional<MixedCandidate>();
      absl::StatusOr<std::optional<RoundedWeight>> q =
          RoundWeight(weight, *geometry, spec, rounding);
      if (!q.ok()) return q.status();
      if (!q->has_value()) return std::optional<MixedCandidate>();
      std::vector<float> dequantized;
      if ((*q)->nbits) {
        level.bytes += PayloadBytes(*(*q)->nbits);
        dequantized = DequantizedValues(*(*q)->nbits);
      }
      if ((*q)->generic) {
        const RoundingOutcome& outcome = (*q)->rounding;
        if (outcome.gptq && !nbits) {
          level.proxy_error = outcome.proxy_error;
          level.proxy_error_rtn = outcome.proxy_error_rtn;
        }
        level.bytes += PayloadBytes(*(*q)->generic);
        dequantized = DequantizedValues(*(*q)->generic);
      }
      level.relative_error = RelativeError(*original, dequantized);
    }
    candidate.levels.push_back(level);
  }
  return std::optional<MixedCandidate>(std::move(candidate));
}

// The size / error target from the options. target-size covers the whole model (a value <= 1 is
// a ratio of `model_bytes`): the bytes that are not candidates' are fixed, the rest is the
// candidates' budget; target-size-of=weights keeps the older meaning (the candidates' float bytes).
MixedTarget TargetOf(const QuantizeWeightsOptions& options,
                     const std::vector<MixedCandidate>& candidates, int64_t model_bytes) {
  MixedTarget target;
  if (options.max_error.value() > 0) target.max_error = options.max_error.value();
  if (const double size = options.target_size.value(); size > 0) {
    int64_t float_bytes = 0;
    for (const MixedCandidate& c : candidates) float_bytes += c.levels.back().bytes;
    if (options.target_size_of.value() == "weights") {
      target.max_bytes = size <= 1 ? static_cast<int64_t>(size * static_cast<double>(float_bytes))
                                   : static_cast<int64_t>(size);
      return target;
    }
    const int64_t total = size <= 1 ? static_cast<int64_t>(size * static_cast<double>(model_bytes))
                                    : static_cast<int64_t>(size);
    const int64_t fixed = std::max<int64_t>(model_bytes - float_bytes, 0);
    target.max_bytes = std::max<int64_t>(total - fixed, 0);
  }
  return target;
}

// Sets `measured` of every candidate from the sensitivity file at `path` (nothing when empty).
absl::Status AttachSensitivities(const std::string& path, std::vector<MixedCandidate>& candidates) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<SensitivityTable> table = LoadSensitivityTable(path);  // .calib or JSON
  if (!table.ok()) return table.status();
  for (MixedCandidate& c : candidates) {
    const MeasuredSensitivity* m = table->Find(c.key);
    if (m == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "sensitivity file ", path, " has no entry for weight '", c.key.weight, "' of ",
          c.key.graph, "; measure this model with onnx-opt-calibrate --what sensitivity"));
    }
    c.measured = *m;
  }
  return absl::OkStatus();
}

}  // namespace

void PrecisionPlan::Clear() {
  candidates_.clear();
  index_.clear();
}

absl::Status PrecisionPlan::Collect(const SelectedWeight& weight, RoundingStrategy& rounding) {
  absl::StatusOr<std::optional<MixedCandidate>> c = Measure(weight, options_, rounding);
  if (!c.ok()) return c.status();
  if (c->has_value()) candidates_.push_back(**std::move(c));
  return absl::OkStatus();
}

absl::Status PrecisionPlan::Choose(int64_t model_bytes) {
  if (absl::Status s = AttachSensitivities(options_.sensitivity.value(), candidates_); !s.ok()) {
    return s;
  }
  ChoosePrecisions(candidates_, TargetOf(options_, candidates_, model_bytes));
  for (size_t i = 0; i < candidates_.size(); ++i) index_[candidates_[i].key] = i;
  return absl::OkStatus();
}

PrecisionChoice PrecisionPlan::ChoiceFor(const SelectedWeight& weight) const {
  PrecisionChoice choice{options_.spec(), weight.geometry, nullptr};
  auto it = index_.find(weight.key);
  if (it == index_.end()) return choice;
  choice.plan = &candidates_[it->second];
  choice.spec.bits = choice.plan->levels[choice.plan->chosen].bits;
  if (choice.spec.bits != 0) {
    if (std::optional<BlockGeometry> g = LevelGeometry(weight, options_, choice.spec.bits)) {
      choice.geometry = *g;
    }
  }
  return choice;
}

int64_t ModelTensorBytes(Model& model) {
  int64_t bytes = 0;
  model.WalkGraphs([&](Graph& graph) {
    for (const Value* value : GraphConstants(graph)) {
      if (TensorPtr t = GetConstantTensor(value)) bytes += static_cast<int64_t>(t->bytes().size());
    }
  });
  return bytes;
}

}  // namespace onnx_opt
