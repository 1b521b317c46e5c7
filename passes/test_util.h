// Helpers shared by the passes' GoogleTests (not part of the library).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace onnx_opt::testing {

// A .npy file written by hand: format `major` (1 or 2), dtype `descr` ('<f4' unless a test wants
// another), C order unless `fortran_order` says "True"; `values` are written as float32 bytes.
inline void WriteNpy(const std::filesystem::path& path, const std::vector<int64_t>& shape,
                     const std::vector<float>& values, int major = 1,
                     const std::string& descr = "<f4", const std::string& fortran_order = "False") {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + fortran_order +
                       ", 'shape': (" + dims + "), }";
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY", 6);
  out.put(static_cast<char>(major));
  out.put(0);
  const uint32_t len = static_cast<uint32_t>(header.size());
  out.write(reinterpret_cast<const char*>(&len), major == 1 ? 2 : 4);
  out << header;
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * 4));
}

// n floats drawn uniformly from [lo, hi) by a generator seeded with `seed`.
inline std::vector<float> UniformFloats(int64_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

}  // namespace onnx_opt::testing
