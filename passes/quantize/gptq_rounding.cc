#include "passes/quantize/gptq_rounding.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace onnx_opt {
namespace {

// gptq-validate: GPTQ fitted on the even-numbered samples' H against plain rounding, both
// measured on the odd-numbered samples' H. False (with `note`) when plain rounding is better
// there: GPTQ then fits the calibration samples rather than the layer's inputs.
absl::StatusOr<bool> GptqBeatsPlainOnHeldOut(const Tensor& weight, const QuantizeRequest& request,
                                             const LayerHessians& hessians,
                                             const quant::GptqOptions& gptq, std::string* note) {
  const std::vector<quant::Hessian> fit_on = hessians.Fitted();
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

// GPTQ counterpart of QuantizeWeight (quantized_weight.h): same layout, spec and result form.
absl::StatusOr<QuantizedWeight> QuantizeWeightGptq(
    const Tensor& weight, const WeightRole& role, Granularity granularity,
    const BlockGeometry& geometry, const QuantSpec& spec, const LayerHessians& hessians,
    const quant::GptqOptions& gptq, RoundingOutcome* outcome) {
  QuantizeRequest request = PrepareQuantize(weight, role, granularity, geometry, spec);
  QuantizedWeight& out = request.result;
  // Few vectors x for a long reduction estimate H poorly (a pooled 1x1 input gives one per
  // sample): damp in proportion to K / positions, shrinking H towards a scaled identity.
  const quant::GptqOptions tuned =
      quant::ShrinkDamped(gptq, geometry.view.reduce, hessians.positions);
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

absl::StatusOr<QuantizedWeight> GptqRounding::Round(const SelectedWeight& selected,
                                                    const BlockGeometry& geometry,
                                                    const QuantSpec& spec,
                                                    RoundingOutcome* outcome) {
  *outcome = RoundingOutcome{};
  const Tensor& weight = *selected.tensor;
  const WeightRole& role = *selected.uses.role;
  const Granularity granularity = granularity_;
  const quant::GptqOptions& gptq = gptq_;
  absl::StatusOr<std::optional<LayerHessians>> h = data_->HessiansFor(
      selected.key, weight, geometry, selected.uses.generic, &outcome->fallback_reason);
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

}  // namespace onnx_opt
