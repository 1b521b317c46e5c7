// Where the reduction axis of a weight lies for the ops quantize-weights handles, and the block
// geometry along it.
//
// Every weight is seen as a 3-D view [outer, reduce, inner] of its row-major data: `reduce` is the
// length of the reduction axis (for Conv, the flattened C/g*kh*kw), `outer` and `inner` the
// products of the dimensions before and after it. Blocks of `block` consecutive elements run along
// `reduce`; the last block may be shorter (ragged). Scales are laid out [outer, num_blocks, inner].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace onnx_opt {

// The role of a constant feeding `node` at `input_index` of a weight of `rank` dimensions.
struct WeightRole {
  int64_t axis = 0;               // reduction axis in the original dimensions
  bool flatten_trailing = false;  // Conv: dimensions axis..rank-1 form one reduction axis
  int64_t channel_axis = 0;       // output-channel axis (per-channel granularity)
  friend bool operator==(const WeightRole&, const WeightRole&) = default;
};

// The role of input `input_index` of `node` when it is a weight input of Conv, ConvTranspose,
// MatMul (either side) or Gemm (A or B, honouring transA/transB); nullopt for any other input
// (biases, data inputs) or op, or for a rank the op cannot take.
std::optional<WeightRole> FindWeightRole(const Node& node, int input_index, int64_t rank);

struct WeightView {
  int64_t outer = 1;
  int64_t reduce = 1;
  int64_t inner = 1;
  int64_t num_elements() const { return outer * reduce * inner; }
};

WeightView ViewOf(const std::vector<int64_t>& dims, const WeightRole& role);

enum class Granularity { kBlock, kChannel, kTensor };
enum class RaggedPolicy { kAllow, kDivisor, kSkip };

// Block geometry of one weight: view plus block length along `reduce`.
struct BlockGeometry {
  WeightView view;
  int64_t block = 1;
  int64_t num_blocks() const { return (view.reduce + block - 1) / block; }
  bool ragged() const { return view.reduce % block != 0; }
};

// The largest divisor of `length` that is not above `limit` (at least 1).
int64_t LargestDivisorAtMost(int64_t length, int64_t limit);

// Chooses the block for a weight. Per-tensor quantization is one block covering the whole
// tensor viewed as [1, N, 1]; per-channel is one block per reduction. Returns nullopt (with
// `skip_reason` set) when the policy says to leave the weight alone.
std::optional<BlockGeometry> ChooseGeometry(const std::vector<int64_t>& dims,
                                            const WeightRole& role, Granularity granularity,
                                            int64_t block_size, RaggedPolicy ragged,
                                            std::string* skip_reason);

}  // namespace onnx_opt
