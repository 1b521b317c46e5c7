#include "quant/parallel.h"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <vector>

#include "gtest/gtest.h"

namespace onnx_opt::quant {
namespace {

TEST(ParallelFor, RunsEveryItemOnceWithDistinctWorkers) {
  constexpr int64_t kCount = 10000;
  std::vector<std::atomic<int>> runs(kCount);
  std::vector<std::atomic<int>> busy(MaxWorkers());
  std::atomic<bool> overlap{false};
  ParallelFor(kCount, [&](int worker, int64_t i) {
    ASSERT_GE(worker, 0);
    ASSERT_LT(worker, MaxWorkers());
    if (busy[worker].fetch_add(1) != 0) overlap = true;
    runs[i].fetch_add(1);
    busy[worker].fetch_sub(1);
  });
  for (int64_t i = 0; i < kCount; ++i) ASSERT_EQ(runs[i].load(), 1) << i;
  EXPECT_FALSE(overlap) << "two calls with the same worker ran at once";
}

TEST(ParallelFor, NestedLoopsRunSeriallyOnTheCaller) {
  std::atomic<int64_t> sum{0};
  ParallelFor(8, [&](int, int64_t i) {
    ParallelFor(4, [&](int worker, int64_t j) {
      EXPECT_EQ(worker, 0);
      sum += i * 4 + j;
    });
  });
  EXPECT_EQ(sum.load(), 31 * 32 / 2);
}

int ThreadsOfThisProcess() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
    closedir(dir);
  }
  return count;
}

// The workers are joined at exit: an exit handler registered before the pool starts runs after
// the pool's static destructor and finds the main thread alone.
TEST(ParallelForDeathTest, WorkersAreJoinedAtExit) {
  if (MaxWorkers() < 2) GTEST_SKIP() << "no worker threads with one core";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::atexit([] { _exit(ThreadsOfThisProcess() == 1 ? 0 : 3); });
        std::atomic<int64_t> sum{0};
        ParallelFor(1000, [&](int, int64_t i) { sum += i; });
        if (ThreadsOfThisProcess() < 2) _exit(4);  // the pool did start
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace onnx_opt::quant
