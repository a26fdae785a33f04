// Teller and Requester: the sending API. Teller (Tell) is shared by
// everything that sends: an actor's context, the ActorSystem (from outside
// any actor), an Inbox, the SDK's Client. Requester adds Ask with a future,
// for code outside actors; inside an actor, ActorContext::Ask takes a
// continuation instead (a future would block a dispatcher thread).
//
// Messages are protobuf messages (moved in), text, or a MessagePtr. A
// target is an ActorRef or a v1::Pid as it arrived inside a message (turned
// into a ref with Ref()).
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/runtime/activator_protocol.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/system_messages.h"
#include "node/runtime/timer_scheduler.h"

namespace troupe {

// delay only: once, after the delay. period only: now, then every period.
// both: after the delay, then every period. Neither: now, once.
//
// A periodic tell runs at a fixed rate and coalesces: a tick is skipped
// while its previous copy is still pending (not yet handled or dropped by a
// local target; not yet written to the link for a remote one), so a target
// busy for ten periods finds one copy waiting, not ten (README, "Periodic
// tells"). Later ticks stay on the original schedule.
struct TellOptions {
  absl::Duration delay = absl::ZeroDuration();
  absl::Duration period = absl::ZeroDuration();
};

// The reply to an Ask: the reply message, or the status of the cause:
// DEADLINE_EXCEEDED (no reply in time), NOT_FOUND (no such actor: fails at
// once), UNAVAILABLE (its node is down or unreachable), RESOURCE_EXHAUSTED
// (a full mailbox, a message too large), INVALID_ARGUMENT (a type the
// target's node cannot read).
using AskFuture = std::future<absl::StatusOr<MessagePtr>>;
// How an ask completes without anyone blocking on a future: called exactly
// once, with the reply or the error AskFuture would hold.
using AskCallback = std::function<void(absl::StatusOr<MessagePtr>)>;

class Teller {
 public:
  // Sends `message` to `to`. Never fails: what cannot be delivered becomes a
  // dead letter (with its reason). With a delay or period, returns the
  // handle that cancels the timer (a periodic send also ends when its
  // target dies); otherwise an empty handle. The sender is this teller's
  // own ref (the actor, the inbox, the client; nobody for the system).
  // Thread-safety: see the subclass.
  template <typename M>
  TimerHandle Tell(const ActorRef& to, M&& message,
                   const TellOptions& options = {}) {
    return TellEnvelope(
        to, MakeEnvelope(std::forward<M>(message), DefaultSender()), options);
  }
  // As above, with `sender` as the message's sender (who a Reply goes to):
  // how a manager hands a client's request to a worker that answers the
  // client directly. The SDK's Client always sends as its inbox.
  template <typename M>
  void Tell(const ActorRef& to, M&& message, const ActorRef& sender) {
    TellEnvelope(to, MakeEnvelope(std::forward<M>(message), sender),
                 TellOptions());
  }
  // The same, to a Pid as it arrived inside a message.
  template <typename M>
  TimerHandle Tell(const v1::Pid& to, M&& message,
                   const TellOptions& options = {}) {
    return Tell(Ref(to), std::forward<M>(message), options);
  }
  template <typename M>
  void Tell(const v1::Pid& to, M&& message, const ActorRef& sender) {
    Tell(Ref(to), std::forward<M>(message), sender);
  }

  // The ref a Pid received inside a message names (a Terminated's ref(), a
  // reply-to field). Never fails: a Pid of no live actor gives a ref whose
  // messages become dead letters. Thread-safety: see the subclass.
  virtual ActorRef Ref(const v1::Pid& pid) = 0;

  // Sends a ready-made envelope (its sender as set); for the templates above
  // and for code that forwards envelopes.
  virtual TimerHandle TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                   const TellOptions& options) = 0;

 protected:
  ~Teller() = default;
  // The sender stamped on messages sent through Tell.
  virtual ActorRef DefaultSender() const = 0;
};

// Sends `message` to `to` from nobody, for code that holds a ref but no
// teller: a supervisor's decider, a callback on a foreign thread (CAF's
// anon_send). Never fails: an actor that is gone turns it into a dead
// letter. A send to nobody is dropped (there is no system to count it in).
// Thread-safe.
template <typename M>
void AnonymousTell(const ActorRef& to, M&& message) {
  if (to) {
    to.process()->SendUser(MakeEnvelope(std::forward<M>(message), ActorRef()));
  }
}

class Requester : public Teller {
 public:
  // Sends `message` with a one-off reply address; the future completes with
  // the first message sent to that address, or an error (see AskFuture).
  // Never call it inside an actor: ActorContext::Ask takes a continuation.
  template <typename M>
  AskFuture Ask(const ActorRef& to, M&& message, absl::Duration timeout) {
    return AskEnvelope(to, MakeEnvelope(std::forward<M>(message), ActorRef()),
                       timeout);
  }
  template <typename M>
  AskFuture Ask(const v1::Pid& to, M&& message, absl::Duration timeout) {
    return Ask(Ref(to), std::forward<M>(message), timeout);
  }

  // Asks with a ready-made envelope (its sender is replaced by the reply
  // address; its method, if any, kept: a typed call); for the templates
  // above and for typed refs.
  AskFuture AskEnvelope(const ActorRef& to, EnvelopePtr envelope,
                        absl::Duration timeout) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<MessagePtr>>>();
    AskFuture future = promise->get_future();
    AskAsync(to, std::move(envelope), timeout,
             [promise](absl::StatusOr<MessagePtr> result) {
               promise->set_value(std::move(result));
             });
    return future;
  }
  // As AskEnvelope, but completes by calling `done` once, on whichever
  // thread completes the ask (a timer, the replying actor's, a link's or a
  // gRPC thread); `done` must not block. Thread-safe.
  virtual void AskAsync(const ActorRef& to, EnvelopePtr envelope,
                        absl::Duration timeout, AskCallback done) = 0;

  // Spawns `kind` named `name` ("" = generated) with the optional `init` on
  // the node at `node` ("" = this one: the system's node, the client's
  // node), through that node's activator, as ActorContext::SpawnOn does;
  // the future holds the new actor's exact ref, or the error (same codes).
  // Never block on it inside an actor (use ctx.SpawnOn). Thread-safe.
  std::future<absl::StatusOr<ActorRef>> SpawnOn(absl::string_view node,
                                                absl::string_view kind,
                                                absl::string_view name,
                                                const Message* init,
                                                absl::Duration timeout) {
    return Activate(SpawnRequestFor(node, kind, name, init), timeout);
  }
  // The live actor named `name` on `node`, as a name-only ref (see
  // ActorContext::LookupOn). Thread-safe.
  std::future<absl::StatusOr<ActorRef>> LookupOn(absl::string_view node,
                                                 absl::string_view name,
                                                 absl::Duration timeout) {
    return Activate(LookupRequestFor(node, name), timeout);
  }
  // Asks the activator of the node an activator request names (see
  // activator_protocol.h); for SpawnOn and LookupOn.
  virtual std::future<absl::StatusOr<ActorRef>> Activate(
      const Message& request, absl::Duration timeout) = 0;

 protected:
  ~Requester() = default;
};

}  // namespace troupe
