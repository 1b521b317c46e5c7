// Measured output sensitivities for mixed precision: `sensitivity=FILE` of quantize-weights.
//
// eval/sensitivity.js writes FILE by quantizing one weight at a time (the "probe" pipeline, e.g.
// int4 block 32) and running the model in ONNX Runtime on calibration inputs:
//
//   {"format": "onnx-opt-sensitivity-1", "probe": "quantize-weights{...}",
//    "weights": [{"graph": "main graph", "weight": "conv1.w",
//                 "output_noise": 0.0012, "weight_error": 0.11}, ...]}
//
// output_noise is ||y - y_probe||^2 / ||y||^2 over the calibration outputs with only that weight
// quantized; weight_error is the weight's relative Frobenius error in the probe. Mixed precision
// then estimates the output noise of the weight at any precision p as
// output_noise * (error_p / weight_error)^2 (noise power scales with the weight error's energy).
#pragma once

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "passes/quantize/weight.h"

namespace onnx_opt {

struct MeasuredSensitivity {
  double output_noise = 0;
  double weight_error = 0;
};

class SensitivityTable {
 public:
  // Errors (one line, naming the file and the entry) for unreadable files, malformed JSON, a
  // wrong "format", entries without the four fields, negative or non-finite numbers, duplicates.
  static absl::StatusOr<SensitivityTable> Load(const std::string& path);
  static absl::StatusOr<SensitivityTable> Parse(std::string_view json, const std::string& path);

  const MeasuredSensitivity* Find(const WeightKey& key) const;
  size_t size() const { return entries_.size(); }
  const std::string& probe() const { return probe_; }

 private:
  static absl::StatusOr<SensitivityTable> FromJson(const google::protobuf::Struct& root,
                                                   const std::string& path);

  std::string probe_;
  absl::flat_hash_map<WeightKey, MeasuredSensitivity> entries_;
};

}  // namespace onnx_opt
