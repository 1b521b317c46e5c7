// Protobuf wire-format primitives shared by the model file reader (onnx_load.cc), the writer
// (onnx_save.cc) and OutputFile (file_io.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace onnx_opt {

constexpr size_t kMaxVarintBytes = 10;

// Writes `value` as a base-128 varint into `out` (at least kMaxVarintBytes long); returns the
// number of bytes written.
inline size_t EncodeVarint(uint64_t value, uint8_t* out) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = static_cast<uint8_t>(value | 0x80);
    value >>= 7;
  }
  out[n++] = static_cast<uint8_t>(value);
  return n;
}

inline size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

}  // namespace onnx_opt
