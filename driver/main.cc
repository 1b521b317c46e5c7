// onnx-opt: runs a pipeline of passes over an ONNX model (see driver/driver.h).
#include <iostream>
#include <string>
#include <vector>

#include "driver/driver.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  return onnx_opt::RunOnnxOpt(args, std::cout, std::cerr);
}
