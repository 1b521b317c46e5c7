// Internal interface of the evaluator's kernels: the context a kernel runs in, value decoding and
// encoding, and shape helpers. Kernels live in one file per op family (unary.cc, elementwise.cc,
// convert_select.cc, shape_ops.cc, movement.cc, slice_pad.cc, reduce_linalg.cc, index_ops.cc), each
// with a Register* function.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "evaluator/evaluator.h"

namespace onnx_opt::eval {

class KernelContext {
 public:
  KernelContext(const Node& node, const std::vector<TensorPtr>& inputs, int64_t opset,
                const EvalLimits& limits)
      : node_(node), inputs_(inputs), opset_(opset), limits_(limits) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  const EvalLimits& limits() const { return limits_; }
  size_t num_inputs() const { return inputs_.size(); }
  // Null for an absent input.
  const Tensor* input(size_t i) const {
    return i < inputs_.size() && inputs_[i] ? inputs_[i].get() : nullptr;
  }
  const TensorPtr& input_ptr(size_t i) const { return inputs_[i]; }
  // The input, or an InvalidArgument error naming the node when it is absent.
  absl::StatusOr<const Tensor*> Required(size_t i) const;

  int64_t IntAttr(std::string_view name, int64_t fallback) const;
  float FloatAttr(std::string_view name, float fallback) const;

  absl::Status Unsupported(std::string_view why) const;
  absl::Status Invalid(std::string_view why) const;
  // Fails (before any allocation) when a tensor of this type and shape would be over the limit,
  // has negative dims, or its size overflows.
  absl::Status CheckOutput(DataType type, std::span<const int64_t> dims) const;
  // Fails when a tensor is too big to decode into 64-bit values for arithmetic.
  absl::Status CheckDecodable(const Tensor& t) const;

  std::vector<TensorPtr>& outputs() { return outputs_; }
  void SetOutput(size_t i, TensorPtr t);

 private:
  const Node& node_;
  const std::vector<TensorPtr>& inputs_;
  int64_t opset_;
  const EvalLimits& limits_;
  std::vector<TensorPtr> outputs_;
};

using KernelFn = absl::Status (*)(KernelContext&);
using KernelTable = absl::flat_hash_map<std::string, KernelFn>;

void RegisterUnaryKernels(KernelTable& table);
void RegisterBinaryKernels(KernelTable& table);
void RegisterConvertSelectKernels(KernelTable& table);
void RegisterShapeKernels(KernelTable& table);
void RegisterMovementKernels(KernelTable& table);
void RegisterReduceLinalgKernels(KernelTable& table);
void RegisterIndexKernels(KernelTable& table);

// --- element types ---
// float, double, float16, bfloat16.
bool IsReal(DataType t);
// int8..int64, uint8..uint32 and bool (uint64 only moves: it does not fit int64 arithmetic).
bool IsInteger(DataType t);
// Bytes of one element for fixed-size, byte-aligned types; 0 for string and 4-bit types.
int ElementBytes(DataType t);

// Decodes a real or integer tensor to doubles / an integer tensor to int64 (the caller checked
// the type and CheckDecodable).
std::vector<double> ReadReals(const Tensor& t);
std::vector<int64_t> ReadInts(const Tensor& t);
// Encodes values as `type` (real: rounded to nearest even; integer: wrapped to the type's width;
// bool: nonzero is true). The caller checked CheckOutput.
TensorPtr MakeReal(DataType type, std::vector<int64_t> dims, std::span<const double> values);
TensorPtr MakeInt(DataType type, std::vector<int64_t> dims, std::span<const int64_t> values);
// A tensor sharing `t`'s bytes with new dims (same element count; checked by the caller).
TensorPtr Reshaped(const TensorPtr& t, std::vector<int64_t> dims);

// --- shapes ---
// Product of dims; nullopt for negative dims or overflow.
std::optional<int64_t> ElementCount(std::span<const int64_t> dims);
// Multidirectional (numpy) broadcast of two shapes; nullopt when incompatible.
std::optional<std::vector<int64_t>> BroadcastShapes(std::span<const int64_t> a,
                                                    std::span<const int64_t> b);
// For each element of a tensor of shape `out` (row-major), the flat index of the element of a
// tensor of shape `in` that broadcasts to it (in's rank <= out's, dims 1 or equal).
std::vector<int64_t> BroadcastIndices(std::span<const int64_t> in, std::span<const int64_t> out);
// Row-major strides.
std::vector<int64_t> Strides(std::span<const int64_t> dims);
// Normalises a possibly negative axis into [0, rank); nullopt when out of range.
std::optional<int64_t> NormalizeAxis(int64_t axis, int64_t rank);
// Copies elements: out[i] = in[index[i]] (raw bytes of `type`).
TensorPtr GatherElementsRaw(const Tensor& in, std::vector<int64_t> out_dims,
                            std::span<const int64_t> index);
// tables[a][c]: what output coordinate c along axis a adds to the input's flat index, or -1 when
// the element comes from nowhere (padding). Returns the input flat index of every output element.
std::vector<int64_t> IndexFromTables(const std::vector<std::vector<int64_t>>& tables);
// Copies in[index[i]] (or `fill`, one element of raw bytes, zeros when null, where index[i] < 0).
TensorPtr Materialize(const Tensor& in, std::vector<int64_t> dims, std::span<const int64_t> index,
                      const uint8_t* fill);
// Fails unless `t`'s elements can move (fixed size) into an output of `out_dims` (and its index
// map) within the limits.
absl::Status CheckMovable(const KernelContext& ctx, const Tensor& t,
                          std::span<const int64_t> out_dims);
// Integer values of a shape-like operand (int32/int64), or an InvalidArgument error.
absl::StatusOr<std::vector<int64_t>> ReadIndexValues(const KernelContext& ctx, const Tensor& t,
                                                     std::string_view what);

}  // namespace onnx_opt::eval
