#include "quant/packing.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace onnx_opt::quant {

std::vector<uint8_t> PackCodes(QType type, absl::Span<const int32_t> codes) {
  const int64_t count = static_cast<int64_t>(codes.size());
  std::vector<uint8_t> bytes(PackedByteSize(type, count), 0);
  const int32_t lo = QTypeMin(type);
  const int32_t hi = QTypeMax(type);
  for (int64_t i = 0; i < count; ++i) {
    const int32_t c = std::clamp(codes[i], lo, hi);
    switch (QTypeBits(type)) {
      case 4:
        bytes[i >> 1] |= static_cast<uint8_t>((c & 0xF) << ((i & 1) * 4));
        break;
      case 8:
        bytes[i] = static_cast<uint8_t>(c & 0xFF);
        break;
      default:
        bytes[2 * i] = static_cast<uint8_t>(c & 0xFF);
        bytes[2 * i + 1] = static_cast<uint8_t>((c >> 8) & 0xFF);
        break;
    }
  }
  return bytes;
}

absl::StatusOr<std::vector<int32_t>> UnpackCodes(QType type, absl::Span<const uint8_t> bytes,
                                                 int64_t count) {
  if (count < 0 || static_cast<int64_t>(bytes.size()) != PackedByteSize(type, count)) {
    return absl::InvalidArgumentError(absl::StrCat(count, " ", QTypeName(type), " elements need ",
                                                   PackedByteSize(type, count), " bytes, got ",
                                                   bytes.size()));
  }
  std::vector<int32_t> codes(count);
  for (int64_t i = 0; i < count; ++i) codes[i] = ReadCode(type, bytes.data(), i);
  return codes;
}

}  // namespace onnx_opt::quant
