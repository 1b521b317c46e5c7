// Conversion between integer codes and ONNX raw_data bytes of the quantized types.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "quant/types.h"

namespace onnx_opt::quant {

// Packs integer codes into ONNX raw_data layout: little-endian for 16-bit types; for 4-bit types
// two per byte, element 2i in the low nibble and 2i+1 in the high nibble, and a zero high nibble
// after an odd count. Codes outside the type's range are saturated.
std::vector<uint8_t> PackCodes(QType type, absl::Span<const int32_t> codes);

// Reads `count` elements from raw_data bytes (signed types are sign-extended). Fails when `bytes`
// is not exactly PackedByteSize(type, count) long.
absl::StatusOr<std::vector<int32_t>> UnpackCodes(QType type, absl::Span<const uint8_t> bytes,
                                                 int64_t count);

// Element `index` of raw_data bytes, no bounds check. For slow paths and tests.
inline int32_t ReadCode(QType type, const uint8_t* bytes, int64_t index) {
  switch (type) {
    case QType::kInt4: {
      const int32_t nibble = (bytes[index >> 1] >> ((index & 1) * 4)) & 0xF;
      return nibble >= 8 ? nibble - 16 : nibble;
    }
    case QType::kUint4:
      return (bytes[index >> 1] >> ((index & 1) * 4)) & 0xF;
    case QType::kInt8:
      return static_cast<int8_t>(bytes[index]);
    case QType::kUint8:
      return bytes[index];
    case QType::kInt16:
      return static_cast<int16_t>(bytes[2 * index] | (bytes[2 * index + 1] << 8));
    case QType::kUint16:
      return static_cast<uint16_t>(bytes[2 * index] | (bytes[2 * index + 1] << 8));
  }
  return 0;
}

}  // namespace onnx_opt::quant
