// Input sources: external events fed into an actor as ordinary messages
// (actorio's register_input_task, Akka's pipe-to-self). A source function
// runs on its own thread, off the dispatcher, so it may block; each message
// it returns is delivered to the actor, and the next call waits until the
// actor has handled the previous one. The source ends when the function
// returns nullptr, when it is cancelled, or when the actor stops.
#pragma once

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "node/runtime/envelope_observer.h"
#include "node/runtime/message.h"
#include "node/runtime/sync.h"

namespace troupe {

class InputSourceState;

// What a source function sees of its cancellation.
class StopToken {
 public:
  explicit StopToken(const InputSourceState* state) : state_(state) {}
  // True once the source is cancelled or its actor is stopping.
  bool stop_requested() const;
  // Sleeps up to `timeout`, waking early when stop is requested. Returns
  // stop_requested(). For polling sources (pactor's Monitor).
  bool WaitFor(absl::Duration timeout) const;

 private:
  const InputSourceState* state_;
};

// Called repeatedly on the source's thread; returns the next message, or
// nullptr to end the source. Must return soon after stop is requested
// (check the token; block with StopToken::WaitFor).
using InputSourceFn = std::function<MessagePtr(const StopToken&)>;

// Shared by the actor, the source thread and in-flight envelopes (it
// observes them: the envelope's end marks it handled).
class InputSourceState final : public EnvelopeObserver {
 public:
  void EnvelopeGone() override { MarkHandled(); }
  void RequestStop();
  bool stop_requested() const;
  bool WaitForStop(absl::Duration timeout) const;
  // The actor handled the last message delivered.
  void MarkHandled();
  // Waits until MarkHandled or stop; true when handled (and resets it).
  bool AwaitHandled();

 private:
  mutable Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool handled_ ABSL_GUARDED_BY(mu_) = false;
};

// Cancels a source. Copyable; Cancel is idempotent and thread-safe.
class InputSourceHandle {
 public:
  InputSourceHandle() = default;
  explicit InputSourceHandle(std::shared_ptr<InputSourceState> state)
      : state_(std::move(state)) {}
  void Cancel() const {
    if (state_) {
      state_->RequestStop();
    }
  }

 private:
  std::shared_ptr<InputSourceState> state_;
};

}  // namespace troupe
