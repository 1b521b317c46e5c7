// format=matmul-nbits: com.microsoft.MatMulNBits in place of a 2-D MatMul, its packed inputs as
// initializers.
#include "passes/quantize/emit_builder.h"
#include "passes/quantize/emitters.h"

namespace onnx_opt {

absl::StatusOr<MatMulNBitsInputs> EmitMatMulNBitsInputs(const NBitsWeight& weight,
                                                        const EmitSite& site, int64_t* bytes) {
  Builder b(site, bytes);
  const quant::MatMulNBitsWeight& p = weight.packed;
  MatMulNBitsInputs out;
  out.packed = b.Initializer("_nbits", DataType::kUint8, {p.n, p.k_blocks, p.blob_size}, p.b);
  out.scales = b.Initializer("_nbits_scale", weight.float_type, {p.n * p.k_blocks},
                             quant::EncodeScales(p.scales, KernelFloatType(weight.float_type)));
  if (!p.zero_points.empty()) {
    out.zero_points = b.Initializer("_nbits_zp", DataType::kUint8, {p.n * p.zero_point_row_bytes()},
                                    p.zero_points);
  }
  return out;
}

absl::Status ReplaceWithMatMulNBits(Node& matmul, const NBitsWeight& weight,
                                    const MatMulNBitsInputs& packed) {
  const quant::MatMulNBitsWeight& p = weight.packed;
  Graph& graph = *matmul.graph();
  std::vector<Value*> inputs = {matmul.input(0), packed.packed, packed.scales};
  if (packed.zero_points != nullptr) inputs.push_back(packed.zero_points);
  Value* old_out = matmul.output(0);
  Node* nbits = graph.CreateNode("MatMulNBits", inputs, 1, &matmul, "com.microsoft",
                                 {absl::StrCat(old_out->name(), "_nbits")});
  nbits->name = matmul.name;
  nbits->SetAttribute(Attribute::Int("K", p.k));
  nbits->SetAttribute(Attribute::Int("N", p.n));
  nbits->SetAttribute(Attribute::Int("bits", p.bits));
  nbits->SetAttribute(Attribute::Int("block_size", p.block_size));
  Value* new_out = nbits->output(0);
  new_out->type = old_out->type;
  old_out->ReplaceAllUsesWith(new_out);
  std::string name = old_out->name();
  if (absl::Status s = graph.EraseNode(&matmul); !s.ok()) return s;
  new_out->set_name(name);
  return absl::OkStatus();
}

}  // namespace onnx_opt
