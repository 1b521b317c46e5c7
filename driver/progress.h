// A progress line on standard error for passes that run long: after `delay` seconds, then once a
// second, "onnx-opt: quantize-weights{...} running, 7 s" is rewritten in place (\r), and it is
// replaced by "... done in 9.1 s" when the pass ends (printed for every pass that ran longer
// than `delay`). Meant for a terminal; the driver turns it on
// when stderr is one (or with --progress=always).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "passes/core/pass_manager.h"

namespace onnx_opt {

class PassProgress {
 public:
  PassProgress(std::ostream& out, double delay_seconds);
  ~PassProgress();
  PassProgress(const PassProgress&) = delete;
  PassProgress& operator=(const PassProgress&) = delete;

  void Start(std::string what);
  void Stop();
  // Chains before/after-pass hooks onto `options` that call Start and Stop (`this` must outlive
  // the pass manager).
  void Install(PassManagerOptions& options);

 private:
  void Watch();

  std::ostream& out_;
  std::chrono::duration<double> delay_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string what_;
  std::chrono::steady_clock::time_point start_;
  bool running_ = false;  // a pass is being timed
  bool shown_ = false;    // its line is on the screen
  bool quit_ = false;
  // Last: the watcher starts in the constructor and reads every member above.
  std::thread thread_;
};

}  // namespace onnx_opt
