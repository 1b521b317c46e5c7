#include "passes/integer/layer_decisions_latency.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ir/file_io.h"
#include "ir/strings.h"
#include "passes/quantize/json.h"

namespace onnx_opt {

extern const char kOrtLatencyJson[];  // generated from ort_latency.json (passes/CMakeLists.txt)

absl::StatusOr<LatencyTable> LatencyTable::Parse(std::string_view json, const std::string& name) {
  absl::StatusOr<google::protobuf::Struct> root = ParseJson(json, name, "latency table");
  if (!root.ok()) return root.status();
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("latency table ", name, ": ", parts...));
  };
  const auto& fields = root->fields();
  auto format = fields.find("format");
  if (format == fields.end() || format->second.string_value() != "onnx-opt-op-latency-1") {
    return error("format is not onnx-opt-op-latency-1");
  }
  auto entries = fields.find("entries");
  if (entries == fields.end() || !entries->second.has_list_value()) return error("no entries");
  LatencyTable table;
  int index = 0;
  for (const auto& e : entries->second.list_value().values()) {
    const auto& f = e.struct_value().fields();
    auto number = [&](const char* key) -> std::optional<double> {
      auto it = f.find(key);
      if (it == f.end() || !it->second.has_number_value()) return std::nullopt;
      return it->second.number_value();
    };
    auto kind = f.find("kind");
    std::optional<double> macs = number("macs"), fp32 = number("fp32_us"), int8 = number("int8_us");
    if (kind == f.end() || !macs || !fp32 || !int8) {
      return error("entry ", index, " lacks kind, macs, fp32_us or int8_us");
    }
    ++index;
    if (!(*macs > 0 && *fp32 > 0 && *int8 > 0)) continue;  // too fast to measure
    table.points_[kind->second.string_value()].emplace_back(std::log(*macs),
                                                            std::log(*int8 / *fp32));
    ++table.entries_;
  }
  for (auto& [kind, points] : table.points_) std::sort(points.begin(), points.end());
  return table;
}

absl::StatusOr<LatencyTable> LatencyTable::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadInputFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("latency table ", text.status().message()));
  }
  return Parse(*text, path);
}

absl::StatusOr<const LatencyTable*> LatencyTable::Builtin() {
  static const absl::StatusOr<LatencyTable>* table =
      new absl::StatusOr<LatencyTable>(Parse(kOrtLatencyJson, "passes/integer/ort_latency.json"));
  if (!table->ok()) return table->status();
  return &**table;
}

std::optional<double> LatencyTable::Ratio(std::string_view kind, double macs) const {
  auto it = points_.find(std::string(kind));
  if (it == points_.end() || it->second.empty() || !(macs > 0)) return std::nullopt;
  const auto& p = it->second;
  const double x = std::log(macs);
  if (x <= p.front().first) return std::exp(p.front().second);
  if (x >= p.back().first) return std::exp(p.back().second);
  auto hi = std::lower_bound(p.begin(), p.end(), std::make_pair(x, -1e300));
  auto lo = hi - 1;
  const double t = hi->first > lo->first ? (x - lo->first) / (hi->first - lo->first) : 0;
  return std::exp(lo->second + t * (hi->second - lo->second));
}

}  // namespace onnx_opt
