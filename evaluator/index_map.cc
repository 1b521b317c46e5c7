// Index maps for broadcasting and data movement: which input element each output element copies.
#include <cstring>

#include "evaluator/kernel.h"

namespace onnx_opt::eval {

std::vector<int64_t> Strides(std::span<const int64_t> dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

std::vector<int64_t> BroadcastIndices(std::span<const int64_t> in, std::span<const int64_t> out) {
  const size_t rank = out.size();
  const size_t offset = rank - in.size();
  // Stride of each output axis in the input (0 where the input broadcasts).
  std::vector<int64_t> in_strides = Strides(in);
  std::vector<int64_t> stride(rank, 0);
  for (size_t i = offset; i < rank; ++i) {
    stride[i] = in[i - offset] == 1 ? 0 : in_strides[i - offset];
  }
  const int64_t total = ElementCount(out).value_or(0);
  std::vector<int64_t> index(static_cast<size_t>(total));
  std::vector<int64_t> counter(rank, 0);
  int64_t flat = 0;
  for (int64_t i = 0; i < total; ++i) {
    index[i] = flat;
    for (size_t axis = rank; axis-- > 0;) {
      flat += stride[axis];
      if (++counter[axis] < out[axis]) break;
      flat -= stride[axis] * counter[axis];
      counter[axis] = 0;
    }
  }
  return index;
}

TensorPtr GatherElementsRaw(const Tensor& in, std::vector<int64_t> out_dims,
                            std::span<const int64_t> index) {
  if (in.type() == DataType::kString) {
    std::vector<std::string> strings(index.size());
    for (size_t i = 0; i < index.size(); ++i) strings[i] = in.strings()[index[i]];
    return std::make_shared<Tensor>(Tensor::FromStrings(std::move(out_dims), std::move(strings)));
  }
  const int size = ElementBytes(in.type());
  std::vector<uint8_t> bytes(index.size() * size);
  const uint8_t* src = in.bytes().data();
  for (size_t i = 0; i < index.size(); ++i) {
    std::memcpy(bytes.data() + i * size, src + index[i] * size, size);
  }
  return std::make_shared<Tensor>(in.type(), std::move(out_dims),
                                  Buffer::FromVector(std::move(bytes)));
}

// tables[a][c]: what output coordinate c along axis a adds to the input's flat index, or -1 when
// the element comes from nowhere (padding). Returns the input flat index of every output element.
std::vector<int64_t> IndexFromTables(const std::vector<std::vector<int64_t>>& tables) {
  int64_t total = 1;
  for (const auto& t : tables) total *= static_cast<int64_t>(t.size());
  std::vector<int64_t> index(static_cast<size_t>(total));
  const size_t rank = tables.size();
  std::vector<size_t> c(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t flat = 0;
    for (size_t a = 0; a < rank && flat >= 0; ++a) {
      const int64_t part = tables[a][c[a]];
      flat = part < 0 ? -1 : flat + part;
    }
    index[i] = flat;
    for (size_t a = rank; a-- > 0;) {
      if (++c[a] < tables[a].size()) break;
      c[a] = 0;
    }
  }
  return index;
}

// Copies in[index[i]] (or `fill`, one element of raw bytes, where index[i] < 0).
TensorPtr Materialize(const Tensor& in, std::vector<int64_t> dims, std::span<const int64_t> index,
                      const uint8_t* fill) {
  const int size = ElementBytes(in.type());
  std::vector<uint8_t> bytes(index.size() * size, 0);
  for (size_t i = 0; i < index.size(); ++i) {
    const uint8_t* src = index[i] >= 0 ? in.bytes().data() + index[i] * size : fill;
    if (src != nullptr) std::memcpy(bytes.data() + i * size, src, size);
  }
  return std::make_shared<Tensor>(in.type(), std::move(dims), Buffer::FromVector(std::move(bytes)));
}

absl::Status CheckMovable(const KernelContext& ctx, const Tensor& t,
                          std::span<const int64_t> out_dims) {
  if (ElementBytes(t.type()) == 0) return ctx.Unsupported("unsupported element type");
  if (out_dims.size() > 64) return ctx.Unsupported("rank over 64");
  if (absl::Status s = ctx.CheckOutput(t.type(), out_dims); !s.ok()) return s;
  return ctx.CheckOutput(DataType::kInt64, out_dims);  // the index map
}

}  // namespace onnx_opt::eval
