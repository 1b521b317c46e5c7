#include "passes/simplify/libonnx_guards.h"

#include <cstddef>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"

namespace onnx_opt {
namespace {

// The rank of input `index`, or -1 when it has no tensor type with a shape.
int RankOf(const onnx::InferenceContext& ctx, size_t index) {
  if (index >= ctx.getNumInputs()) return -1;
  const onnx::TypeProto* type = ctx.getInputType(index);
  if (type == nullptr || !type->has_tensor_type() || !type->tensor_type().has_shape()) return -1;
  return type->tensor_type().shape().dim_size();
}

bool HasType(const onnx::InferenceContext& ctx, size_t index) {
  return index < ctx.getNumInputs() && ctx.getInputType(index) != nullptr;
}

bool AttributeSizeIs(const onnx::InferenceContext& ctx, const char* name, int size) {
  const onnx::AttributeProto* attr = ctx.getAttribute(name);
  return attr == nullptr || attr->ints_size() == size;
}

// True when libonnx's conv/pool inference can run safely: the data has rank >= 2, the weight (if
// the op has one) is typed with the same rank, and every spatial attribute has one entry per
// spatial axis (pads two).
bool Consistent(const onnx::InferenceContext& ctx, int weight_index) {
  const int rank = RankOf(ctx, 0);
  if (rank < 0) return HasType(ctx, 0);  // libonnx returns early on an unknown shape
  if (rank < 2) return true;             // libonnx fails this itself, with an exception
  const int spatial = rank - 2;
  if (weight_index >= 0 && static_cast<size_t>(weight_index) < ctx.getNumInputs()) {
    if (!HasType(ctx, weight_index)) return false;
    const int weight_rank = RankOf(ctx, weight_index);
    if (weight_rank >= 0 && weight_rank != rank) return false;
  }
  for (const char* name : {"kernel_shape", "strides", "dilations", "output_padding"}) {
    if (!AttributeSizeIs(ctx, name, spatial)) return false;
  }
  return AttributeSizeIs(ctx, "pads", 2 * spatial);
}

void Guard(const std::string& op, const std::string& domain, int weight_index) {
  absl::flat_hash_set<const onnx::OpSchema*> seen;
  for (int version = 1; version <= 30; ++version) {
    const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(op, version, domain);
    if (schema == nullptr || !seen.insert(schema).second) continue;
    onnx::InferenceFunction original = schema->GetTypeAndShapeInferenceFunction();
    if (!original) continue;
    // The registry hands out const schemas; replacing the function is the one mutation, done once.
    const_cast<onnx::OpSchema*>(schema)->TypeAndShapeInferenceFunction(
        [original = std::move(original), weight_index](onnx::InferenceContext& ctx) {
          if (Consistent(ctx, weight_index)) original(ctx);
        });
  }
}

}  // namespace

void InstallLibOnnxGuards() {
  static std::once_flag once;
  std::call_once(once, [] {
    Guard("Conv", onnx::ONNX_DOMAIN, 1);
    Guard("ConvTranspose", onnx::ONNX_DOMAIN, 1);
    Guard("ConvInteger", onnx::ONNX_DOMAIN, 1);
    Guard("QLinearConv", onnx::ONNX_DOMAIN, 3);
    for (const char* pool : {"AveragePool", "MaxPool", "LpPool"}) Guard(pool, onnx::ONNX_DOMAIN, -1);
  });
}

}  // namespace onnx_opt
