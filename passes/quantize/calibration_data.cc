#include "passes/quantize/calibration_data.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "ir/strings.h"
#include "passes/quantize/json.h"
#include "passes/quantize/npy.h"

namespace onnx_opt {

absl::StatusOr<std::optional<LayerHessians>> CalibrationData::HessiansFor(
    const WeightKey& key, const Tensor& weight, const BlockGeometry& geometry,
    const std::vector<WeightUse>& uses, std::string* why_not) {
  if (auto it = cache_.find(key); it != cache_.end()) {
    *why_not = it->second.why_not;
    return it->second.hessians;
  }
  absl::StatusOr<std::optional<LayerHessians>> h = std::optional<LayerHessians>();
  std::optional<HessianAccumulator> accumulator =
      HessianAccumulator::Create(weight.dims(), uses, why_not);
  // The view must be rows x K with K the reduction length: not for per-tensor granularity.
  const int64_t k = geometry.view.reduce;
  if (!accumulator) {
    // not modelled: why_not says why
  } else if (k != accumulator->reduce() ||
             geometry.view.outer * geometry.view.inner * k != weight.num_elements()) {
    *why_not = "granularity=tensor mixes rows";
  } else {
    h = Compute(key, uses, *std::move(accumulator), why_not);
  }
  if (!h.ok()) return h.status();
  if (cache_enabled_) cache_[key] = Cached{*h, *why_not};
  return h;
}

absl::StatusOr<std::unique_ptr<ActivationManifest>> ActivationManifest::Load(
    const std::string& path) {
  // Names and paths from the manifest are quoted with control characters escaped (one line).
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(EscapeString(
        absl::StrCat("calibration manifest ", path, ": ", parts...), EscapeStyle::kControl));
  };
  absl::StatusOr<google::protobuf::Struct> root = ReadJsonFile(path, "calibration manifest");
  if (!root.ok()) return root.status();
  const auto& fields = root->fields();
  auto format = fields.find("format");
  if (format == fields.end() || format->second.string_value() != "onnx-opt-calibration-1") {
    return error("\"format\" must be \"onnx-opt-calibration-1\"");
  }
  auto values = fields.find("values");
  if (values == fields.end() || !values->second.has_struct_value()) {
    return error("\"values\" must be an object of value name -> list of .npy paths");
  }
  auto data = std::make_unique<ActivationManifest>();
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const auto& [name, list] : values->second.struct_value().fields()) {
    if (!list.has_list_value()) return error("\"values\".\"", name, "\" must be a list of paths");
    std::vector<std::string>& files = data->files_[name];
    for (const google::protobuf::Value& item : list.list_value().values()) {
      if (item.kind_case() != google::protobuf::Value::kStringValue) {
        return error("\"values\".\"", name, "\" holds a non-string entry");
      }
      const std::string file = (folder / item.string_value()).string();
      // The error_code overload: a path too long or otherwise bad is "not found", not a throw.
      if (std::error_code ec; !std::filesystem::is_regular_file(file, ec)) {
        return absl::NotFoundError(EscapeString(
            absl::StrCat("calibration file ", file, " (listed for '", name, "'): not found"),
            EscapeStyle::kControl));
      }
      files.push_back(file);
    }
  }
  return data;
}

absl::StatusOr<std::optional<LayerHessians>> ActivationManifest::Compute(
    const WeightKey& key, const std::vector<WeightUse>& uses, HessianAccumulator accumulator,
    std::string* why_not) {
  for (const WeightUse& use : uses) {
    const Value* activation = use.node->input(0);
    auto files = activation == nullptr ? files_.end() : files_.find(activation->name());
    if (files == files_.end() || files->second.empty()) {
      *why_not = absl::StrCat("no calibration data for '",
                              activation ? activation->name() : std::string(), "'");
      return std::nullopt;
    }
  }
  int64_t samples = 0;
  for (size_t u = 0; u < uses.size(); ++u) {
    for (const std::string& file : files_.at(uses[u].node->input(0)->name())) {
      absl::StatusOr<NpyArray> x = ReadNpy(file);
      if (!x.ok()) return x.status();
      // Odd-numbered samples form the held-out half (gptq-validate).
      if (absl::Status s =
              accumulator.Add(u, *x, samples++ % 2 == 1, absl::StrCat("calibration file ", file));
          !s.ok()) {
        return s;
      }
    }
  }
  return std::move(accumulator).Finish();
}

absl::StatusOr<std::optional<LayerHessians>> CalibFileData::Compute(
    const WeightKey& key, const std::vector<WeightUse>& uses, HessianAccumulator accumulator,
    std::string* why_not) {
  return file_->Hessians(key, uses, why_not);
}

absl::StatusOr<std::unique_ptr<CalibrationData>> LoadCalibration(const std::string& path,
                                                                 bool cache) {
  if (path.empty()) return std::unique_ptr<CalibrationData>();
  std::unique_ptr<CalibrationData> data;
  if (IsCalibFile(path)) {
    absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(path);
    if (!file.ok()) return file.status();
    data = std::make_unique<CalibFileData>(*std::move(file));
  } else {
    absl::StatusOr<std::unique_ptr<ActivationManifest>> manifest = ActivationManifest::Load(path);
    if (!manifest.ok()) return manifest.status();
    data = *std::move(manifest);
  }
  data->set_cache(cache);
  return data;
}

}  // namespace onnx_opt
