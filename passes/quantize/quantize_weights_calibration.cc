#include "passes/quantize/quantize_weights_calibration.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "ir/file_io.h"
#include "ir/strings.h"
#include "passes/quantize/quant_report.h"

namespace onnx_opt {
namespace {

// gptq-validate: GPTQ fitted on the even-numbered samples' H against plain rounding, both
// measured on the odd-numbered samples' H. False (with `note`) when plain rounding is better
// there: GPTQ then fits the calibration samples rather than the layer's inputs.
absl::StatusOr<bool> GptqBeatsPlainOnHeldOut(const Tensor& weight, const QuantizeRequest& request,
                                             const LayerHessians& hessians,
                                             const quant::GptqOptions& gptq, std::string* note) {
  std::vector<quant::Hessian> fit_on = hessians.hessians;
  for (size_t g = 0; g < fit_on.size(); ++g) {
    for (size_t i = 0; i < fit_on[g].values.size(); ++i) {
      fit_on[g].values[i] -= hessians.held_out[g].values[i];
    }
  }
  const absl::Span<const uint8_t> bytes(weight.bytes().data(), weight.bytes().size());
  absl::StatusOr<quant::GptqResult> fitted =
      quant::QuantizeWeightGptq(request.options.scale_type, bytes, request.layout, request.options,
                                fit_on, hessians.row_hessian, gptq);
  if (!fitted.ok()) return fitted.status();
  absl::StatusOr<quant::QuantizedWeight> plain = quant::QuantizeWeightBytes(
      request.options.scale_type, bytes, request.layout, request.options);
  if (!plain.ok()) return plain.status();
  absl::StatusOr<std::vector<float>> original = weight.ToFloats();
  if (!original.ok()) return original.status();
  auto held_out_error = [&](const quant::QuantizedWeight& q) -> absl::StatusOr<double> {
    absl::StatusOr<std::vector<float>> values = quant::DequantizeWeight(q);
    if (!values.ok()) return values.status();
    for (size_t e = 0; e < values->size(); ++e) (*values)[e] -= (*original)[e];
    return quant::ProxyError(*values, request.layout, hessians.held_out, hessians.row_hessian);
  };
  absl::StatusOr<double> gptq_error = held_out_error(fitted->weight);
  absl::StatusOr<double> plain_error = held_out_error(*plain);
  if (!gptq_error.ok()) return gptq_error.status();
  if (!plain_error.ok()) return plain_error.status();
  if (*gptq_error <= *plain_error) return true;
  *note = absl::StrFormat(
      "GPTQ fitted on half the calibration samples had %.3gx plain rounding's output error on "
      "the other half",
      *gptq_error / std::max(*plain_error, 1e-300));
  return false;
}

// GPTQ counterpart of QuantizeWeight (quant_formats.h): same layout, spec and result form.
absl::StatusOr<QuantizedWeight> QuantizeWeightGptq(
    const Tensor& weight, const WeightRole& role, Granularity granularity,
    const BlockGeometry& geometry, const QuantSpec& spec, const LayerHessians& hessians,
    const quant::GptqOptions& gptq, RoundingOutcome* outcome) {
  QuantizeRequest request = PrepareQuantize(weight, role, granularity, geometry, spec);
  QuantizedWeight& out = request.result;
  // Few vectors x for a long reduction estimate H poorly (a pooled 1x1 input gives one per
  // sample): damp in proportion to K / positions, shrinking H towards a scaled identity.
  quant::GptqOptions tuned = gptq;
  if (hessians.positions > 0) {
    tuned.damp += gptq.shrink * static_cast<double>(geometry.view.reduce) /
                  static_cast<double>(hessians.positions);
  }
  if (gptq.validate && !hessians.held_out.empty()) {
    absl::StatusOr<bool> better =
        GptqBeatsPlainOnHeldOut(weight, request, hessians, tuned, &outcome->fallback_reason);
    if (!better.ok()) return better.status();
    if (!*better) return QuantizeWeight(weight, role, granularity, geometry, spec);
  }
  absl::StatusOr<quant::GptqResult> r = quant::QuantizeWeightGptq(
      request.options.scale_type, {weight.bytes().data(), weight.bytes().size()}, request.layout,
      request.options, hessians.hessians, hessians.row_hessian, tuned);
  if (!r.ok()) return r.status();
  outcome->gptq = true;
  outcome->proxy_error = r->RelativeProxyError();
  outcome->proxy_error_rtn = r->RelativeProxyErrorRtn();
  out.q = std::move(r->weight);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CalibrationData>> CalibrationData::Load(const std::string& path) {
  if (IsCalibFile(path)) {
    absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(path);
    if (!file.ok()) return file.status();
    auto data = std::make_unique<CalibrationData>();
    data->path_ = path;
    data->calib_file_ = *std::move(file);
    return data;
  }
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("calibration manifest ", path, ": ", parts...));
  };
  absl::StatusOr<std::string> text = ReadInputFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("calibration manifest ", text.status().message()));
  }
  google::protobuf::Struct root;
  if (auto s = google::protobuf::util::JsonStringToMessage(*text, &root); !s.ok()) {
    std::string why(s.message().data(), s.message().size());
    std::replace(why.begin(), why.end(), '\n', ' ');
    return error("not valid JSON: ", why);
  }
  const auto& fields = root.fields();
  auto format = fields.find("format");
  if (format == fields.end() || format->second.string_value() != "onnx-opt-calibration-1") {
    return error("\"format\" must be \"onnx-opt-calibration-1\"");
  }
  auto values = fields.find("values");
  if (values == fields.end() || !values->second.has_struct_value()) {
    return error("\"values\" must be an object of value name -> list of .npy paths");
  }
  auto data = std::make_unique<CalibrationData>();
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

absl::Status CalibrationData::VerifyModel(Model& model) const {
  return calib_file_ == nullptr ? absl::OkStatus() : calib_file_->VerifyModel(model);
}

absl::StatusOr<std::optional<LayerHessians>> CalibrationData::HessiansFor(
    const std::string& key, const Tensor& weight, const BlockGeometry& geometry,
    const std::vector<WeightUse>& uses, std::string* why_not) {
  if (auto it = cache_.find(key); it != cache_.end()) {
    *why_not = it->second.why_not;
    return it->second.hessians;
  }
  absl::StatusOr<std::optional<LayerHessians>> h = Compute(key, weight, geometry, uses, why_not);
  if (!h.ok()) return h.status();
  if (cache_enabled_) cache_[key] = Cached{*h, *why_not};
  return h;
}

absl::StatusOr<std::optional<LayerHessians>> CalibrationData::Compute(
    const std::string& key, const Tensor& weight, const BlockGeometry& geometry,
    const std::vector<WeightUse>& uses, std::string* why_not) {
  std::optional<HessianAccumulator> accumulator =
      HessianAccumulator::Create(weight.dims(), uses, why_not);
  if (!accumulator) return std::nullopt;
  // The view must be rows x K with K the reduction length: not for per-tensor granularity.
  const int64_t k = geometry.view.reduce;
  if (k != accumulator->reduce() ||
      geometry.view.outer * geometry.view.inner * k != weight.num_elements()) {
    *why_not = "granularity=tensor mixes rows";
    return std::nullopt;
  }
  if (calib_file_ != nullptr) return calib_file_->Hessians(key, uses, why_not);
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
              accumulator->Add(u, *x, samples++ % 2 == 1, absl::StrCat("calibration file ", file));
          !s.ok()) {
        return s;
      }
    }
  }
  return std::move(*accumulator).Finish();
}

absl::StatusOr<QuantizedWeight> CalibrationData::Quantize(
    const std::string& key, const Tensor& weight, const WeightRole& role, Granularity granularity,
    const BlockGeometry& geometry, const QuantSpec& spec, const std::vector<WeightUse>& uses,
    const quant::GptqOptions& gptq, RoundingOutcome* outcome) {
  *outcome = RoundingOutcome{};
  absl::StatusOr<std::optional<LayerHessians>> h =
      HessiansFor(key, weight, geometry, uses, &outcome->fallback_reason);
  if (!h.ok()) return h.status();
  if (h->has_value()) outcome->input_means = (*h)->input_means;
  if (!h->has_value()) {
    absl::StatusOr<QuantizedWeight> q = QuantizeWeight(weight, role, granularity, geometry, spec);
    if (!q.ok()) return absl::OutOfRangeError(q.status().message());
    return q;
  }
  absl::StatusOr<QuantizedWeight> q =
      QuantizeWeightGptq(weight, role, granularity, geometry, spec, **h, gptq, outcome);
  if (!q.ok()) return absl::OutOfRangeError(q.status().message());
  return q;
}

absl::StatusOr<std::unique_ptr<CalibrationData>> LoadCalibration(const std::string& path,
                                                                 bool cache) {
  if (path.empty()) return std::unique_ptr<CalibrationData>();
  absl::StatusOr<std::unique_ptr<CalibrationData>> data = CalibrationData::Load(path);
  if (data.ok()) (*data)->set_cache(cache);
  return data;
}

absl::StatusOr<QuantizedWeight> QuantizeMaybeCalibrated(
    CalibrationData* calibration, const std::string& key, const Tensor& weight,
    const WeightRole& role, Granularity granularity, const BlockGeometry& geometry,
    const QuantSpec& spec, const std::vector<WeightUse>& uses, const quant::GptqOptions& gptq,
    RoundingOutcome* outcome) {
  if (calibration != nullptr) {
    return calibration->Quantize(key, weight, role, granularity, geometry, spec, uses, gptq,
                                 outcome);
  }
  *outcome = RoundingOutcome{};
  absl::StatusOr<QuantizedWeight> q = QuantizeWeight(weight, role, granularity, geometry, spec);
  if (!q.ok()) return absl::OutOfRangeError(q.status().message());
  return q;
}

void SetRounding(const RoundingOutcome& outcome, WeightReportRow& row) {
  row.rounding = outcome.gptq ? "gptq" : "rtn";
  row.proxy_error = outcome.gptq ? outcome.proxy_error : -1;
  row.proxy_error_rtn = outcome.gptq ? outcome.proxy_error_rtn : -1;
  row.rounding_note = outcome.fallback_reason;
}

}  // namespace onnx_opt
