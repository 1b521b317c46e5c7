// The emit stage of quantize-weights: one emitter per graph form, each in its own file
// (emit_qdq.cc, emit_qdq_axis.cc, emit_arith.cc, emit_matmul_nbits.cc). docs/quantization.md
// shows the nodes each writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/quantize/quantized_weight.h"

namespace onnx_opt {

// New initializers and nodes are created in `graph` before `insert_before` (null: at the end).
struct EmitSite {
  Graph& graph;
  Node* insert_before;
  std::string name;  // base for new value names (the weight's name)
};

// Each Emit* builds the nodes that rebuild the weight (original shape and float type) from its
// quantized form and returns that value; `bytes` receives the size of the new initializers.
// An emitter may move the codes out of `weight` (EmitQdq does: weight.q.data is left empty).
using WeightEmitter = absl::StatusOr<Value*> (*)(QuantizedWeight& weight, const EmitSite& site,
                                                 int64_t* bytes);
absl::StatusOr<Value*> EmitQdq(QuantizedWeight& weight, const EmitSite& site, int64_t* bytes);
absl::StatusOr<Value*> EmitQdqAxis(QuantizedWeight& weight, const EmitSite& site, int64_t* bytes);
absl::StatusOr<Value*> EmitArith(QuantizedWeight& weight, const EmitSite& site, int64_t* bytes);

// format=post-scale: Cast(w_q) becomes input 1 of every user (Conv or MatMul), whose output is
// multiplied by the per-output-channel scales (and a Conv's bias added after that). A Conv bias
// it detaches goes to `detached_biases`, not erased here: the caller still walks a list of the
// graph's constants that may hold it.
absl::Status EmitPostScale(QuantizedWeight& weight, const EmitSite& site,
                           const std::vector<Node*>& users, int64_t* bytes,
                           std::vector<Value*>* detached_biases);
// Whether post-scale can rewrite this use: input 1 of MatMul (rank-2 weight) or of Conv with no
// bias or a constant one.
bool PostScaleHandles(const Node& node, int input_index, int64_t weight_rank);

// The emitter of a format that rebuilds the float weight (qdq, qdq-axis, arith). MatMulNBits
// replaces the node instead (below).
WeightEmitter GenericEmitter(QuantFormat format);

// The MatMulNBits inputs as initializers of the site's graph.
struct MatMulNBitsInputs {
  Value* packed = nullptr;
  Value* scales = nullptr;
  Value* zero_points = nullptr;  // null when the default (2^(bits-1)) holds
};
absl::StatusOr<MatMulNBitsInputs> EmitMatMulNBitsInputs(const NBitsWeight& weight,
                                                        const EmitSite& site, int64_t* bytes);
// Replaces `matmul` (whose input 1 is the weight) by com.microsoft.MatMulNBits.
absl::Status ReplaceWithMatMulNBits(Node& matmul, const NBitsWeight& weight,
                                    const MatMulNBitsInputs& inputs);

}  // namespace onnx_opt
