// The nodes and initializers quantize-activations writes: QuantizeLinear/DequantizeLinear pairs
// on activations, int8 (or uint8) per-channel weights behind a DequantizeLinear, int32 biases.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/integer/act_ranges.h"
#include "passes/integer/quantize_activations_gptq.h"

namespace onnx_opt {

// Erases `v` when it is an initializer or Constant output of `graph` that nothing reads.
void EraseIfUnusedConstant(Graph& graph, Value* v);

class QdqEmitter {
 public:
  // Records the order of `graph`'s nodes: new nodes go just before the first user of what they
  // read, so the order stays topological.
  explicit QdqEmitter(Graph& graph);

  // QuantizeLinear(quantize_input, q) -> DequantizeLinear(dq); every user of `value` but the
  // new QuantizeLinear (graph outputs included) reads the DequantizeLinear, and a graph output
  // keeps its name. quantize_input is `value` itself, or the start of a folded scalar chain.
  void InsertActivationQdq(Value* value, const QuantParams& dq, Value* quantize_input,
                           const QuantParams& q);

  // Replaces constant input `input` of `node` by DequantizeLinear(q, scales, zero points,
  // axis) of its per-channel quantized copy; returns the channel scales. A weight read by
  // several quantized nodes is quantized once. With a `gptq` (set_gptq), the codes are rounded
  // with the calibration file's Hessians where it has them; errors are bad calibration data.
  absl::StatusOr<std::vector<float>> QuantizeWeight(Node* node, int input, int64_t axis, int bits,
                                                    bool is_signed);
  void set_gptq(ChannelGptq* gptq) { gptq_ = gptq; }

  // Replaces constant bias input `input` of `node` by DequantizeLinear of its int32 copy with
  // scales input_scale * weight_scales[c].
  void QuantizeBias(Node* node, int input, float input_scale,
                    const std::vector<float>& weight_scales);

  // Removes the float initializers that nothing reads any more.
  void EraseUnusedConstants();

 private:
  Node* FirstUser(const Value* value) const;  // null: only graph outputs read it
  Value* Scalar(std::string_view hint, DataType type, int32_t value);
  Node* Create(std::string_view op, std::vector<Value*> inputs, Node* before, std::string_view hint,
               ValueType type);

  Graph& graph_;
  absl::flat_hash_map<const Node*, int64_t> position_;
  struct WeightDq {
    Value* output;
    std::vector<float> scales;
  };
  absl::flat_hash_map<const Value*, WeightDq> weights_;
  std::vector<Value*> replaced_constants_;
  ChannelGptq* gptq_ = nullptr;
};

}  // namespace onnx_opt
