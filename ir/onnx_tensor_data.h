// Tensor values in TensorProto's typed fields (float_data, int32_data, int64_data, double_data,
// uint64_data), in both directions: the importer turns them into raw_data layout, the exporter
// writes a tensor that came in that form back the same way (Tensor::typed_field_data).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/tensor.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt {

// The values of `t`'s typed fields in raw_data layout (little-endian, packed as raw_data packs
// them); an error naming the tensor when a field does not fit `type`.
absl::StatusOr<std::shared_ptr<const Buffer>> TypedFieldsToBuffer(const onnx::TensorProto& t,
                                                                  DataType type);

// Appends `tensor`'s values to the typed field its element type uses (the inverse of
// TypedFieldsToBuffer: 8- and 16-bit signed types sign-extended into int32_data, other narrow
// types zero-extended, uint32 into uint64_data).
absl::Status WriteTypedFields(const Tensor& tensor, onnx::TensorProto* out);

}  // namespace onnx_opt
