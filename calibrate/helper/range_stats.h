// Streaming range and histogram of one activation tensor (CalibTensorStats), for min/max,
// percentile and entropy calibration of activations.
//
// The histogram has a fixed number of equal bins over [-range, range]. The range starts tiny and
// doubles whenever a value falls outside, each doubling merging neighbouring bin pairs; since
// every bin edge at range R is also an edge at 2R, the result is exactly the histogram that the
// final range would have given from the start: independent of the sample order, and bounded in
// memory by the bin count.
#pragma once

#include <cstdint>
#include <span>

#include "passes/quantize/calib_file.h"

namespace onnx_opt::calibrate {

class RangeStats {
 public:
  RangeStats(std::string name, std::string type, int64_t bins);

  void Add(std::span<const float> values, std::vector<int64_t> shape);

  const CalibTensorStats& stats() const { return stats_; }

 private:
  void GrowTo(double magnitude);
  CalibTensorStats stats_;
};

}  // namespace onnx_opt::calibrate
