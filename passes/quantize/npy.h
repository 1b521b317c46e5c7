// Reading NumPy .npy arrays: the calibration activations quantize-weights{calibration=FILE}
// reads (eval/activations.js writes them). Only what that needs: format 1.0-3.0, little-endian
// float32 or float16, C order; values come back as float32.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace onnx_opt {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Fails with one line naming `path` on a bad header, dtype, order or size.
absl::StatusOr<NpyArray> ReadNpy(const std::string& path);
// The same for bytes already in memory; `path` names them in errors.
absl::StatusOr<NpyArray> ParseNpy(std::string_view bytes, const std::string& path);

}  // namespace onnx_opt
