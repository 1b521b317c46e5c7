#include "passes/quantize/select_uses.h"

#include <algorithm>
#include <string>

#include "passes/core/utils.h"
#include "passes/quantize/emitters.h"

namespace onnx_opt {

bool IsDequantizedWeight(const Node& node, int index) {
  const Value* in = node.input(index);
  if (in == nullptr || !FindWeightRole(node, index, node.Is("MatMul") || node.Is("Gemm") ? 2 : 4))
    return false;
  const Node* producer = in->producer();
  while (producer != nullptr && (producer->Is("Reshape") || producer->Is("Transpose")) &&
         producer->input(0) != nullptr) {
    producer = producer->input(0)->producer();
  }
  return producer != nullptr && producer->Is("DequantizeLinear");
}

WeightUses SelectWeightUses(const Value& weight, const Tensor& tensor,
                            const QuantizeWeightsOptions& options, const std::regex* exclude,
                            int64_t opset) {
  WeightUses out;
  for (const Use& use : weight.uses()) {
    if (!options.HandlesOp(*use.node)) continue;
    std::optional<WeightRole> r = FindWeightRole(*use.node, use.input_index, tensor.rank());
    if (!r) continue;
    if (exclude != nullptr && std::regex_search(use.node->name, *exclude)) {
      ++out.excluded;
      continue;
    }
    if (out.role && *r != *out.role) {
      ++out.layout_conflict;
      continue;
    }
    out.role = r;
    out.all.push_back({use.node, use.input_index});
  }
  if (options.format() == QuantFormat::kPostScale) {
    out.generic_format = QuantFormat::kPostScale;
    for (const WeightUse& use : out.all) {
      if (PostScaleHandles(*use.node, use.input_index, tensor.rank())) {
        out.generic.push_back(use);
      } else {
        ++out.format_refused;  // Gemm, ConvTranspose, a computed Conv bias
      }
    }
    return out;
  }
  for (const WeightUse& use : out.all) {
    const bool nbits = options.format() == QuantFormat::kMatMulNBits && use.node->Is("MatMul") &&
                       use.input_index == 1 && tensor.rank() == 2 &&
                       tensor.type() != DataType::kBFloat16;
    (nbits ? out.nbits : out.generic).push_back(use);
  }
  out.generic_format = options.format();
  if (out.generic_format == QuantFormat::kMatMulNBits) {
    out.generic_format = QuantFormat::kQdq;
    if (opset < 21 && !out.generic.empty()) {
      out.format_refused = static_cast<int64_t>(out.generic.size());
      out.generic.clear();
    }
  }
  return out;
}

WeightKey KeyOf(const Graph& graph, const Value& weight) {
  return WeightKey{GraphDebugName(graph), weight.name()};
}

WeightSelection SelectWeight(Value* value, const Graph& graph,
                             const QuantizeWeightsOptions& options, const WeightFilter& filter) {
  WeightSelection out;
  TensorPtr tensor = GetConstantTensor(value);
  if (tensor == nullptr) return out;
  if (filter.weights && !std::regex_search(value->name(), *filter.weights)) return out;
  WeightUses uses = SelectWeightUses(*value, *tensor, options, filter.exclude, filter.opset);
  out.excluded = uses.excluded;
  out.layout_conflict = uses.layout_conflict;
  if (uses.all.empty()) return out;
  const DataType type = tensor->type();
  if (type != DataType::kFloat && type != DataType::kFloat16 && type != DataType::kBFloat16) {
    out.skip = WeightSkip::kNotFloat;
    return out;
  }
  if (tensor->num_elements() < options.MinElements()) {
    out.skip = WeightSkip::kSmall;
    return out;
  }
  std::string skip_reason;
  std::optional<BlockGeometry> geometry =
      ChooseGeometry(tensor->dims(), *uses.role, options.granularity(), options.block_size.value(),
                     options.ragged(), &skip_reason);
  if (!geometry) {
    out.skip = WeightSkip::kRagged;
    return out;
  }
  out.format_refused = uses.format_refused;
  if (uses.empty()) return out;
  out.weight =
      SelectedWeight{value, std::move(tensor), KeyOf(graph, *value), std::move(uses), *geometry};
  return out;
}

}  // namespace onnx_opt
