#include "passes/quantize/quantize_weights_mixed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "passes/core/utils.h"
#include "passes/quantize/calib_file.h"
#include "passes/quantize/quant_formats.h"
#include "passes/quantize/quant_report.h"

namespace onnx_opt {

std::string LevelName(int bits) { return bits == 0 ? "float" : absl::StrCat("int", bits); }

void SetMixedFields(const MixedCandidate& plan, WeightReportRow& row) {
  row.chosen = LevelName(plan.levels[plan.chosen].bits);
  for (const PrecisionLevel& level : plan.levels) {
    row.level_names.push_back(LevelName(level.bits));
    row.level_errors.push_back(level.relative_error);
    row.level_bytes.push_back(level.bytes);
  }
  row.reason = plan.reason;
}

double Sensitivity(const MixedCandidate& c, int level) {
  const double e = c.levels[level].relative_error;
  // Calibration data: the layer's relative output error on it, when every level knows it.
  const bool proxies = std::all_of(c.levels.begin(), c.levels.end(), [](const PrecisionLevel& l) {
    return l.proxy_error.has_value();
  });
  if (c.measured) {
    if (proxies && c.levels[0].proxy_error_rtn.value_or(0) > 0) {
      // The probe rounded plainly at the lowest level; GPTQ changes the layer's output error by
      // the ratio of the proxies, and the model's output noise grows with its energy.
      const double ratio = *c.levels[level].proxy_error / *c.levels[0].proxy_error_rtn;
      return c.measured->output_noise * ratio * ratio;
    }
    // Output noise power grows with the weight error's energy: scale the probe's measurement.
    const double probe = c.measured->weight_error;
    if (probe <= 0) return e > 0 ? c.measured->output_noise : 0;
    return c.measured->output_noise * (e / probe) * (e / probe);
  }
  const double p = proxies ? *c.levels[level].proxy_error : e;
  return p * p * static_cast<double>(c.elements);
}

namespace {

bool MeetsError(const MixedCandidate& c, const MixedTarget& target) {
  return target.max_error && c.levels[c.chosen].relative_error <= *target.max_error;
}

}  // namespace

void ChoosePrecisions(std::vector<MixedCandidate>& candidates, const MixedTarget& target) {
  int64_t total = 0;
  for (MixedCandidate& c : candidates) {
    c.chosen = 0;
    c.reason.clear();
    total += c.levels[0].bytes;
  }
  const bool over_at_start = target.max_bytes && total > *target.max_bytes;
  int order = 0;
  while (true) {
    MixedCandidate* best = nullptr;
    double best_gain_per_byte = -1;
    int64_t best_extra = 0;
    for (MixedCandidate& c : candidates) {
      if (c.chosen + 1 >= static_cast<int>(c.levels.size()) || MeetsError(c, target)) continue;
      const int64_t extra = c.levels[c.chosen + 1].bytes - c.levels[c.chosen].bytes;
      if (target.max_bytes && total + extra > *target.max_bytes) continue;
      const double gain = Sensitivity(c, c.chosen) - Sensitivity(c, c.chosen + 1);
      const double gain_per_byte = gain / static_cast<double>(std::max<int64_t>(extra, 1));
      if (gain_per_byte > best_gain_per_byte) {
        best = &c;
        best_gain_per_byte = gain_per_byte;
        best_extra = extra;
      }
    }
    if (best == nullptr) break;
    const PrecisionLevel& from = best->levels[best->chosen];
    const PrecisionLevel& to = best->levels[best->chosen + 1];
    best->reason = absl::StrFormat(
        "promoted %s->%s (#%d): error %.4g->%.4g, %s %.3g per extra byte", LevelName(from.bits),
        LevelName(to.bits), ++order, from.relative_error, to.relative_error,
        best->measured ? "output noise gain" : "sensitivity gain", best_gain_per_byte);
    ++best->chosen;
    total += best_extra;
  }
  for (MixedCandidate& c : candidates) {
    const PrecisionLevel& at = c.levels[c.chosen];
    std::string why;
    if (MeetsError(c, target)) {
      why = absl::StrFormat("error %.4g <= max-error %.4g", at.relative_error, *target.max_error);
    } else if (c.chosen + 1 >= static_cast<int>(c.levels.size())) {
      why = "float (exact)";
    } else if (over_at_start) {
      why = "all weights at the lowest level already exceed target-size";
    } else {
      why = absl::StrFormat("%s (+%d bytes) does not fit target-size",
                            LevelName(c.levels[c.chosen + 1].bits),
                            c.levels[c.chosen + 1].bytes - at.bytes);
    }
    c.reason = c.reason.empty() ? why : absl::StrCat(c.reason, "; ", why);
    if (c.measured) {
      absl::StrAppendFormat(
          &c.reason, "; estimated output noise %.3g (measured %.3g at error %.4g)",
          Sensitivity(c, c.chosen), c.measured->output_noise, c.measured->weight_error);
    }
  }
}

std::optional<BlockGeometry> MixedGeometry(const Tensor& tensor, const WeightRole& role,
                                           const QuantizeWeightsOptions& options, int level_bits) {
  std::string unused;
  return ChooseGeometry(tensor.dims(), role, options.granularity(),
                        options.BlockSizeFor(level_bits), options.ragged(), &unused);
}

absl::StatusOr<std::optional<MixedCandidate>> MeasurePrecisions(
    const std::string& key, const Tensor& tensor, const WeightRole& role,
    const QuantizeWeightsOptions& options, bool nbits, bool generic, CalibrationData* calibration,
    const std::vector<WeightUse>& uses) {
  absl::StatusOr<std::vector<float>> original = tensor.ToFloats();
  if (!original.ok()) return std::optional<MixedCandidate>();
  MixedCandidate candidate;
  candidate.key = key;
  candidate.elements = tensor.num_elements();
  for (int bits : options.MixedLevels()) {
    PrecisionLevel level{bits, static_cast<int64_t>(tensor.bytes().size()), 0, std::nullopt,
                         std::nullopt};
    if (bits == 0 && calibration != nullptr) level.proxy_error = 0;
    if (bits != 0) {
      QuantSpec spec = options.spec();
      spec.bits = bits;
      level.bytes = 0;
      std::optional<BlockGeometry> geometry = MixedGeometry(tensor, role, options, bits);
      if (!geometry) return std::optional<MixedCandidate>();
      std::vector<float> dequantized;
      if (nbits) {
        absl::StatusOr<NBitsWeight> q = QuantizeForMatMulNBits(tensor, spec, geometry->block);
        if (!q.ok()) return std::optional<MixedCandidate>();
        level.bytes += PayloadBytes(*q);
        dequantized = DequantizedValues(*q);
      }
      if (generic) {
        RoundingOutcome rounding;
        absl::StatusOr<QuantizedWeight> q =
            QuantizeMaybeCalibrated(calibration, key, tensor, role, options.granularity(),
                                    *geometry, spec, uses, options.gptq(), &rounding);
        if (absl::IsOutOfRange(q.status())) return std::optional<MixedCandidate>();
        if (!q.ok()) return q.status();
        if (rounding.gptq && !nbits) {
          level.proxy_error = rounding.proxy_error;
          level.proxy_error_rtn = rounding.proxy_error_rtn;
        }
        level.bytes += PayloadBytes(*q);
        dequantized = DequantizedValues(*q);
      }
      WeightReportRow measured;
      MeasureError(*original, dequantized, measured);
      level.relative_error = measured.relative_error;
    }
    candidate.levels.push_back(level);
  }
  return std::optional<MixedCandidate>(std::move(candidate));
}

absl::Status AttachSensitivities(const std::string& path, std::vector<MixedCandidate>& candidates) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<SensitivityTable> table = LoadSensitivityTable(path);  // .calib or JSON
  if (!table.ok()) return table.status();
  for (MixedCandidate& c : candidates) {
    // The key is "<graph>\n<weight>" (quantize_weights.cc).
    const size_t split = c.key.find('\n');
    const std::string graph = c.key.substr(0, split);
    const std::string weight = split == std::string::npos ? "" : c.key.substr(split + 1);
    const MeasuredSensitivity* m = table->Find(graph, weight);
    if (m == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("sensitivity file ", path, " has no entry for weight '", weight, "' of ",
                       graph, "; measure this model with onnx-opt-calibrate --what sensitivity"));
    }
    c.measured = *m;
  }
  return absl::OkStatus();
}

MixedTarget MixedTargetOf(const QuantizeWeightsOptions& options,
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

int64_t ModelTensorBytes(Model& model) {
  int64_t bytes = 0;
  model.WalkGraphs([&](Graph& graph) {
    for (const Value* value : graph.initializers()) {
      if (TensorPtr t = GetConstantTensor(value)) bytes += static_cast<int64_t>(t->bytes().size());
    }
    for (const auto& node : graph.nodes()) {
      if (!IsConstantNode(*node) || node->output(0) == nullptr) continue;
      if (TensorPtr t = GetConstantTensor(node->output(0))) {
        bytes += static_cast<int64_t>(t->bytes().size());
      }
    }
  });
  return bytes;
}

}  // namespace onnx_opt
