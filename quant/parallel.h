// A small pool of worker threads for the quantization kernels.
//
// OpenMP's default workers spin for milliseconds after every parallel region before they sleep.
// A model with a hundred medium-sized weights runs a hundred short parallel loops, and on ISNet
// that spinning cost as much CPU time as the quantization itself (docs/performance.md). These
// workers sleep on a condition variable instead, and a loop never waits for a worker that has not
// woken up yet: the calling thread takes whatever work is left. The workers start on the first
// ParallelFor and are joined when the program exits (static destruction), so a program linking
// the library ends with no thread of ours still running.
#pragma once

#include <cstdint>

#include "absl/functional/function_ref.h"

namespace onnx_opt::quant {

// Threads a ParallelFor may use, the caller included: OpenMP's maximum (OMP_NUM_THREADS, else
// the number of cores), at least 1.
int MaxWorkers();

// Runs body(worker, i) once for every i in [0, count), spread over the calling thread and the
// pool, and returns when all calls have returned. `worker` is in [0, MaxWorkers()); calls with the
// same worker never overlap, so it can index per-thread scratch space. Items are handed out one
// at a time in increasing order. A call made while another is running (nested or from another
// thread) runs serially on its caller, with worker 0.
void ParallelFor(int64_t count, absl::FunctionRef<void(int worker, int64_t i)> body);

}  // namespace onnx_opt::quant
