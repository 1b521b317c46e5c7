#include "quant/parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace onnx_opt::quant {
namespace {

// Cleared when the pool is destroyed at exit: a loop started later (by another static
// destructor) runs serially on its caller. Constant-initialised, never destroyed.
std::atomic<bool> pool_alive{true};

class WorkerPool {
 public:
  explicit WorkerPool(int workers) {
    for (int w = 1; w <= workers; ++w) threads_.emplace_back([this, w] { Work(w); });
  }
  // At exit: wakes the workers, which are asleep between loops, and joins them.
  ~WorkerPool() {
    pool_alive.store(false, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // False when another loop is running: the caller then runs its loop serially.
  bool TryRun(int64_t count, absl::FunctionRef<void(int, int64_t)> body) {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      body_ = &body;
      count_ = count;
      next_.store(0, std::memory_order_relaxed);
      open_ = true;
      joined_ = 0;
      finished_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    RunItems(0);
    {
      // Workers that have not joined by now find the loop closed and go back to sleep.
      std::unique_lock<std::mutex> lock(mu_);
      open_ = false;
      done_.wait(lock, [this] { return finished_ == joined_; });
    }
    busy_.store(false, std::memory_order_release);
    return true;
  }

 private:
  void Work(int worker) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (stopping_) return;
      if (!open_) continue;
      ++joined_;
      lock.unlock();
      RunItems(worker);
      lock.lock();
      if (++finished_ == joined_) done_.notify_one();
    }
  }

  void RunItems(int worker) {
    for (int64_t i = next_.fetch_add(1, std::memory_order_relaxed); i < count_;
         i = next_.fetch_add(1, std::memory_order_relaxed)) {
      (*body_)(worker, i);
    }
  }

  std::atomic<bool> busy_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  bool open_ = false;
  int joined_ = 0;
  int finished_ = 0;
  // Set under mu_ before a loop opens; read by the threads that joined it.
  const absl::FunctionRef<void(int, int64_t)>* body_ = nullptr;
  int64_t count_ = 0;
  std::atomic<int64_t> next_{0};
  std::vector<std::thread> threads_;
};

WorkerPool* Pool() {
  if (MaxWorkers() <= 1 || !pool_alive.load(std::memory_order_acquire)) return nullptr;
  // Started on first use and shut down at exit, when static destruction joins the workers.
  static WorkerPool pool(MaxWorkers() - 1);
  return &pool;
}

}  // namespace

int MaxWorkers() {
  static const int workers = std::max(1, omp_get_max_threads());
  return workers;
}

void ParallelFor(int64_t count, absl::FunctionRef<void(int, int64_t)> body) {
  WorkerPool* pool = count > 1 ? Pool() : nullptr;
  if (pool != nullptr && pool->TryRun(count, body)) return;
  for (int64_t i = 0; i < count; ++i) body(0, i);
}

}  // namespace onnx_opt::quant
