#include "driver/progress.h"

#include "absl/strings/str_format.h"
#include "passes/core/pipeline.h"

namespace onnx_opt {

PassProgress::PassProgress(std::ostream& out, double delay_seconds)
    : out_(out), delay_(delay_seconds), thread_([this] { Watch(); }) {}

PassProgress::~PassProgress() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PassProgress::Start(std::string what) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    what_ = std::move(what);
    start_ = std::chrono::steady_clock::now();
    running_ = true;
    shown_ = false;
  }
  wake_.notify_all();
}

void PassProgress::Stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  // A pass that outlasted the delay reports its time, even if it ended before the first tick.
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  if (running_ && (shown_ || elapsed >= delay_)) {
    double seconds = std::chrono::duration<double>(elapsed).count();
    out_ << absl::StrFormat("\ronnx-opt: %s done in %.1f s\033[K\n", what_, seconds);
    out_.flush();
  }
  running_ = false;
  shown_ = false;
}

void PassProgress::Watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!quit_) {
    if (!running_) {
      wake_.wait(lock);
      continue;
    }
    auto elapsed = std::chrono::steady_clock::now() - start_;
    if (elapsed < delay_) {
      wake_.wait_for(lock, delay_ - elapsed);
      continue;
    }
    double seconds = std::chrono::duration<double>(elapsed).count();
    out_ << absl::StrFormat("\ronnx-opt: %s running, %.0f s\033[K", what_, seconds);
    out_.flush();
    shown_ = true;
    wake_.wait_for(lock, std::chrono::seconds(1));
  }
}

void PassProgress::Install(PassManagerOptions& options) {
  options.before_pass = [previous = std::move(options.before_pass), this](const Pass& pass,
                                                                          const Model& model) {
    if (previous) previous(pass, model);
    Start(PrintPass(pass));
  };
  options.after_pass = [previous = std::move(options.after_pass), this](
                           const Pass& pass, const Model& model, const absl::Status& status) {
    Stop();
    if (previous) previous(pass, model, status);
  };
}

}  // namespace onnx_opt
