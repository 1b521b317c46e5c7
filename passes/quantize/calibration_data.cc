#include "passes/quantize/calibration_data.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "ir/strings.h"
#include "passes/quantize/hessian_accumulation.h"
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
  absl::StatusOr<std::optional<LayerHessians>> h = Compute(weight, geometry, uses, why_not);
  if (!h.ok()) return h.status();
  if (cache_enabled_) cache_[key] = Cached{*h, *why_not};
  return h;
}

absl::StatusOr<std::unique_ptr<CalibrationData>> LoadCalibration(const std::string& path,
                                                                 bool cache) {
  if (path.empty()) return std::unique_ptr<CalibrationData>();
  absl::StatusOr<std::unique_ptr<ActivationManifest>> manifest = ActivationManifest::Load(path);
  if (!manifest.ok()) return manifest.status();
  (*manifest)->set_cache(cache);
  return std::unique_ptr<CalibrationData>(*std::move(manifest));
}

absl::StatusOr<std::unique_ptr<ActivationManifest>> ActivationManifest::Load(
    const std::string& path) {
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("calibration manifest ", path, ": ", parts...));
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
  data->path_ = path;
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const auto& [name, list] : values->second.struct_value().fields()) {
    if (!list.has_list_value()) return error("\"values\".\"", name, "\" must be a list of paths");
    std::vector<std::string>& files = data->files_[name];
    for (const google::protobuf::Value& item : list.list_value().values()) {
      if (item.kind_case() != google::protobuf::Value::kStringValue) {
        return error("\"values\".\"", name, "\" holds a non-string entry");
      }
      const std::string file = (folder / item.string_value()).string();
      if (!std::filesystem::is_regular_file(file)) {
        return absl::NotFoundError(
            absl::StrCat("calibration file ", file, " (listed for '", name, "'): not found"));
      }
      files.push_back(file);
    }
  }
  return data;
}

absl::StatusOr<std::optional<LayerHessians>> ActivationManifest::Compute(
    const Tensor& weight, const BlockGeometry& geometry, const std::vector<WeightUse>& uses,
    std::string* why_not) {
  const std::vector<int64_t>& w = weight.dims();
  const int64_t k = geometry.view.reduce;
  LayerHessians result;
  int64_t groups = 0;
  std::vector<std::vector<double>> sums;
  std::vector<double> counts;       // per group: all positions of every sample, sampled or not
  std::vector<quant::Hessian> odd;  // H of the odd-numbered samples, added to the total at the end
  std::vector<InputAccumulator> even_accumulators, odd_accumulators;
  for (const WeightUse& use : uses) {
    const Node& node = *use.node;
    const bool conv = node.Is("Conv") && use.input_index == 1 && w.size() >= 3;
    const bool matmul = node.Is("MatMul") && use.input_index == 1 && w.size() == 2;
    const bool gemm = node.Is("Gemm") && use.input_index == 1 && w.size() == 2;
    if (!conv && !matmul && !gemm) {
      *why_not = absl::StrCat("unsupported use by ", node.DebugName());
      return std::nullopt;
    }
    const bool trans_b = gemm && node.GetInt("transB").value_or(0) != 0;
    // The view must be rows x K with K the reduction length: not for per-tensor granularity.
    const int64_t expected_k = conv ? weight.num_elements() / w[0] : trans_b ? w[1] : w[0];
    if (k != expected_k || geometry.view.outer * geometry.view.inner * k != weight.num_elements()) {
      *why_not = "granularity=tensor mixes rows";
      return std::nullopt;
    }
    const Value* activation = node.input(0);
    auto files = activation == nullptr ? files_.end() : files_.find(activation->name());
    if (files == files_.end() || files->second.empty()) {
      *why_not = absl::StrCat("no calibration data for '",
                              activation ? activation->name() : std::string(), "'");
      return std::nullopt;
    }
    const int64_t use_groups = conv ? node.GetInt("group").value_or(1) : 1;
    if (groups == 0) {
      groups = use_groups;
      result.hessians.assign(groups, quant::Hessian::Zero(k));
      odd.assign(groups, quant::Hessian::Zero(k));
      sums.assign(groups, std::vector<double>(k, 0.0));
      counts.assign(groups, 0.0);
      for (int64_t g = 0; g < groups; ++g) {
        even_accumulators.push_back({&result.hessians[g], &sums[g], &counts[g]});
        odd_accumulators.push_back({&odd[g], &sums[g], &counts[g]});
      }
    } else if (groups != use_groups) {
      *why_not = "shared by convolutions with different groups";
      return std::nullopt;
    }
    for (const std::string& file : files->second) {
      const std::vector<InputAccumulator>& accumulators =
          result.samples % 2 == 0 ? even_accumulators : odd_accumulators;
      absl::StatusOr<NpyArray> x = ReadNpy(file);
      if (!x.ok()) return x.status();
      auto mismatch = [&](auto&&... parts) {
        return absl::InvalidArgumentError(
            absl::StrCat("calibration file ", file, ": activation '", activation->name(),
                         "' of shape ", FormatDims(x->shape), " does not fit ", node.DebugName(),
                         " with weight ", FormatDims(w), ": ", parts...));
      };
      if (conv) {
        if (x->shape.size() != w.size() || x->shape[1] != w[1] * groups || w[0] % groups != 0) {
          return mismatch("needs [N, ", w[1] * groups, ", ...] of rank ", w.size());
        }
        absl::StatusOr<ConvParams> p = ConvParamsOf(node, w, x->shape);
        if (!p.ok()) return mismatch(p.status().message());
        result.positions += AccumulateConv(*x, *p, w[1], accumulators);
      } else if (matmul) {
        if (x->shape.empty() || x->shape.back() != k) return mismatch("last axis must be ", k);
        result.positions += AccumulateRows(*x, k, false, accumulators[0]);
      } else {
        const bool trans_a = node.GetInt("transA").value_or(0) != 0;
        if (x->shape.size() != 2 || x->shape[trans_a ? 0 : 1] != k) {
          return mismatch("A must be 2-D with ", k, " on axis ", trans_a ? 0 : 1);
        }
        result.positions += AccumulateRows(*x, k, trans_a, accumulators[0]);
      }
      ++result.samples;
    }
  }
  for (int64_t g = 0; g < groups; ++g) {
    for (double& v : sums[g]) v /= std::max(counts[g], 1.0);
  }
  result.input_means = std::move(sums);
  for (int64_t g = 0; g < groups; ++g) {
    for (size_t i = 0; i < odd[g].values.size(); ++i)
      result.hessians[g].values[i] += odd[g].values[i];
  }
  if (result.samples >= 2) result.held_out = std::move(odd);
  if (groups > 1) {
    // Conv rows are output channels (view [M, K, 1]); M/g consecutive channels per group.
    const int64_t per_group = w[0] / groups;
    for (int64_t m = 0; m < w[0]; ++m)
      result.row_hessian.push_back(static_cast<int32_t>(m / per_group));
  }
  return result;
}

}  // namespace onnx_opt
