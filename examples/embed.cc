// Embedding onnx-opt in another toolchain (docs/embedding.md): bytes in -> bytes out, file in ->
// file out, and the IR-level calls (load, build a pass manager, run, inspect, save). Exits
// non-zero (with one line on stderr) when any step misbehaves, so ctest runs it as a test of the
// public API (include/onnx_opt/onnx_opt.h), in this tree and against the installed package.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <onnx_opt/onnx_opt.h>

namespace {

int Fail(const std::string& what) {
  std::cerr << "embed: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace onnx_opt;
  const std::string dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  const std::string input = dir + "/embed_in.onnxtxt";
  const std::string output = dir + "/embed_out.onnx";

  // y = Abs(x); a dead Neg, a Constant weight and two identical initializers.
  const std::string text = R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
main (float[2] x) => (float[2] y, float[2] z)
<
  float[2] a = {1.0, 2.0},
  float[2] b = {1.0, 2.0}
>
{
  dead = Neg (x)
  w = Constant <value = float[2] {3.0, 4.0}> ()
  t = Mul (x, w)
  u = Add (t, a)
  y = Abs (u)
  z = Sub (x, b)
}
)";
  {
    FILE* f = std::fopen(input.c_str(), "w");
    if (f == nullptr) return Fail("cannot write " + input);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }

  // 1. Bytes in, bytes out: the text model in, binary ONNX out, with the statistics.
  absl::StatusOr<OptimizeResult> optimized = Optimize(text, "dce,dedup-initializers");
  if (!optimized.ok()) return Fail(std::string(optimized.status().message()));
  if (optimized->before.nodes != 6 || optimized->after.nodes != 5) {
    return Fail("Optimize: expected 6 -> 5 nodes, got " + std::to_string(optimized->before.nodes) +
                " -> " + std::to_string(optimized->after.nodes));
  }
  absl::StatusOr<std::unique_ptr<Model>> from_bytes =
      LoadModelFromBytes(optimized->model, "optimized bytes");
  if (!from_bytes.ok()) return Fail(std::string(from_bytes.status().message()));
  if ((*from_bytes)->graph->num_nodes() != 5) return Fail("the optimized bytes hold another model");
  absl::StatusOr<std::string> again = OptimizeModelBytes(optimized->model, "topo-sort");
  if (!again.ok()) return Fail(std::string(again.status().message()));
  absl::StatusOr<std::string> bad_bytes = OptimizeModelBytes("\x08\x01\xff", "dce");
  if (bad_bytes.ok()) return Fail("garbage bytes accepted");

  // 2. File in, file out.
  if (absl::Status s = OptimizeModelFile(input, "dce", output); !s.ok()) {
    return Fail(std::string(s.message()));
  }

  // 3. The IR level: load, run a pass manager, look at the graph, save.
  PassRegistry registry = MakeDefaultPassRegistry();
  absl::StatusOr<std::unique_ptr<Model>> model = LoadModelFile(input);
  if (!model.ok()) return Fail(std::string(model.status().message()));

  PassManagerOptions options;
  options.print_statistics = false;
  absl::StatusOr<std::unique_ptr<PassManager>> pm = BuildPassManager(
      "dce,constants-to-initializers,dedup-initializers,topo-sort", registry, options);
  if (!pm.ok()) return Fail(std::string(pm.status().message()));
  if (absl::Status s = (*pm)->Run(**model); !s.ok()) return Fail(std::string(s.message()));

  const Graph& graph = *(*model)->graph;
  if (graph.num_nodes() != 4)
    return Fail("expected 4 nodes after dce, got " + std::to_string(graph.num_nodes()));
  if (graph.initializers().size() != 2) {
    return Fail("expected initializers a and w after dedup, got " +
                std::to_string(graph.initializers().size()));
  }
  if (graph.FindValue("b") != nullptr) return Fail("duplicate initializer b survived");

  if (absl::Status s = SaveModelFile(**model, output); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  absl::StatusOr<std::unique_ptr<Model>> reloaded = LoadModelFile(output);
  if (!reloaded.ok()) return Fail(std::string(reloaded.status().message()));
  if ((*reloaded)->graph->num_nodes() != 4) return Fail("reloaded model differs");

  // An unknown pass is reported, not crashed on.
  absl::StatusOr<std::unique_ptr<PassManager>> bad = BuildPassManager("no-such-pass", registry);
  if (bad.ok()) return Fail("unknown pass accepted");

  std::cout << "embed: ok, onnx-opt " << Version() << " (" << (*pm)->PipelineText() << ")\n";
  std::remove(input.c_str());
  std::remove(output.c_str());
  return 0;
}
