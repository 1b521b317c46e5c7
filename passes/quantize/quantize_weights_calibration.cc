#include "passes/quantize/quantize_weights_calibration.h"

#include <Eigen/Core>
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

using FloatMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The sampled positions of one sample: every position when there are few, else an evenly strided
// subset (deterministic).
std::vector<int64_t> SamplePositions(int64_t total) {
  const int64_t count = std::min(total, CalibrationData::kMaxPositions);
  std::vector<int64_t> positions(count);
  for (int64_t j = 0; j < count; ++j) positions[j] = j * total / count;
  return positions;
}

// H += scale * X^T X in double (X: positions x K, float).
void AddGram(const FloatMatrix& x, double scale, quant::Hessian& h) {
  const int64_t k = x.cols();
  Eigen::MatrixXf gram = Eigen::MatrixXf::Zero(k, k);
  gram.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      const double v = scale * static_cast<double>(gram(i, j));
      h.values[i * k + j] += v;
      if (j != i) h.values[j * k + i] += v;
    }
  }
}

// The running sums of one Hessian's data: H, the sum of the vectors x and their count (each
// sampled vector stands for `scale` vectors).
struct InputAccumulator {
  quant::Hessian* hessian;
  std::vector<double>* sums;
  double* count;

  void Add(const FloatMatrix& x, double scale) const {
    const Eigen::VectorXd column_sums = x.cast<double>().colwise().sum().transpose();
    for (int64_t c = 0; c < x.cols(); ++c) (*sums)[c] += scale * column_sums[c];
    *count += scale * static_cast<double>(x.rows());
    AddGram(x, scale, *hessian);
  }
};

// Convolution parameters of a Conv node for a weight [M, C/g, k...] and an input [N, C, d...].
struct ConvParams {
  int64_t group = 1;
  std::vector<int64_t> kernel, strides, dilations, pad_begin, out;
};

absl::StatusOr<ConvParams> ConvParamsOf(const Node& node, const std::vector<int64_t>& w,
                                        const std::vector<int64_t>& x) {
  const size_t s = w.size() - 2;
  ConvParams p;
  p.group = node.GetInt("group").value_or(1);
  p.kernel.assign(w.begin() + 2, w.end());
  p.strides = node.GetInts("strides").value_or(std::vector<int64_t>(s, 1));
  p.dilations = node.GetInts("dilations").value_or(std::vector<int64_t>(s, 1));
  std::vector<int64_t> pads = node.GetInts("pads").value_or(std::vector<int64_t>(2 * s, 0));
  const std::string auto_pad = node.GetString("auto_pad").value_or("NOTSET");
  if (p.strides.size() != s || p.dilations.size() != s || pads.size() != 2 * s || p.group < 1) {
    return absl::InvalidArgumentError("strides, dilations, pads or group do not fit the kernel");
  }
  p.pad_begin.resize(s);
  p.out.resize(s);
  for (size_t i = 0; i < s; ++i) {
    const int64_t in = x[i + 2];
    const int64_t span = (p.kernel[i] - 1) * p.dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      p.out[i] = (in + p.strides[i] - 1) / p.strides[i];
      const int64_t total = std::max<int64_t>(0, (p.out[i] - 1) * p.strides[i] + span - in);
      p.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (auto_pad == "VALID") {
      p.out[i] = (in - span) / p.strides[i] + 1;
      p.pad_begin[i] = 0;
    } else {
      p.out[i] = (in + pads[i] + pads[i + s] - span) / p.strides[i] + 1;
      p.pad_begin[i] = pads[i];
    }
    if (p.out[i] < 1) return absl::InvalidArgumentError("the output would be empty");
  }
  return p;
}

// Adds one sample's im2col patches to the per-group accumulators.
// Returns the number of positions added (per group).
int64_t AccumulateConv(const NpyArray& x, const ConvParams& p, int64_t channels_per_group,
                       const std::vector<InputAccumulator>& groups) {
  const size_t s = p.kernel.size();
  int64_t out_count = 1, kernel_count = 1;
  for (size_t i = 0; i < s; ++i) {
    out_count *= p.out[i];
    kernel_count *= p.kernel[i];
  }
  std::vector<int64_t> in_dims(x.shape.begin() + 2, x.shape.end());
  int64_t in_count = 1;
  for (int64_t d : in_dims) in_count *= d;
  const int64_t channels = x.shape[1];
  const std::vector<int64_t> positions = SamplePositions(x.shape[0] * out_count);
  const double scale = static_cast<double>(x.shape[0] * out_count) / positions.size();
  const int64_t k = channels_per_group * kernel_count;
  const int64_t rows = static_cast<int64_t>(positions.size());
  // Per (position, kernel offset): the sample's flat spatial input index, or -1 in the padding.
  // Shared by every channel and group.
  std::vector<int64_t> source(rows * kernel_count, -1), sample(rows);
  std::vector<int64_t> origin(s);
  for (int64_t r = 0; r < rows; ++r) {
    sample[r] = positions[r] / out_count;
    int64_t rest = positions[r] % out_count;
    for (size_t i = s; i-- > 0;) {
      origin[i] = (rest % p.out[i]) * p.strides[i] - p.pad_begin[i];
      rest /= p.out[i];
    }
    for (int64_t kidx = 0; kidx < kernel_count; ++kidx) {
      int64_t rem = kidx, flat = 0, stride = 1;
      bool inside = true;
      for (size_t i = s; i-- > 0;) {
        const int64_t at = origin[i] + (rem % p.kernel[i]) * p.dilations[i];
        rem /= p.kernel[i];
        inside = inside && at >= 0 && at < in_dims[i];
        flat += at * stride;
        stride *= in_dims[i];
      }
      if (inside) source[r * kernel_count + kidx] = flat;
    }
  }
  FloatMatrix patches(rows, k);
  for (int64_t g = 0; g < p.group; ++g) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t* from = source.data() + r * kernel_count;
      for (int64_t c = 0; c < channels_per_group; ++c) {
        const float* plane =
            x.values.data() + (sample[r] * channels + g * channels_per_group + c) * in_count;
        float* to = patches.data() + r * k + c * kernel_count;
        for (int64_t kidx = 0; kidx < kernel_count; ++kidx) {
          to[kidx] = from[kidx] < 0 ? 0.0f : plane[from[kidx]];
        }
      }
    }
    groups[g].Add(patches, scale);
  }
  return rows;
}

// Adds the rows of a [P, K] view (or its columns when `transposed`, a [K, P] view).
int64_t AccumulateRows(const NpyArray& x, int64_t k, bool transposed,
                       const InputAccumulator& accumulator) {
  const int64_t total = static_cast<int64_t>(x.values.size()) / k;
  const std::vector<int64_t> positions = SamplePositions(total);
  FloatMatrix rows(static_cast<int64_t>(positions.size()), k);
  for (size_t r = 0; r < positions.size(); ++r) {
    for (int64_t c = 0; c < k; ++c) {
      rows(static_cast<int64_t>(r), c) =
          transposed ? x.values[c * total + positions[r]] : x.values[positions[r] * k + c];
    }
  }
  accumulator.Add(rows, static_cast<double>(total) / positions.size());
  return static_cast<int64_t>(positions.size());
}

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

absl::StatusOr<std::optional<LayerHessians>> CalibrationData::HessiansFor(
    const std::string& key, const Tensor& weight, const BlockGeometry& geometry,
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

absl::StatusOr<std::optional<LayerHessians>> CalibrationData::Compute(
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
