// Internal: how a block's scale and zero point are chosen: min/max, or the error-minimising
// searches of scale_search.cc. Not part of the public API.
#pragma once

#include <cmath>
#include <cstdint>

#include "quant/block_scales.h"

namespace onnx_opt::quant::internal {

// Error-minimising searches (scale_search.cc). x holds the block's n values contiguously.
template <QType Q>
BlockParams SearchParams(const float* x, int64_t n, float min_value, float max_value,
                         const BlockConfig& config);

template <QType Q>
inline BlockParams ChooseParams(const float* x, int64_t n, float min_value, float max_value,
                                const BlockConfig& config) {
  if (config.search == ScaleSearch::kMinMax || !std::isfinite(min_value) ||
      !std::isfinite(max_value)) {
    return MinMaxParams<Q>(min_value, max_value, config.symmetric, config.scale_type);
  }
  return SearchParams<Q>(x, n, min_value, max_value, config);
}

}  // namespace onnx_opt::quant::internal
