#include "calibrate/helper/range_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace onnx_opt::calibrate {

namespace {
constexpr double kSmallestRange = 0x1p-24;
}

RangeStats::RangeStats(std::string name, std::string type, int64_t bins) {
  stats_.name = std::move(name);
  stats_.type = std::move(type);
  stats_.histogram.assign(std::max<int64_t>(bins, 2) & ~int64_t{1}, 0.0);
  stats_.histogram_range = kSmallestRange;
  stats_.min = std::numeric_limits<double>::infinity();
  stats_.max = -std::numeric_limits<double>::infinity();
}

void RangeStats::GrowTo(double magnitude) {
  std::vector<double>& h = stats_.histogram;
  const size_t bins = h.size();
  while (magnitude > stats_.histogram_range) {
    // Range R -> 2R: old bins [0, B) cover the middle half; pairs merge into [B/4, 3B/4).
    std::vector<double> merged(bins, 0.0);
    for (size_t i = 0; i < bins; ++i) merged[bins / 4 + i / 2] += h[i];
    h = std::move(merged);
    stats_.histogram_range *= 2;
  }
}

void RangeStats::Add(std::span<const float> values, std::vector<int64_t> shape) {
  stats_.shape = std::move(shape);
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (float v : values) {
    if (!std::isfinite(v)) {
      ++stats_.non_finite;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(lo <= hi)) return;
  stats_.min = std::min<double>(stats_.min, lo);
  stats_.max = std::max<double>(stats_.max, hi);
  GrowTo(std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi))));
  std::vector<double>& h = stats_.histogram;
  const double bins = static_cast<double>(h.size());
  const double scale = bins / (2 * stats_.histogram_range);
  const double range = stats_.histogram_range;
  const int64_t last = static_cast<int64_t>(h.size()) - 1;
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    const int64_t bin = static_cast<int64_t>((static_cast<double>(v) + range) * scale);
    h[std::clamp<int64_t>(bin, 0, last)] += 1;
    ++stats_.count;
  }
}

}  // namespace onnx_opt::calibrate
