// InMemoryCall: a LinkCall (node/remote/link_transport.h) without a network,
// for tests of the link's components under TSan. Each write is kept, and
// completed on the call's own "network" thread, as gRPC completes writes on
// its threads: so the writer's token passes between threads as in a node.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "node/remote/link_transport.h"
#include "node/runtime/sync.h"
#include "proto/troupe.pb.h"

namespace troupe::testing {

class InMemoryCall final : public LinkCall {
 public:
  // `on_write_done(ok)` runs on the call's thread after each write.
  explicit InMemoryCall(std::function<void(bool)> on_write_done)
      : on_write_done_(std::move(on_write_done)), network_([this] { Run(); }) {}
  ~InMemoryCall() override {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    network_.join();
  }

  size_t Write(const v1::Frame& frame) override {
    MutexLock lock(&mu_);
    if (ended_ || writes_closed_) {
      return 0;
    }
    frames_.push_back(frame);
    pending_.push_back(!break_after_accepting_);
    return frame.ByteSizeLong();
  }
  void CloseWrites() override {
    MutexLock lock(&mu_);
    writes_closed_ = true;
  }
  void Cancel() override {
    MutexLock lock(&mu_);
    ended_ = true;
  }

  // From now on, writes are accepted (Write returns their size) but
  // complete with ok false, as gRPC reports a write on a call that broke
  // after taking it.
  void BreakAfterAccepting() {
    MutexLock lock(&mu_);
    break_after_accepting_ = true;
  }

  // Every frame written so far (accepted, whether or not it completed).
  std::vector<v1::Frame> frames() const {
    MutexLock lock(&mu_);
    return frames_;
  }
  // Waits until `done(frames)` holds, up to `timeout`.
  bool AwaitFrames(
      const std::function<bool(const std::vector<v1::Frame>&)>& done,
      absl::Duration timeout) const {
    MutexLock lock(&mu_);
    auto met = [&]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(frames_); };
    return mu_.AwaitWithTimeout(absl::Condition(&met), timeout);
  }

 private:
  void Run() {
    for (;;) {
      bool ok = true;
      {
        MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !pending_.empty();
        };
        mu_.Await(absl::Condition(&ready));
        if (pending_.empty()) {
          return;  // stopping, nothing in flight
        }
        ok = pending_.front();
        pending_.pop_front();
      }
      on_write_done_(ok);
    }
  }

  const std::function<void(bool)> on_write_done_;
  mutable Mutex mu_;
  std::vector<v1::Frame> frames_ ABSL_GUARDED_BY(mu_);
  std::deque<bool> pending_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool break_after_accepting_ ABSL_GUARDED_BY(mu_) = false;
  std::thread network_;
};

}  // namespace troupe::testing
