// dequantize-weights: folds DequantizeLinear nodes whose inputs are all constants (per-tensor,
// per-axis or blocked, any integer type including int4/uint4) into float initializers, and turns
// com.microsoft.MatMulNBits with constant weights back into MatMul.
//
// Before:
//   w_q = int4[64, 16] {...}
//   w_scale = float[2, 16] {...}
//   w_dq = DequantizeLinear<axis = 0, block_size = 32>(w_q, w_scale)
//   y = MatMul(x, w_dq)
// After:
//   w_dq = float[64, 16] {...}
//   y = MatMul(x, w_dq)
//
// The result is the original model with each weight replaced by the values the quantized model
// computes with, which is how the tests prove quantize-weights changes nothing but the weights.
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/core/pass.h"
#include "passes/core/utils.h"
#include "quant/matmul_nbits.h"
#include "quant/qdq.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt {
namespace {

quant::FloatType FloatTypeOf(DataType type) {
  return type == DataType::kFloat16    ? quant::FloatType::kFloat16
         : type == DataType::kBFloat16 ? quant::FloatType::kBFloat16
                                       : quant::FloatType::kFloat32;
}

// DequantizeLinear(x, scale, zero_point) as raw bytes of the scale's type, or an error for
// forms this pass leaves alone (int32, float8, output_dtype).
absl::StatusOr<std::vector<uint8_t>> Dequantize(const Node& dq, const Tensor& x,
                                                const Tensor& scale, const Tensor* zero_point) {
  std::optional<quant::QType> qtype = quant::QTypeFromOnnx(static_cast<int32_t>(x.type()));
  if (!qtype) return absl::UnimplementedError("integer type without a quant kernel");
  if (dq.GetInt("output_dtype").value_or(0) != 0) {
    return absl::UnimplementedError("output_dtype");
  }
  absl::StatusOr<quant::QdqLayout> layout = quant::MakeQdqLayout(
      x.dims(), scale.dims(), dq.GetInt("axis").value_or(1), dq.GetInt("block_size").value_or(0));
  if (!layout.ok()) return layout.status();
  return quant::DequantizeLinear(*layout, *qtype, x.bytes(),
                                 quant::FloatBytes{FloatTypeOf(scale.type()), scale.bytes()},
                                 zero_point ? zero_point->bytes() : std::span<const uint8_t>());
}

// B [K, N] of MatMulNBits(A, B, scales[, zero_points]) as float bytes of the scales' type.
absl::StatusOr<std::vector<uint8_t>> DequantizeNBits(const Node& node, const Tensor& b,
                                                     const Tensor& scales,
                                                     const Tensor* zero_points) {
  quant::MatMulNBitsWeight w;
  w.k = node.GetInt("K").value_or(0);
  w.n = node.GetInt("N").value_or(0);
  w.bits = static_cast<int>(node.GetInt("bits").value_or(4));
  w.block_size = node.GetInt("block_size").value_or(0);
  if (w.k <= 0 || w.n <= 0 || w.block_size <= 0 || (w.bits != 4 && w.bits != 8)) {
    return absl::InvalidArgumentError("unsupported MatMulNBits attributes");
  }
  w.k_blocks = (w.k + w.block_size - 1) / w.block_size;
  w.blob_size = w.block_size * w.bits / 8;
  if (b.type() != DataType::kUint8 || b.bytes().size() != size_t(w.n * w.k_blocks * w.blob_size) ||
      scales.num_elements() != w.n * w.k_blocks ||
      (zero_points && (zero_points->type() != DataType::kUint8 ||
                       zero_points->num_elements() != w.n * w.zero_point_row_bytes()))) {
    return absl::InvalidArgumentError("MatMulNBits inputs do not match K, N, bits, block_size");
  }
  w.b.assign(b.bytes().begin(), b.bytes().end());
  absl::StatusOr<std::vector<float>> scale_values = scales.ToFloats();
  if (!scale_values.ok()) return scale_values.status();
  w.scales = *std::move(scale_values);
  if (zero_points) w.zero_points.assign(zero_points->bytes().begin(), zero_points->bytes().end());
  absl::StatusOr<std::vector<float>> values = quant::DequantizeMatMulNBits(w);
  if (!values.ok()) return values.status();
  return quant::EncodeScales(*values, FloatTypeOf(scales.type()));
}

class DequantizeWeightsPass final : public Pass {
 public:
  std::string_view name() const override { return "dequantize-weights"; }
  std::string_view summary() const override {
    return "Fold constant DequantizeLinear (and MatMulNBits weights) into float initializers";
  }

  std::string_view description() const override {
    return "Replaces DequantizeLinear nodes with constant inputs by float initializers of the "
           "values they compute, and MatMulNBits with constant weights by MatMul, so a quantized "
           "model can be compared with the original holding the dequantized weights.";
  }

  absl::Status RunOnGraph(Graph& graph, Model& model) override {
    std::vector<Node*> candidates;
    for (const auto& node : graph.nodes()) {
      if (node->Is("DequantizeLinear") || node->Is("MatMulNBits", "com.microsoft")) {
        candidates.push_back(node.get());
      }
    }
    for (Node* node : candidates) {
      if (absl::Status s = Fold(graph, node); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Fold(Graph& graph, Node* node) {
    const bool nbits = node->Is("MatMulNBits", "com.microsoft");
    const size_t weight_inputs = nbits ? 4 : 3;
    std::vector<TensorPtr> constants;
    for (size_t i = nbits ? 1 : 0; i < weight_inputs; ++i) {
      Value* in = node->input(i);
      TensorPtr t = in ? GetConstantTensor(in) : nullptr;
      if (in != nullptr && t == nullptr) return absl::OkStatus();  // not constant: leave it
      constants.push_back(t);
    }
    // MatMulNBits with g_idx or bias stays as it is.
    if (nbits && node->inputs().size() > 4) return absl::OkStatus();
    if (constants[0] == nullptr || constants[1] == nullptr) return absl::OkStatus();
    const Tensor& scale = *constants[1];
    absl::StatusOr<std::vector<uint8_t>> bytes =
        nbits ? DequantizeNBits(*node, *constants[0], scale, constants[2].get())
              : Dequantize(*node, *constants[0], scale, constants[2].get());
    if (!bytes.ok()) {
      ++skipped_;
      return absl::OkStatus();
    }
    std::vector<int64_t> dims = constants[0]->dims();
    if (nbits) dims = {*node->GetInt("K"), *node->GetInt("N")};
    auto tensor =
        std::make_shared<Tensor>(scale.type(), dims, Buffer::FromVector(*std::move(bytes)));
    std::vector<Value*> inputs = node->inputs();
    Value* out = node->output(0);
    const std::string name = out->name();
    Value* folded =
        graph.AddInitializer(absl::StrCat(name, nbits ? "_b" : "_folded"), std::move(tensor));
    bytes_ += static_cast<int64_t>(folded->initializer()->bytes().size());
    ++folded_;
    if (nbits) {
      Node* matmul = graph.CreateNode("MatMul", {inputs[0], folded}, 1, node, "",
                                      {absl::StrCat(name, "_matmul")});
      matmul->name = node->name;
      matmul->output(0)->type = out->type;
      out->ReplaceAllUsesWith(matmul->output(0));
      if (absl::Status s = graph.EraseNode(node); !s.ok()) return s;
      matmul->output(0)->set_name(name);
      for (size_t i = 1; i < inputs.size(); ++i) EraseIfDead(inputs[i]);
      return absl::OkStatus();
    }
    out->ReplaceAllUsesWith(folded);
    if (absl::Status s = graph.EraseNode(node); !s.ok()) return s;
    folded->set_name(name);
    for (Value* in : inputs) EraseIfDead(in);
    return absl::OkStatus();
  }

  // Drops an input that folding left without users (initializer or Constant node).
  static void EraseIfDead(Value* v) {
    if (v == nullptr || IsValueUsed(v)) return;
    Graph* g = v->graph();
    if (v->is_initializer() && !v->is_graph_input()) {
      (void)g->EraseValue(v);
    } else if (v->producer() != nullptr && IsConstantNode(*v->producer())) {
      (void)g->EraseNode(v->producer());
    }
  }

  PassStatistic folded_{this, "nodes-folded", "DequantizeLinear/MatMulNBits nodes folded"};
  PassStatistic skipped_{this, "dequantize-skipped", "Constant DequantizeLinear forms not folded"};
  PassStatistic bytes_{this, "bytes-folded", "Bytes of the float initializers created"};
};

}  // namespace

std::unique_ptr<Pass> CreateDequantizeWeightsPass() {
  return std::make_unique<DequantizeWeightsPass>();
}

}  // namespace onnx_opt
