// Throughput of blockwise weight quantization over a 64 MiB float32 weight, in bytes of fp32 input
// per second. Run: build/bench/quant_bench (threads: OMP_NUM_THREADS, default all cores).
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "quant/matmul_nbits.h"
#include "quant/weight_quantizer.h"

namespace onnx_opt::quant {
namespace {

constexpr int64_t kRows = 4096;  // 4096 x 4096 floats = 64 MiB
constexpr int64_t kCols = 4096;

const std::vector<float>& Weight() {
  static const std::vector<float>* w = [] {
    auto* v = new std::vector<float>(kRows * kCols);
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 0.02f);
    for (float& x : *v) x = dist(rng);
    return v;
  }();
  return *w;
}

// inner == 1: blocks contiguous (e.g. Gemm with transB, or a MatMul weight stored [N, K]).
// inner == kCols: blocks strided along axis 0 of a MatMul B [K, N].
void BM_QuantizeWeight(benchmark::State& state, QType qtype, bool symmetric, int64_t block,
                       bool strided, ScaleSearch search) {
  const std::vector<float>& w = Weight();
  const BlockLayout layout =
      strided ? BlockLayout{1, kRows, kCols, block} : BlockLayout{kRows, kCols, 1, block};
  const WeightQuantOptions options{qtype, symmetric, search};
  for (auto _ : state) {
    absl::StatusOr<QuantizedWeight> q = QuantizeWeight(w, layout, options);
    if (!q.ok()) state.SkipWithError("quantization failed");
    benchmark::DoNotOptimize(q->data.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.size() * sizeof(float)));
}

void BM_MatMulNBits(benchmark::State& state, int bits, bool symmetric) {
  const std::vector<float>& w = Weight();
  for (auto _ : state) {
    absl::StatusOr<MatMulNBitsWeight> q =
        QuantizeMatMulNBits(w, kRows, kCols, {bits, 32, symmetric});
    if (!q.ok()) state.SkipWithError("quantization failed");
    benchmark::DoNotOptimize(q->b.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.size() * sizeof(float)));
}

BENCHMARK_CAPTURE(BM_QuantizeWeight, int4_b32_sym_contiguous, QType::kInt4, true, 32, false,
                  ScaleSearch::kMinMax)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_QuantizeWeight, int4_b32_sym_strided, QType::kInt4, true, 32, true,
                  ScaleSearch::kMinMax)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_QuantizeWeight, int8_b64_asym_contiguous, QType::kInt8, false, 64, false,
                  ScaleSearch::kMinMax)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_QuantizeWeight, int8_b64_asym_strided, QType::kInt8, false, 64, true,
                  ScaleSearch::kMinMax)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_QuantizeWeight, int4_b32_sym_mse_contiguous, QType::kInt4, true, 32, false,
                  ScaleSearch::kMse)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_QuantizeWeight, int4_b32_asym_mse_contiguous, QType::kInt4, false, 32, false,
                  ScaleSearch::kMse)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_QuantizeWeight, int4_b32_asym_hqq_contiguous, QType::kInt4, false, 32, false,
                  ScaleSearch::kHqq)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_MatMulNBits, bits4_b32_sym, 4, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace onnx_opt::quant

BENCHMARK_MAIN();
