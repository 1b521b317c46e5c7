#include "passes/integer/quantize_activations_gptq.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"
#include "passes/quantize/weight.h"
#include "passes/quantize/weight_layout.h"
#include "quant/gptq.h"

namespace onnx_opt {
namespace {

// quantize-weights' best-measured GPTQ settings (docs/results.md: act-order, shrink 0.5).
quant::GptqOptions Options(const LayerHessians& h, int64_t reduce) {
  quant::GptqOptions options;
  options.act_order = true;
  options.shrink = 0.5;
  return quant::ShrinkDamped(options, reduce, h.positions);
}

double HeldOutError(const std::vector<int32_t>& codes, const std::vector<float>& values,
                    const std::vector<float>& row_scales, const quant::BlockLayout& layout,
                    const LayerHessians& h) {
  std::vector<float> diff(values.size());
  for (size_t e = 0; e < values.size(); ++e) {
    // One block per row: row = element / K when inner == 1, else (o, i) with element (o, c, i).
    const int64_t o = static_cast<int64_t>(e) / (layout.axis_dim * layout.inner);
    const int64_t i = static_cast<int64_t>(e) % layout.inner;
    diff[e] = static_cast<float>(codes[e]) * row_scales[o * layout.inner + i] - values[e];
  }
  return quant::ProxyError(diff, layout, h.held_out, h.row_hessian);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChannelGptq>> ChannelGptq::Open(const std::string& calibration) {
  absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(calibration);
  if (!file.ok()) return file.status();
  return std::unique_ptr<ChannelGptq>(new ChannelGptq(*std::move(file)));
}

absl::Status ChannelGptq::Refine(Node* node, int input, const std::vector<float>& values,
                                 const std::vector<int64_t>& dims, int64_t axis, int bits,
                                 int32_t zero_point, ChannelQuantized& q) {
  Value* weight = node->input(input);
  const auto rank = static_cast<int64_t>(dims.size());
  std::optional<WeightRole> role = FindWeightRole(*node, input, rank);
  std::vector<WeightUse> uses;
  for (const Use& use : weight->uses()) uses.push_back({use.node, use.input_index});
  for (const WeightUse& use : uses) {
    // Every reader must use the weight the same way for one set of Hessians to serve them.
    if (!role || FindWeightRole(*use.node, use.input_index, rank) != role) role.reset();
  }
  if (!role || role->channel_axis != axis) {
    ++counts_.no_hessians;
    return absl::OkStatus();
  }
  const WeightView view = ViewOf(dims, *role);
  const BlockGeometry geometry{view, view.reduce};
  // Rows (GPTQ order) must be the channels: one of outer, inner is the channel count.
  const int64_t channels = dims[axis];
  const bool channel_is_outer = role->channel_axis < role->axis;
  if ((channel_is_outer ? geometry.view.outer : geometry.view.inner) != channels ||
      geometry.view.outer * geometry.view.inner != channels) {
    ++counts_.no_hessians;
    return absl::OkStatus();
  }
  TensorPtr tensor = GetConstantTensor(weight);
  const WeightKey key = KeyOf(*weight->graph(), *weight);
  if (absl::Status s = file_->VerifyWeight(key, *tensor); !s.ok()) return s;
  std::string why_not;
  absl::StatusOr<std::optional<LayerHessians>> h = file_->Hessians(key, uses, &why_not);
  if (!h.ok()) return h.status();
  if (!h->has_value()) {
    ++counts_.no_hessians;
    return absl::OkStatus();
  }
  const LayerHessians& hessians = **h;
  const quant::BlockLayout layout{geometry.view.outer, geometry.view.reduce, geometry.view.inner,
                                  geometry.view.reduce};
  // GPTQ rows are channels in order (outer or inner is the channel axis): the scales as they are.
  const std::vector<float>& row_scales = q.scales;
  const auto max_code = static_cast<int32_t>((1 << (bits - 1)) - 1);
  const quant::GptqOptions options = Options(hessians, geometry.view.reduce);
  auto name = [&] { return weight->name(); };
  if (!hessians.held_out.empty()) {
    absl::StatusOr<std::vector<int32_t>> fitted = quant::RoundToRowGridGptq(
        values, layout, row_scales, max_code, hessians.Fitted(), hessians.row_hessian, options);
    if (!fitted.ok()) {
      return absl::Status(fitted.status().code(), absl::StrCat("GPTQ of weight '", name(),
                                                               "': ", fitted.status().message()));
    }
    std::vector<int32_t> plain(values.size());
    for (size_t e = 0; e < values.size(); ++e) plain[e] = q.values[e] - zero_point;
    if (HeldOutError(*fitted, values, row_scales, layout, hessians) >
        HeldOutError(plain, values, row_scales, layout, hessians)) {
      ++counts_.plain_better;
      return absl::OkStatus();
    }
  }
  absl::StatusOr<std::vector<int32_t>> r = quant::RoundToRowGridGptq(
      values, layout, row_scales, max_code, hessians.hessians, hessians.row_hessian, options);
  if (!r.ok()) {
    return absl::Status(r.status().code(),
                        absl::StrCat("GPTQ of weight '", name(), "': ", r.status().message()));
  }
  for (size_t e = 0; e < values.size(); ++e) q.values[e] = (*r)[e] + zero_point;
  ++counts_.rounded;
  return absl::OkStatus();
}

}  // namespace onnx_opt
