// Loads a model and saves it again, printing the time of each step.
//   roundtrip in.onnx out.onnx [--external-data-threshold BYTES]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ir/onnx_io.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: roundtrip in.onnx out.onnx [--external-data-threshold BYTES]\n");
    return 2;
  }
  onnx_opt::SaveOptions options;
  for (int i = 3; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--external-data-threshold" && i + 1 < argc) {
      options.external_data_threshold = std::atoll(argv[++i]);
    } else {
      std::fprintf(stderr, "roundtrip: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto model = onnx_opt::LoadModel(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "roundtrip: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  auto loaded = Clock::now();
  absl::Status s = onnx_opt::SaveModel(**model, argv[2], options);
  if (!s.ok()) {
    std::fprintf(stderr, "roundtrip: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto saved = Clock::now();
  std::fprintf(stderr, "load %.3f s, save %.3f s\n",
               std::chrono::duration<double>(loaded - start).count(),
               std::chrono::duration<double>(saved - loaded).count());
  return 0;
}
