// TerminationWaiter: a one-off watcher. It watches one actor (local or on
// another node) and calls back once, with the Terminated reason, when that
// actor ends: what a "stop and wait" or any other wait for an end is built
// on, without a thread or an actor of its own.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/process.h"
#include "node/runtime/system_messages.h"

namespace troupe {

class ActorSystem;

class TerminationWaiter final
    : public Process,
      public std::enable_shared_from_this<TerminationWaiter> {
 public:
  // Called once, on the thread that delivers the Terminated (the target's
  // dispatcher worker, a link's thread, or the caller's own when `target`
  // is already known dead). Must not block.
  using Callback = std::function<void(TerminationReason reason)>;

  // Watches `target` (which must not be nobody) and calls `done` when it
  // ends: STOPPED or FAILED; NOT_FOUND when it was not alive when the watch
  // arrived; NODE_DOWN when its node is down or cannot be reached. The
  // waiter stays in the target's watcher set until then (one small object).
  // Thread-safe.
  static void Watch(ActorSystem& system, const ActorRef& target, Callback done);

  TerminationWaiter(ActorSystem& system, ActorRef target, Callback done);

  void SendUser(EnvelopePtr /*envelope*/) override {}  // never a sender
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override {
    return fired_.load(std::memory_order_acquire);
  }

 private:
  const ActorRef target_;
  Callback done_;  // taken by the one notice that fires
  std::atomic<bool> fired_{false};
};

}  // namespace troupe
