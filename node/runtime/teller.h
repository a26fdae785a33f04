// Teller: the sending API shared by ActorSystem (sends from outside any
// actor) and ActorContext (sends from inside one): Tell with delay/period and
// Ask. Messages are protobuf messages (moved in), text, or a MessagePtr.
#pragma once

#include <functional>
#include <future>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/timer_scheduler.h"

namespace troupe {

// delay only: once, after the delay. period only: now, then every period.
// both: after the delay, then every period. Neither: now, once.
struct TellOptions {
  absl::Duration delay = absl::ZeroDuration();
  absl::Duration period = absl::ZeroDuration();
};

// The reply to an Ask: the reply message, or DEADLINE_EXCEEDED (timeout),
// NOT_FOUND (the target is dead or unknown: fails at once),
// UNAVAILABLE (its node is down).
using AskFuture = std::future<absl::StatusOr<MessagePtr>>;
// How an ask completes without anyone blocking on a future: called exactly
// once, with the reply or the error AskFuture would hold.
using AskCallback = std::function<void(absl::StatusOr<MessagePtr>)>;

class Teller {
 public:
  // Sends `message` to `to`. Never fails: what cannot be delivered becomes a
  // dead letter. With a delay or period, returns the handle that cancels the
  // timer (a periodic send also ends when its target dies); otherwise an
  // empty handle. Thread-safety: see the subclass.
  template <typename M>
  TimerHandle Tell(const ActorRef& to, M&& message,
                   const TellOptions& options = {}) {
    return TellEnvelope(
        to, MakeEnvelope(std::forward<M>(message), DefaultSender()), options);
  }

  // Sends `message` with a one-off reply address; the future completes with
  // the first message sent to that address, or an error (see AskFuture).
  // Never block on it inside an actor: pipe it with PipeToSelf instead.
  template <typename M>
  AskFuture Ask(const ActorRef& to, M&& message, absl::Duration timeout) {
    return AskEnvelope(to, MakeEnvelope(std::forward<M>(message), ActorRef()),
                       timeout);
  }

  virtual TimerHandle TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                   const TellOptions& options) = 0;
  virtual AskFuture AskEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                absl::Duration timeout) = 0;

 protected:
  ~Teller() = default;
  // The sender stamped on messages sent through Tell.
  virtual ActorRef DefaultSender() const = 0;
};

}  // namespace troupe
