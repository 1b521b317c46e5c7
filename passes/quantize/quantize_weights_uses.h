// Which users of a weight one quantize-weights run serves, and in which graph form.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <vector>

#include "ir/ir.h"
#include "passes/quantize/quant_formats.h"
#include "passes/quantize/quantize_weights_options.h"
#include "passes/quantize/weight_layout.h"

namespace onnx_opt {

// True when input `index` of `node` is a weight input already rebuilt from integers: the output
// of DequantizeLinear, or of the Reshape/Transpose quantize-weights puts after it.
bool IsDequantizedWeight(const Node& node, int index);

struct HandledUse {
  Node* node;
  int input_index;
};

// The users of a constant weight the pass quantizes for, all with the first user's reduction
// layout (`role`), split by graph form, with the counts of the uses left out and why.
struct WeightUses {
  std::optional<WeightRole> role;
  std::vector<HandledUse> all;      // in use-list order; the report names the first
  std::vector<HandledUse> nbits;    // 2-D MatMul B served by MatMulNBits
  std::vector<HandledUse> generic;  // served by `generic_format`
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

}  // namespace onnx_opt
