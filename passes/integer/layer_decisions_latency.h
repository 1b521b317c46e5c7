// The ORT op-latency table (passes/integer/ort_latency.json, format onnx-opt-op-latency-1,
// written by bench/op-latency.mjs; embedded into the library at build time) and its lookup:
// per op kind, log(int8_us / fp32_us) interpolated linearly over log(MACs) between the nearest
// measured entries, the end entries' ratio beyond them; times (and the QuantizeLinear /
// DequantizeLinear costs of the `boundaries` section, over log(elements)) the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace onnx_opt {

class LatencyTable {
 public:
  // Errors start with "latency table <name>: ".
  static absl::StatusOr<LatencyTable> Parse(std::string_view json, const std::string& name);
  static absl::StatusOr<LatencyTable> Load(const std::string& path);
  // The table embedded from passes/integer/ort_latency.json (parsed once).
  static absl::StatusOr<const LatencyTable*> Builtin();

  // Estimated int8_us / fp32_us of an op of `kind` doing `macs` multiply-adds (or elements);
  // nullopt when the table has no entry of that kind.
  std::optional<double> Ratio(std::string_view kind, double macs) const;
  // Estimated fp32 and int8 times (us) of such an op.
  std::optional<std::pair<double, double>> Times(std::string_view kind, double macs) const;
  // Estimated QuantizeLinear / DequantizeLinear time (us) of a tensor of `elements`; 0 when
  // the table has no boundaries section.
  double QuantizeUs(double elements) const { return Interpolate(quantize_, elements); }
  double DequantizeUs(double elements) const { return Interpolate(dequantize_, elements); }
  size_t num_entries() const { return entries_; }

 private:
  using Curve = std::vector<std::pair<double, double>>;          // (log x, log y), sorted by x
  static double Interpolate(const Curve& curve, double x);       // exp of the interpolated log y
  absl::flat_hash_map<std::string, Curve> ratio_, fp32_, int8_;  // per kind, over log MACs
  Curve quantize_, dequantize_;                                  // over log elements
  size_t entries_ = 0;
};

}  // namespace onnx_opt
