#include "passes/quantize/mixed_precision.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace onnx_opt {

std::string LevelName(int bits) { return bits == 0 ? "float" : absl::StrCat("int", bits); }

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

}  // namespace onnx_opt
