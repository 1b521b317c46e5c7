// The select stage of quantize-weights: which constant weights a run quantizes, for which of
// their users, and in which graph form; and why a weight is left alone.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <vector>

#include "ir/ir.h"
#include "passes/quantize/quantize_weights_options.h"
#include "passes/quantize/quantized_weight.h"
#include "passes/quantize/weight.h"
#include "passes/quantize/weight_layout.h"

namespace onnx_opt {

// True when input `index` of `node` is a weight input already rebuilt from integers: the output
// of DequantizeLinear, or of the Reshape/Transpose quantize-weights puts after it.
bool IsDequantizedWeight(const Node& node, int index);

// The users of a constant weight the pass quantizes for, all with the first user's reduction
// layout (`role`), split by graph form, with the counts of the uses left out and why.
struct WeightUses {
  std::optional<WeightRole> role;
  std::vector<WeightUse> all;      // in use-list order; the report names the first
  std::vector<WeightUse> nbits;    // 2-D MatMul B served by MatMulNBits
  std::vector<WeightUse> generic;  // served by `generic_format`
  QuantFormat generic_format = QuantFormat::kQdq;
  int64_t excluded = 0;         // users matching `exclude`
  int64_t layout_conflict = 0;  // users needing another reduction axis
  int64_t format_refused = 0;   // users the format cannot express at this opset

  // True when no use is left to serve.
  bool empty() const { return nbits.empty() && generic.empty(); }
};

// The uses of `weight` (holding `tensor`) by ops the options handle. With format=matmul-nbits,
// users MatMulNBits cannot serve fall back to qdq where the opset allows.
WeightUses SelectWeightUses(const Value& weight, const Tensor& tensor,
                            const QuantizeWeightsOptions& options, const std::regex* exclude,
                            int64_t opset);

// A weight the later stages quantize: its value, tensor, uses and block geometry at the
// configured precision.
struct SelectedWeight {
  Value* value = nullptr;
  TensorPtr tensor;
  WeightKey key;
  WeightUses uses;
  BlockGeometry geometry;
};

// Why a weight with handled uses is left alone (each has a statistic of the pass).
enum class WeightSkip { kNone, kNotFloat, kSmall, kRagged };

// The select stage's answer for one value: the weight when there is something to quantize, and
// the counts behind the pass's skip statistics.
struct WeightSelection {
  std::optional<SelectedWeight> weight;
  WeightSkip skip = WeightSkip::kNone;
  int64_t excluded = 0;
  int64_t layout_conflict = 0;
  int64_t format_refused = 0;
};

// What selects weights besides the options: the compiled `exclude` / `weights` expressions
// (null when empty) and the model's default opset.
struct WeightFilter {
  const std::regex* exclude = nullptr;
  const std::regex* weights = nullptr;
  int64_t opset = 0;
};

// Selects `value` (a value of `graph`) when it is a constant float weight the options quantize.
WeightSelection SelectWeight(Value* value, const Graph& graph,
                             const QuantizeWeightsOptions& options, const WeightFilter& filter);

}  // namespace onnx_opt
