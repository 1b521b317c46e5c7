#include "passes/simplify/affine_fold.h"

namespace onnx_opt::simplify {
namespace {

int64_t InnerSize(const std::vector<int64_t>& dims) {  // product of dims[2:]
  int64_t n = 1;
  for (size_t i = 2; i < dims.size(); ++i) n *= dims[i];
  return n;
}

}  // namespace

int64_t WeightLayout::out_channels() const {
  switch (op) {
    case WeightedOp::kConv:
      return dims[0];
    case WeightedOp::kConvTranspose:
      return dims[1] * group;
    case WeightedOp::kGemmB:
      return dims[1];
    case WeightedOp::kGemmBTransposed:
      return dims[0];
  }
  return 0;
}

int64_t WeightLayout::in_channels() const {
  switch (op) {
    case WeightedOp::kConv:
      return dims[1] * group;
    case WeightedOp::kConvTranspose:
      return dims[0];
    case WeightedOp::kGemmB:
      return dims[0];
    case WeightedOp::kGemmBTransposed:
      return dims[1];
  }
  return 0;
}

bool WeightLayout::valid() const {
  for (int64_t d : dims) {
    if (d <= 0) return false;
  }
  if (op == WeightedOp::kGemmB || op == WeightedOp::kGemmBTransposed) return dims.size() == 2;
  if (dims.size() < 3 || group < 1) return false;
  // Conv: M divisible by group; ConvTranspose: C divisible by group.
  return dims[0] % group == 0;
}

std::vector<float> ScaleOutputChannels(const WeightLayout& layout, const std::vector<float>& w,
                                       const std::vector<float>& scale) {
  std::vector<float> out = w;
  const auto& d = layout.dims;
  switch (layout.op) {
    case WeightedOp::kConv: {
      const int64_t per = d[1] * InnerSize(d);
      for (int64_t m = 0; m < d[0]; ++m) {
        for (int64_t j = 0; j < per; ++j) out[m * per + j] *= scale[m];
      }
      break;
    }
    case WeightedOp::kConvTranspose: {
      // Input channel c belongs to group c / (C/group); its column j is output g*(M/group) + j.
      const int64_t in_per_group = d[0] / layout.group, k = InnerSize(d);
      for (int64_t c = 0; c < d[0]; ++c) {
        const int64_t base = (c / in_per_group) * d[1];
        for (int64_t j = 0; j < d[1]; ++j) {
          for (int64_t i = 0; i < k; ++i) out[(c * d[1] + j) * k + i] *= scale[base + j];
        }
      }
      break;
    }
    case WeightedOp::kGemmB:
      for (int64_t r = 0; r < d[0]; ++r) {
        for (int64_t n = 0; n < d[1]; ++n) out[r * d[1] + n] *= scale[n];
      }
      break;
    case WeightedOp::kGemmBTransposed:
      for (int64_t n = 0; n < d[0]; ++n) {
        for (int64_t r = 0; r < d[1]; ++r) out[n * d[1] + r] *= scale[n];
      }
      break;
  }
  return out;
}

std::vector<float> ScaleInputChannels(const WeightLayout& layout, const std::vector<float>& w,
                                      const std::vector<float>& scale) {
  std::vector<float> out = w;
  const auto& d = layout.dims;
  switch (layout.op) {
    case WeightedOp::kConv: {
      // Output m reads the input channels of its group: g*(C/group) + c for c < C/group.
      const int64_t out_per_group = d[0] / layout.group, k = InnerSize(d);
      for (int64_t m = 0; m < d[0]; ++m) {
        const int64_t base = (m / out_per_group) * d[1];
        for (int64_t c = 0; c < d[1]; ++c) {
          for (int64_t i = 0; i < k; ++i) out[(m * d[1] + c) * k + i] *= scale[base + c];
        }
      }
      break;
    }
    case WeightedOp::kGemmB:  // rows are input channels
      return ScaleOutputChannels({WeightedOp::kGemmBTransposed, d, 1}, w, scale);
    case WeightedOp::kGemmBTransposed:
      return ScaleOutputChannels({WeightedOp::kGemmB, d, 1}, w, scale);
    case WeightedOp::kConvTranspose:
      break;
  }
  return out;
}

std::vector<float> BiasOfInputShift(const WeightLayout& layout, const std::vector<float>& w,
                                    const std::vector<float>& shift) {
  const auto& d = layout.dims;
  std::vector<float> bias(layout.out_channels(), 0.0f);
  switch (layout.op) {
    case WeightedOp::kConv: {
      const int64_t out_per_group = d[0] / layout.group, k = InnerSize(d);
      for (int64_t m = 0; m < d[0]; ++m) {
        const int64_t base = (m / out_per_group) * d[1];
        double sum = 0;
        for (int64_t c = 0; c < d[1]; ++c) {
          for (int64_t i = 0; i < k; ++i)
            sum += double{w[(m * d[1] + c) * k + i]} * shift[base + c];
        }
        bias[m] = static_cast<float>(sum);
      }
      break;
    }
    case WeightedOp::kGemmB:
      for (int64_t n = 0; n < d[1]; ++n) {
        double sum = 0;
        for (int64_t r = 0; r < d[0]; ++r) sum += double{w[r * d[1] + n]} * shift[r];
        bias[n] = static_cast<float>(sum);
      }
      break;
    case WeightedOp::kGemmBTransposed:
      for (int64_t n = 0; n < d[0]; ++n) {
        double sum = 0;
        for (int64_t r = 0; r < d[1]; ++r) sum += double{w[n * d[1] + r]} * shift[r];
        bias[n] = static_cast<float>(sum);
      }
      break;
    case WeightedOp::kConvTranspose:
      break;
  }
  return bias;
}

}  // namespace onnx_opt::simplify
