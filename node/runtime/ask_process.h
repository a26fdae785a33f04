// AskProcess: the one-off reply address behind an Ask. The first message
// sent to it completes the ask (calls its AskCallback once); a dead letter
// of the asked message completes it at once with its reason's status
// (DeadLetterStatus: NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE or
// INVALID_ARGUMENT); the timer with DEADLINE_EXCEEDED; a watched (remote)
// target's Terminated with NOT_FOUND, or UNAVAILABLE when its node went
// down or cannot be reached. The slot is the sender the asked actor sees,
// so it is watchable: Terminated{STOPPED} once the ask has completed.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "node/runtime/envelope.h"
#include "node/runtime/process.h"
#include "node/runtime/reply_watchers.h"
#include "node/runtime/sync.h"
#include "node/runtime/teller.h"
#include "node/runtime/timer_scheduler.h"

namespace troupe {

class ActorSystem;

class AskProcess final : public Process,
                         public std::enable_shared_from_this<AskProcess> {
 public:
  // `system` must outlive the process; `id` from ActorSystem::NewReplyId.
  // `done` is called exactly once, on whichever thread completes the ask.
  AskProcess(ActorSystem* system, std::string id, ActorRef target,
             AskCallback done);

  // The timer that fails the ask; cancelled on completion. Set once.
  void set_timer(TimerHandle timer);
  // Watches the target until the ask completes. Call at most once, after
  // the process is owned by a shared_ptr.
  void WatchTarget();
  // Completes the ask unless already completed; then unregisters the
  // process and unwatches the target. Thread-safe.
  void Complete(absl::StatusOr<MessagePtr> result);

  void SendUser(EnvelopePtr envelope) override;
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override {
    return done_.load(std::memory_order_acquire);
  }

 private:
  ActorSystem* const system_;
  const ActorRef target_;
  // When the ask began, for one ask in kAskSampleEvery on the asking
  // thread (else the clock's epoch: not timed).
  const std::chrono::steady_clock::time_point begun_;
  std::atomic<bool> watching_{false};
  AskCallback done_callback_;  // called once, by the first Complete
  std::atomic<bool> done_{false};
  // Whoever got this slot as a sender may watch it: told on completion.
  ReplyWatchers watchers_;
  Mutex mu_;
  TimerHandle timer_ ABSL_GUARDED_BY(mu_);
};

// DeadProcess: what a ref to an actor that is not alive (unknown id, or an
// old incarnation) points at. Every message becomes a dead letter; a watch
// is answered with Terminated{NOT_FOUND}.
class DeadProcess final : public Process,
                          public std::enable_shared_from_this<DeadProcess> {
 public:
  // `detail` says why no actor is there (for dead letters); `uid` as the
  // ref named it, so a Terminated names the ref as it was watched.
  DeadProcess(ActorSystem* system, NodeAddress address, std::string id,
              uint64_t incarnation, uint64_t uid = 0, std::string detail = "")
      : Process(std::move(address), std::move(id), incarnation, uid),
        system_(system),
        detail_(std::move(detail)) {}

  void SendUser(EnvelopePtr envelope) override;
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override { return true; }

 private:
  ActorSystem* const system_;
  const std::string detail_;
};

}  // namespace troupe
