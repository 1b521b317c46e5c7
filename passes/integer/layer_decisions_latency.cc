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
    const std::string& k = kind->second.string_value();
    table.ratio_[k].emplace_back(std::log(*macs), std::log(*int8 / *fp32));
    table.fp32_[k].emplace_back(std::log(*macs), std::log(*fp32));
    table.int8_[k].emplace_back(std::log(*macs), std::log(*int8));
    ++table.entries_;
  }
  if (auto b = fields.find("boundaries"); b != fields.end() && b->second.has_list_value()) {
    for (const auto& e : b->second.list_value().values()) {
      const auto& f = e.struct_value().fields();
      auto get = [&](const char* key) {
        auto it = f.find(key);
        return it != f.end() && it->second.has_number_value() ? it->second.number_value() : 0.0;
      };
      const double n = get("elements"), q = get("quantize_us"), dq = get("dequantize_us");
      if (!(n > 0 && q > 0 && dq > 0)) continue;
      table.quantize_.emplace_back(std::log(n), std::log(q));
      table.dequantize_.emplace_back(std::log(n), std::log(dq));
    }
  }
  for (auto* curves : {&table.ratio_, &table.fp32_, &table.int8_}) {
    for (auto& [kind, curve] : *curves) std::sort(curve.begin(), curve.end());
  }
  std::sort(table.quantize_.begin(), table.quantize_.end());
  std::sort(table.dequantize_.begin(), table.dequantize_.end());
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

double LatencyTable::Interpolate(const Curve& p, double x_linear) {
  if (p.empty() || !(x_linear > 0)) return 0;
  const double x = std::log(x_linear);
  if (x <= p.front().first) return std::exp(p.front().second);
  if (x >= p.back().first) return std::exp(p.back().second);
  auto hi = std::lower_bound(p.begin(), p.end(), std::make_pair(x, -1e300));
  auto lo = hi - 1;
  const double t = hi->first > lo->first ? (x - lo->first) / (hi->first - lo->first) : 0;
  return std::exp(lo->second + t * (hi->second - lo->second));
}

std::optional<double> LatencyTable::Ratio(std::string_view kind, double macs) const {
  auto it = ratio_.find(std::string(kind));
  if (it == ratio_.end() || !(macs > 0)) return std::nullopt;
  return Interpolate(it->second, macs);
}

std::optional<std::pair<double, double>> LatencyTable::Times(std::string_view kind,
                                                             double macs) const {
  auto fp32 = fp32_.find(std::string(kind));
  if (fp32 == fp32_.end() || !(macs > 0)) return std::nullopt;
  return std::make_pair(Interpolate(fp32->second, macs),
                        Interpolate(int8_.at(std::string(kind)), macs));
}

}  // namespace onnx_opt
