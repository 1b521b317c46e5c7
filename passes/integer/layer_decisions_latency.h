// The ORT op-latency table (passes/integer/ort_latency.json, format onnx-opt-op-latency-1,
// written by bench/op-latency.mjs; embedded into the library at build time) and its lookup:
// per op kind, log(int8_us / fp32_us) interpolated linearly over log(MACs) between the nearest
// measured entries, the end entries' ratio beyond them.
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
  size_t num_entries() const { return entries_; }

 private:
  // Per kind: (log MACs, log ratio), sorted by MACs.
  absl::flat_hash_map<std::string, std::vector<std::pair<double, double>>> points_;
  size_t entries_ = 0;
};

}  // namespace onnx_opt
