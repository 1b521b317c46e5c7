#include "quant/types.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace onnx_opt::quant {

const char* QTypeName(QType t) {
  switch (t) {
    case QType::kInt4:
      return "int4";
    case QType::kUint4:
      return "uint4";
    case QType::kInt8:
      return "int8";
    case QType::kUint8:
      return "uint8";
    case QType::kInt16:
      return "int16";
    case QType::kUint16:
      return "uint16";
  }
  return "?";
}

int32_t QTypeToOnnx(QType t) {
  switch (t) {
    case QType::kInt4:
      return 22;
    case QType::kUint4:
      return 21;
    case QType::kInt8:
      return 3;
    case QType::kUint8:
      return 2;
    case QType::kInt16:
      return 5;
    case QType::kUint16:
      return 4;
  }
  return 0;
}

std::optional<QType> QTypeFromOnnx(int32_t onnx_data_type) {
  switch (onnx_data_type) {
    case 22:
      return QType::kInt4;
    case 21:
      return QType::kUint4;
    case 3:
      return QType::kInt8;
    case 2:
      return QType::kUint8;
    case 5:
      return QType::kInt16;
    case 4:
      return QType::kUint16;
    default:
      return std::nullopt;
  }
}

const char* FloatTypeName(FloatType t) {
  switch (t) {
    case FloatType::kFloat32:
      return "float";
    case FloatType::kFloat16:
      return "float16";
    case FloatType::kBFloat16:
      return "bfloat16";
  }
  return "?";
}

int32_t FloatTypeToOnnx(FloatType t) {
  switch (t) {
    case FloatType::kFloat32:
      return 1;
    case FloatType::kFloat16:
      return 10;
    case FloatType::kBFloat16:
      return 16;
  }
  return 0;
}

std::optional<FloatType> FloatTypeFromOnnx(int32_t onnx_data_type) {
  switch (onnx_data_type) {
    case 1:
      return FloatType::kFloat32;
    case 10:
      return FloatType::kFloat16;
    case 16:
      return FloatType::kBFloat16;
    default:
      return std::nullopt;
  }
}

absl::Status BlockLayout::Validate() const {
  if (outer <= 0 || axis_dim <= 0 || inner <= 0 || block_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid block layout [outer=", outer,
                                                   ", axis_dim=", axis_dim, ", inner=", inner,
                                                   ", block_size=", block_size, "]"));
  }
  // 2^61 elements leaves room for byte counts and index arithmetic without overflow.
  constexpr int64_t kLimit = int64_t{1} << 61;
  if (outer > kLimit / axis_dim || outer * axis_dim > kLimit / inner) {
    return absl::InvalidArgumentError("block layout has too many elements");
  }
  return absl::OkStatus();
}

absl::StatusOr<BlockLayout> BlockLayout::FromShape(absl::Span<const int64_t> dims, int64_t axis,
                                                   int64_t block_size) {
  const int64_t rank = static_cast<int64_t>(dims.size());
  BlockLayout layout;
  if (rank == 0) {
    layout.block_size = 1;
    return layout;
  }
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  if (axis < 0) axis += rank;
  constexpr int64_t kLimit = int64_t{1} << 61;
  int64_t product = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (dims[i] <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("dimension ", i, " is ", dims[i], "; only positive sizes are quantized"));
    }
    if (product > kLimit / dims[i]) return absl::InvalidArgumentError("tensor is too large");
    product *= dims[i];
    if (i < axis) {
      layout.outer *= dims[i];
    } else if (i > axis) {
      layout.inner *= dims[i];
    }
  }
  layout.axis_dim = dims[axis];
  layout.block_size = block_size <= 0 ? layout.axis_dim : block_size;
  return layout;
}

}  // namespace onnx_opt::quant
