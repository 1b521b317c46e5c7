// Blockwise weight DequantizeLinear + MatMul => com.microsoft.MatMulNBits, for models already
// quantized with quantize-weights{format=qdq}: ORT then runs the packed kernel instead of a
// scalar blocked DequantizeLinear at every inference.
//
// The DQ must be opset-21 blocked along K (axis 0, block_size a power of two >= 16) over a 2-D
// constant [K, N] of int4/uint4/int8/uint8 codes with float scales [ceil(K/block), N] typed like
// the activation, zero points constant or absent. Signed codes are shifted by 2^(bits-1) into
// MatMulNBits' unsigned codes (zero points likewise), so the product is unchanged; zero points
// are stored only when some block's differs from 2^(bits-1). The packing is quant/matmul_nbits'
// (the one format=matmul-nbits uses) and so are the emitted initializers (emit_matmul_nbits.cc).
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "passes/core/utils.h"
#include "passes/integer/qoperator.h"
#include "passes/quantize/emitters.h"
#include "quant/matmul_nbits.h"

namespace onnx_opt::integer {
namespace {

// MatMulNBits' code widths: 4 and 8 bits, signed or not.
bool IsNBitsCodeType(DataType t) {
  return t == DataType::kInt4 || t == DataType::kUint4 || t == DataType::kInt8 ||
         t == DataType::kUint8;
}

class MatMulNBitsPattern : public RewritePattern {
 public:
  MatMulNBitsPattern(FusionLog& log, Model& model) : log_(log), model_(model) {}
  std::string_view name() const override { return "matmul-nbits"; }
  std::string_view root_op_type() const override { return "MatMul"; }

  absl::StatusOr<bool> MatchAndRewrite(Node& matmul, Rewriter& rewriter) override {
    Node* dq = DequantizeProducer(matmul.input(1));
    if (!matmul.domain.empty() || dq == nullptr || DequantizeProducer(matmul.input(0)) != nullptr) {
      return false;  // an activation DQ makes it a QLinearMatMul candidate instead
    }
    Refusal why = Refusal::kParams;
    std::optional<QuantParams> p = ReadQuantParams(*dq, &why);
    if (!p) return log_.Refuse(matmul, why);
    if (p->block_size == 0) return false;  // per-tensor / per-axis: not a blockwise weight
    const TensorPtr codes = GetConstantTensor(dq->input(0));
    if (codes == nullptr) return log_.Refuse(matmul, Refusal::kNotConstant);
    if (!IsNBitsCodeType(codes->type())) return log_.Refuse(matmul, Refusal::kTypes);
    const int bits = BitsPerElement(codes->type());
    const DataType a_type = matmul.input(0)->type.elem_type;
    if (a_type != DataType::kUndefined && a_type != p->scale_type) {
      return log_.Refuse(matmul, Refusal::kTypes);
    }
    if (codes->rank() != 2) return log_.Refuse(matmul, Refusal::kShapes);
    const int64_t k = codes->dims()[0];
    const int64_t n = codes->dims()[1];
    const int64_t block = p->block_size;
    const int64_t k_blocks = (k + block - 1) / block;
    if ((p->axis != 0 && p->axis != -2) || block < 16 || (block & (block - 1)) != 0 ||
        p->scale_dims != std::vector<int64_t>{k_blocks, n}) {
      return log_.Refuse(matmul, Refusal::kParams);
    }
    if (auto it = packed_.find(dq); it != packed_.end()) {
      return Replace(matmul, *dq, it->second.first, it->second.second, rewriter);
    }
    absl::StatusOr<std::vector<int64_t>> values = codes->ToInt64s();
    if (!values.ok()) return values.status();
    const bool is_signed = codes->type() == DataType::kInt4 || codes->type() == DataType::kInt8;
    const int32_t shift = is_signed ? 1 << (bits - 1) : 0;
    std::vector<uint8_t> unsigned_codes(values->size());
    for (size_t i = 0; i < values->size(); ++i) {
      unsigned_codes[i] = static_cast<uint8_t>((*values)[i] + shift);
    }
    std::vector<int32_t> zero_points(p->zero_points.size());
    bool default_zero_points = true;
    for (size_t i = 0; i < zero_points.size(); ++i) {
      zero_points[i] = static_cast<int32_t>(p->zero_points[i] + shift);
      default_zero_points = default_zero_points && zero_points[i] == 1 << (bits - 1);
    }

    absl::StatusOr<quant::MatMulNBitsWeight> packed = quant::PackMatMulNBits(
        bits, block, k, n, unsigned_codes, p->scales, zero_points, !default_zero_points);
    if (!packed.ok()) return packed.status();
    NBitsWeight weight{*std::move(packed), p->scale_type};
    int64_t bytes = 0;
    const std::string base = dq->input(0)->name();
    absl::StatusOr<MatMulNBitsInputs> inputs =
        EmitMatMulNBitsInputs(weight, EmitSite{rewriter.graph(), &matmul, base}, &bytes);
    if (!inputs.ok()) return inputs.status();
    // A weight shared by several MatMuls is packed once.
    auto [it, inserted] = packed_.emplace(dq, std::make_pair(std::move(weight), *inputs));
    return Replace(matmul, *dq, it->second.first, it->second.second, rewriter);
  }

 private:
  absl::StatusOr<bool> Replace(Node& matmul, Node& dq, const NBitsWeight& weight,
                               const MatMulNBitsInputs& inputs, Rewriter& rewriter) {
    const Node* key = &matmul;
    const std::string out_name = matmul.output(0)->name();
    if (absl::Status s = ReplaceWithMatMulNBits(matmul, weight, inputs); !s.ok()) return s;
    // The node was replaced outside the rewriter: tell it, so the new node and the DQ (dead
    // unless shared) are visited.
    Value* out = rewriter.graph().FindLocalValue(out_name);
    if (out != nullptr && out->producer() != nullptr) rewriter.NotifyChanged(out->producer());
    rewriter.Enqueue(&dq);
    if (!model_.OpsetVersion("com.microsoft")) model_.SetOpsetVersion("com.microsoft", 1);
    log_.Fused(key, Fusion::kMatMulNBits);
    return true;
  }

  FusionLog& log_;
  Model& model_;
  absl::flat_hash_map<const Node*, std::pair<NBitsWeight, MatMulNBitsInputs>> packed_;
};

}  // namespace

std::unique_ptr<RewritePattern> CreateMatMulNBitsPattern(FusionLog& log, Model& model) {
  return std::make_unique<MatMulNBitsPattern>(log, model);
}

}  // namespace onnx_opt::integer
