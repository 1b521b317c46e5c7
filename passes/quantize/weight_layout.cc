#include "passes/quantize/weight_layout.h"

#include "absl/strings/str_cat.h"

namespace onnx_opt {

std::optional<WeightRole> FindWeightRole(const Node& node, int input_index, int64_t rank) {
  if (!node.domain.empty()) return std::nullopt;
  const std::string& op = node.op_type;
  if (op == "Conv" && input_index == 1 && rank >= 3) {
    // [M, C/g, k...]: output m reduces over everything after axis 0.
    return WeightRole{.axis = 1, .flatten_trailing = true, .channel_axis = 0};
  }
  if (op == "ConvTranspose" && input_index == 1 && rank >= 3) {
    // [C, M/g, k...]: every output element sums over the input channels C.
    return WeightRole{.axis = 0, .flatten_trailing = false, .channel_axis = 1};
  }
  if (op == "MatMul" && rank >= 2) {
    if (input_index == 1) return WeightRole{.axis = rank - 2, .channel_axis = rank - 1};
    if (input_index == 0) return WeightRole{.axis = rank - 1, .channel_axis = rank - 2};
  }
  if (op == "Gemm" && rank == 2) {
    if (input_index == 0) {
      bool trans_a = node.GetInt("transA").value_or(0) != 0;
      return trans_a ? WeightRole{.axis = 0, .channel_axis = 1}
                     : WeightRole{.axis = 1, .channel_axis = 0};
    }
    if (input_index == 1) {
      bool trans_b = node.GetInt("transB").value_or(0) != 0;
      return trans_b ? WeightRole{.axis = 1, .channel_axis = 0}
                     : WeightRole{.axis = 0, .channel_axis = 1};
    }
  }
  return std::nullopt;
}

WeightView ViewOf(const std::vector<int64_t>& dims, const WeightRole& role) {
  WeightView view;
  const int64_t rank = static_cast<int64_t>(dims.size());
  for (int64_t i = 0; i < role.axis; ++i) view.outer *= dims[i];
  if (role.flatten_trailing) {
    view.reduce = 1;
    for (int64_t i = role.axis; i < rank; ++i) view.reduce *= dims[i];
    return view;
  }
  view.reduce = dims[role.axis];
  for (int64_t i = role.axis + 1; i < rank; ++i) view.inner *= dims[i];
  return view;
}

int64_t LargestDivisorAtMost(int64_t length, int64_t limit) {
  for (int64_t d = std::min(length, limit); d > 1; --d) {
    if (length % d == 0) return d;
  }
  return 1;
}

std::optional<BlockGeometry> ChooseGeometry(const std::vector<int64_t>& dims,
                                            const WeightRole& role, Granularity granularity,
                                            int64_t block_size, RaggedPolicy ragged,
                                            std::string* skip_reason) {
  BlockGeometry geometry;
  geometry.view = ViewOf(dims, role);
  if (granularity == Granularity::kTensor) {
    geometry.view = WeightView{1, geometry.view.num_elements(), 1};
    geometry.block = geometry.view.reduce;
    return geometry;
  }
  if (granularity == Granularity::kChannel) {
    geometry.block = geometry.view.reduce;
    return geometry;
  }
  const int64_t reduce = geometry.view.reduce;
  geometry.block = block_size;
  if (reduce % block_size == 0) return geometry;
  switch (ragged) {
    case RaggedPolicy::kAllow:
      return geometry;
    case RaggedPolicy::kSkip:
      *skip_reason = "ragged";
      return std::nullopt;
    case RaggedPolicy::kDivisor:
      geometry.block = LargestDivisorAtMost(reduce, block_size);
      // A block of one element would store a scale per weight: larger than the float weight.
      if (geometry.block < 2) {
        *skip_reason = "no-divisor";
        return std::nullopt;
      }
      return geometry;
  }
  return geometry;
}

}  // namespace onnx_opt
