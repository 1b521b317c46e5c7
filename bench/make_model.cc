// Writes a MatMul-chain model of about the requested size (fp32 weights of 4096x4096, 64 MiB
// each) with our own SaveModel, in protobuf form or with external data.
//   make_model out.onnx [--size-mib N] [--external]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "ir/onnx_io.h"

namespace {

constexpr int64_t kDim = 4096;

std::shared_ptr<const onnx_opt::Tensor> RandomWeight(uint64_t seed) {
  std::vector<uint8_t> bytes(kDim * kDim * sizeof(float));
  uint64_t state = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (size_t i = 0; i < bytes.size(); i += sizeof(float)) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    float value = static_cast<float>(static_cast<int32_t>(state >> 40) - (1 << 23)) / (1 << 30);
    std::memcpy(bytes.data() + i, &value, sizeof(value));
  }
  return std::make_shared<const onnx_opt::Tensor>(onnx_opt::DataType::kFloat,
                                                  std::vector<int64_t>{kDim, kDim},
                                                  onnx_opt::Buffer::FromVector(std::move(bytes)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_model out.onnx [--size-mib N] [--external]\n");
    return 2;
  }
  std::string out = argv[1];
  int64_t size_mib = 1024;
  bool external = false;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--size-mib" && i + 1 < argc) {
      size_mib = std::atoll(argv[++i]);
    } else if (arg == "--external") {
      external = true;
    } else {
      std::fprintf(stderr, "make_model: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  const int64_t layers = std::max<int64_t>(1, size_mib / 64);
  onnx_opt::Model model;
  model.ir_version = 8;
  model.producer_name = "onnx-opt bench/make_model";
  model.SetOpsetVersion("", 17);
  model.graph = std::make_unique<onnx_opt::Graph>();
  onnx_opt::Graph& g = *model.graph;
  g.name = "matmul_chain";
  onnx_opt::Value* x = g.AddInput(
      "x", onnx_opt::ValueType::Tensor(onnx_opt::DataType::kFloat,
                                       std::vector<onnx_opt::Dim>{onnx_opt::Dim::Symbolic("batch"),
                                                                  onnx_opt::Dim::Fixed(kDim)}));
  for (int64_t i = 0; i < layers; ++i) {
    onnx_opt::Value* w = g.AddInitializer("w" + std::to_string(i), RandomWeight(i));
    onnx_opt::Node* mm = g.CreateNode("MatMul", {x, w}, 1, nullptr, "", {"h" + std::to_string(i)});
    mm->name = "matmul" + std::to_string(i);
    x = mm->output(0);
  }
  x->type = onnx_opt::ValueType::Tensor(onnx_opt::DataType::kFloat);
  g.AddOutput(x);
  onnx_opt::SaveOptions options;
  if (external) options.external_data_threshold = 1024;
  absl::Status s = onnx_opt::SaveModel(model, out, options);
  if (!s.ok()) {
    std::fprintf(stderr, "make_model: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("%s: %lld MatMul layers of %lldx%lld fp32%s\n", out.c_str(),
              static_cast<long long>(layers), static_cast<long long>(kDim),
              static_cast<long long>(kDim), external ? " (external data)" : "");
  return 0;
}
