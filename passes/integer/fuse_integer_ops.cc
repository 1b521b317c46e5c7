// fuse-integer-ops: rewrites QDQ graphs into QOperator form (integer ops that take their
// quantization parameters as inputs), for runtimes that do not fuse QDQ themselves (OpenCV's
// int8 engine), and blockwise weight DQ + MatMul into com.microsoft.MatMulNBits.
//
// Before:
//   main (uint8[1,2,4,4] xq) => (uint8[1,3,4,4] yq)
//   <float xs = {0.02}, uint8 xz = {128}, int8[3,2,1,1] wq = {...}, float[3] ws = {...},
//    int32[3] bq = {...}, float[3] bs = {...}, float ys = {0.05}, uint8 yz = {128}>
//   {
//     x = DequantizeLinear (xq, xs, xz)
//     w = DequantizeLinear <axis = 0> (wq, ws)
//     b = DequantizeLinear <axis = 0> (bq, bs)
//     y = Conv (x, w, b)
//     yq = QuantizeLinear (y, ys, yz)
//   }
// After:
//   main (uint8[1,2,4,4] xq) => (uint8[1,3,4,4] yq)
//   <float xs = {0.02}, uint8 xz = {128}, int8[3,2,1,1] wq = {...}, float[3] ws = {...},
//    int8[3] w_zero_point = {0, 0, 0}, int32[3] bq = {...}, float ys = {0.05}, uint8 yz = {128}>
//   {
//     yq = QLinearConv (xq, xs, xz, wq, ws, w_zero_point, ys, yz, bq)
//   }
// Likewise MatMul => QLinearMatMul; Add, Mul, Sigmoid, GlobalAveragePool, Concat => the
// com.microsoft QLinear* ops; and MatMul(x, DequantizeLinear<axis=0, block_size=32>(int4 w, s))
// => com.microsoft.MatMulNBits(x, packed, scales). Candidates whose parameters are not constant
// or do not fit are left alone and counted by reason.
#include <memory>
#include <vector>

#include "passes/core/pass.h"
#include "passes/core/pattern_pass.h"
#include "passes/core/rewrite.h"
#include "passes/integer/qoperator.h"

namespace onnx_opt {
namespace {

using integer::Fusion;
using integer::FusionLog;

class FuseIntegerOpsPass : public Pass {
 public:
  std::string_view name() const override { return "fuse-integer-ops"; }
  std::string_view summary() const override {
    return "Fuse DequantizeLinear -> op -> QuantizeLinear into QLinear* ops, and blockwise weight "
           "DequantizeLinear + MatMul into MatMulNBits";
  }
  std::string_view description() const override {
    return "ops=qlinear: DQ->Conv->Q => QLinearConv (bias re-quantized to int32 at x_scale * "
           "w_scale[c]), DQ->MatMul->Q => QLinearMatMul and, with contrib=true, the "
           "com.microsoft QGemm (alpha = beta = 1), QLinearAdd, QLinearMul, QLinearSigmoid, "
           "QLinearGlobalAveragePool, "
           "QLinearAveragePool and QLinearConcat (a Relu before the output Q is folded when "
           "that Q's zero point is its type's minimum): the QOperator model OpenCV's int8 engine "
           "reads. Activations "
           "per tensor, Conv weights per tensor or per output channel with one zero point, "
           "MatMul B per tensor or per column, uint8/int8 as ONNX Runtime's kernels take them "
           "(int8 activations need int8 weights); matmul-b=constant leaves a MatMul whose B is "
           "computed (activation x activation) unfused, for OpenCV 4.12. ops=nbits: MatMul whose B "
           "is an opset-21 DequantizeLinear blocked along K (int4/uint4/int8/uint8, block a power "
           "of two >= "
           "16, float32 scales) => com.microsoft.MatMulNBits with the same codes, scales and "
           "zero points, as quantize-weights{format=qdq} writes them. Every candidate left "
           "alone is counted under the reason (statistics refused-*).";
  }
  PassConvergence convergence() const override { return PassConvergence::kIdempotent; }

  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    FusionLog log;
    std::vector<std::unique_ptr<RewritePattern>> patterns;
    // A function body has its own opset imports: only the default-domain forms go there.
    const bool function_body = &graph != model.graph.get() && graph.parent_node() == nullptr;
    const bool qlinear = ops_.value() != "nbits";
    const bool nbits = ops_.value() != "qlinear" && !function_body;
    if (qlinear) {
      patterns.push_back(integer::CreateQLinearConvPattern(log));
      patterns.push_back(integer::CreateQLinearMatMulPattern(log, matmul_b_.value() == "constant"));
      if (contrib_.value() && !function_body) {
        patterns.push_back(integer::CreateQGemmPattern(log, model));
        for (auto& p : integer::CreateContribPatterns(log, model)) patterns.push_back(std::move(p));
      }
    }
    if (nbits) patterns.push_back(integer::CreateMatMulNBitsPattern(log, model));
    // Initializers only a replaced Q/DQ used (float biases, int32 codes re-scaled) go too.
    std::vector<Value*> used_initializers;
    for (Value* v : graph.initializers()) {
      if (v->has_uses()) used_initializers.push_back(v);
    }
    // Erases the Q/DQ nodes and float ops a fusion replaced.
    absl::StatusOr<bool> changed = ApplyPatternsToGraph(graph, patterns);
    if (!changed.ok()) return changed.status();
    for (Value* v : used_initializers) {
      if (!v->has_uses() && !v->is_graph_output() && !v->is_graph_input()) {
        if (absl::Status s = graph.EraseValue(v); !s.ok()) return s;
      }
    }
    conv_ += log.fused(Fusion::kQLinearConv);
    matmul_ += log.fused(Fusion::kQLinearMatMul);
    gemm_ += log.fused(Fusion::kQGemm);
    add_ += log.fused(Fusion::kQLinearAdd);
    mul_ += log.fused(Fusion::kQLinearMul);
    sigmoid_ += log.fused(Fusion::kQLinearSigmoid);
    pool_ += log.fused(Fusion::kQLinearGlobalAveragePool);
    avg_pool_ += log.fused(Fusion::kQLinearAveragePool);
    concat_ += log.fused(Fusion::kQLinearConcat);
    nbits_ += log.fused(Fusion::kMatMulNBits);
    const auto refused = log.RefusalCounts();
    for (size_t i = 0; i < refused.size(); ++i) *refused_[i] += refused[i];
    return absl::OkStatus();
  }

 private:
  PassOption<std::string> ops_{this,
                               "ops",
                               "Which fusions: qlinear (QOperator forms), nbits (MatMulNBits) "
                               "or all",
                               "all",
                               {"qlinear", "nbits", "all"}};
  PassOption<bool> contrib_{
      this, "contrib",
      "With qlinear: also the com.microsoft QGemm and QLinearAdd/Mul/Sigmoid/"
      "GlobalAveragePool/AveragePool/Concat forms (ONNX Runtime and OpenCV read them)",
      true};
  PassOption<std::string> matmul_b_{
      this,
      "matmul-b",
      "With qlinear: which MatMuls become QLinearMatMul: any, or constant (B's codes a constant; "
      "OpenCV 4.12 reads no QLinearMatMul with computed B)",
      "any",
      {"any", "constant"}};
  PassStatistic conv_{this, "qlinear-conv", "Conv fused into QLinearConv"};
  PassStatistic matmul_{this, "qlinear-matmul", "MatMul fused into QLinearMatMul"};
  PassStatistic gemm_{this, "qgemm", "Gemm fused into com.microsoft.QGemm"};
  PassStatistic add_{this, "qlinear-add", "Add fused into com.microsoft.QLinearAdd"};
  PassStatistic mul_{this, "qlinear-mul", "Mul fused into com.microsoft.QLinearMul"};
  PassStatistic sigmoid_{this, "qlinear-sigmoid",
                         "Sigmoid fused into com.microsoft.QLinearSigmoid"};
  PassStatistic pool_{this, "qlinear-global-average-pool",
                      "GlobalAveragePool fused into com.microsoft.QLinearGlobalAveragePool"};
  PassStatistic avg_pool_{this, "qlinear-average-pool",
                          "AveragePool fused into com.microsoft.QLinearAveragePool"};
  PassStatistic concat_{this, "qlinear-concat", "Concat fused into com.microsoft.QLinearConcat"};
  PassStatistic nbits_{this, "matmul-nbits", "MatMul with a blockwise DQ weight to MatMulNBits"};
  PassStatistic not_constant_{this, "refused-not-constant",
                              "Candidates left alone: a scale or zero point is not a constant (or, "
                              "with matmul-b=constant, a MatMul's B)"};
  PassStatistic params_{this, "refused-params",
                        "Candidates left alone: per-axis activations, float16 scales, blocked or "
                        "unequal-zero-point weights the fused op cannot take"};
  PassStatistic types_{this, "refused-types",
                       "Candidates left alone: element types the fused op or ORT does not take"};
  PassStatistic shapes_{this, "refused-shapes",
                        "Candidates left alone: ranks or dims the fused op does not take"};
  PassStatistic not_quantized_{this, "refused-output-not-quantized",
                               "Candidates left alone: the output has users other than one "
                               "QuantizeLinear"};
  PassStatistic* refused_[static_cast<size_t>(integer::Refusal::kCount)] = {
      &not_constant_, &params_, &types_, &shapes_, &not_quantized_};
};

}  // namespace

std::unique_ptr<Pass> CreateFuseIntegerOpsPass() { return std::make_unique<FuseIntegerOpsPass>(); }

}  // namespace onnx_opt
