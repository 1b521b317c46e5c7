// Reading and writing one element of a tensor's bytes at any address: buffers mapped from a file
// need not be aligned for T, so a typed pointer into them would be undefined behaviour.
#pragma once

#include <cstdint>
#include <cstring>

namespace onnx_opt {

template <typename T>
T LoadUnaligned(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
void StoreUnaligned(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace onnx_opt
