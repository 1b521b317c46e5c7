// What the fuse-integer-ops patterns share: reading the constant parameters of QuantizeLinear /
// DequantizeLinear nodes, the reasons a candidate is left alone, and the pattern factories
// (qoperator_linear.cc, qoperator_contrib.cc, fuse_matmul_nbits.cc).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ir/ir.h"
#include "passes/core/rewrite.h"

namespace onnx_opt::integer {

// The constant parameters of one Q or DQ node.
struct QuantParams {
  Node* node = nullptr;
  Value* scale = nullptr;             // the constant scale input
  Value* zero_point = nullptr;        // null when absent (zero)
  DataType qtype = DataType::kUint8;  // element type of the quantized side
  DataType scale_type = DataType::kFloat;
  std::vector<float> scales;
  std::vector<int64_t> zero_points;  // one per scale (zeros when absent)
  std::vector<int64_t> scale_dims;
  int64_t axis = 1;        // the attribute (ONNX default 1), meaningful when per-axis or blocked
  int64_t block_size = 0;  // opset-21 blocked quantization, 0 otherwise
  bool per_tensor() const { return scales.size() == 1 && block_size == 0; }
  bool is_8bit() const { return qtype == DataType::kUint8 || qtype == DataType::kInt8; }
};

// Why a candidate (a float op whose float inputs all come from DequantizeLinear) was not fused.
enum class Refusal {
  kNotConstant,   // a scale or zero point is computed at run time
  kParams,        // parameters the fused op cannot take (per-axis activations, float16 scales,
                  // blocked weights where per-channel is needed, unequal weight zero points)
  kTypes,         // element types the fused op or ONNX Runtime's kernel does not take
  kShapes,        // ranks or dims the fused op does not take, or unknown where needed
  kNotQuantized,  // the output does not go to exactly one QuantizeLinear
  kCount,
};
// The fused forms, for the pass's statistics.
enum class Fusion {
  kQLinearConv,
  kQLinearMatMul,
  kQGemm,
  kQLinearAdd,
  kQLinearMul,
  kQLinearSigmoid,
  kQLinearGlobalAveragePool,
  kQLinearAveragePool,
  kQLinearConcat,
  kMatMulNBits,
  kCount,
};

// Counts fusions, and the last reason each refused node was left alone (a node is offered to a
// pattern many times by the greedy driver; it counts once).
class FusionLog {
 public:
  // `node` is only a key here (the fused op is erased by then).
  void Fused(const Node* node, Fusion kind) {
    refused_.erase(node);
    ++fused_[static_cast<size_t>(kind)];
  }
  // Returns false, so a pattern can `return log.Refuse(node, why);`.
  bool Refuse(const Node& node, Refusal why) {
    refused_[&node] = why;
    return false;
  }
  int64_t fused(Fusion kind) const { return fused_[static_cast<size_t>(kind)]; }
  std::array<int64_t, static_cast<size_t>(Refusal::kCount)> RefusalCounts() const;

 private:
  std::array<int64_t, static_cast<size_t>(Fusion::kCount)> fused_{};
  absl::flat_hash_map<const Node*, Refusal> refused_;
};

// The default-domain DequantizeLinear producing `value` in the same graph, or null.
Node* DequantizeProducer(const Value* value);
// The QuantizeLinear that is the only user of `value` (not a graph output), or null.
Node* SoleQuantizeUser(const Value* value);

// Where an op's output is quantized: its only user `q`, or `q` after a Relu that is the only
// user (`relu`), when q's constant zero point is its type's minimum, so that saturating at the
// zero point clips exactly what the Relu would (ONNX Runtime folds such a Relu the same way).
struct OutputQuantize {
  Node* q = nullptr;
  Node* relu = nullptr;
};
std::optional<OutputQuantize> FindOutputQuantize(const Node& op);

// Reads a Q/DQ node's parameters; nullopt with `why` set when they are not constants of a type
// the QLinear ops take (float32 scales, 4/8-bit integer codes).
std::optional<QuantParams> ReadQuantParams(Node& node, Refusal* why);

// The scale of `p` as a rank-0 initializer (the com.microsoft ops require scalars): the value
// itself when it already is one.
Value* ScalarScale(Graph& graph, const QuantParams& p);
// The zero point of `p` as a rank-0 constant of its type (a new zero constant when absent).
Value* ScalarZeroPoint(Graph& graph, const QuantParams& p);
// The zero point input, created as zeros of qtype shaped like the scale when absent.
Value* ZeroPointOrZeros(Graph& graph, const QuantParams& p);
// A weight's scale and zero point inputs: scalars when per tensor, else as stored (zeros shaped
// like the scale when the zero point is absent).
Value* WeightScale(Graph& graph, const QuantParams& p);
Value* WeightZeroPoint(Graph& graph, const QuantParams& p);

// Copies `from`'s int, ints, float, floats and string attributes to `to` (all of Conv's and the
// pooling ops').
void CopyPlainAttributes(const Node& from, Node& to);

// Replaces the output Q of `float_op` by `fused_out`, erasing the Q, the Relu between them (if
// any) and the float op; `fused_out` takes the Q output's name and type.
absl::Status ReplaceQuantizedOutput(Rewriter& rewriter, const OutputQuantize& out, Node* float_op,
                                    Value* fused_out);

// Pattern factories. `model` receives the com.microsoft opset import when a contrib op is made.
std::unique_ptr<RewritePattern> CreateQLinearConvPattern(FusionLog& log);
// `constant_b_only`: a MatMul whose B codes are not a constant (activation x activation) is left
// alone (refused as not constant): OpenCV 4.12's QLinearMatMul takes constant B only.
std::unique_ptr<RewritePattern> CreateQLinearMatMulPattern(FusionLog& log, bool constant_b_only);
std::unique_ptr<RewritePattern> CreateQGemmPattern(FusionLog& log, Model& model);
// Add, Mul, Sigmoid, GlobalAveragePool, AveragePool, Concat.
std::vector<std::unique_ptr<RewritePattern>> CreateContribPatterns(FusionLog& log, Model& model);
std::unique_ptr<RewritePattern> CreateMatMulNBitsPattern(FusionLog& log, Model& model);

}  // namespace onnx_opt::integer
