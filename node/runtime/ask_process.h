// AskProcess: the one-off reply address behind an Ask. The first message
// sent to it completes the future; a dead letter of the asked message
// completes it with NOT_FOUND at once; the timer with DEADLINE_EXCEEDED.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "node/runtime/envelope.h"
#include "node/runtime/process.h"
#include "node/runtime/sync.h"
#include "node/runtime/teller.h"
#include "node/runtime/timer_scheduler.h"

namespace troupe {

class AskProcess final : public Process {
 public:
  AskProcess(const std::string* address, std::string id, uint64_t incarnation,
             ActorRef target);

  AskFuture future() { return promise_.get_future(); }
  // The timer that fails the ask; cancelled on completion. Set once.
  void set_timer(TimerHandle timer);
  // Completes the future unless already completed. Thread-safe.
  void Complete(absl::StatusOr<MessagePtr> result);

  void SendUser(EnvelopePtr envelope) override;
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override {
    return done_.load(std::memory_order_acquire);
  }

 private:
  const ActorRef target_;
  std::promise<absl::StatusOr<MessagePtr>> promise_;
  std::atomic<bool> done_{false};
  Mutex mu_;
  TimerHandle timer_ ABSL_GUARDED_BY(mu_);
};

// DeadProcess: what a ref to an actor that is not alive (unknown id, or an
// old incarnation) points at. Every message becomes a dead letter; a watch
// is answered with Terminated{NOT_FOUND}.
class ActorSystem;
class DeadProcess final : public Process,
                          public std::enable_shared_from_this<DeadProcess> {
 public:
  DeadProcess(ActorSystem* system, const std::string* address, std::string id,
              uint64_t incarnation)
      : Process(address, std::move(id), incarnation), system_(system) {}

  void SendUser(EnvelopePtr envelope) override;
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override { return true; }

 private:
  ActorSystem* const system_;
};

}  // namespace troupe
