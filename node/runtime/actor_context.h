// ActorContext: an actor's view of the runtime, passed to Receive and the
// hooks. Valid only during that call and only on that thread (don't store
// it or use it from another thread; store Self() instead).
#pragma once

#include <cstddef>
#include <future>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/input_source.h"
#include "node/runtime/teller.h"

namespace troupe {

class ActorSystem;

struct SpawnOptions {
  // Mailbox bound: user messages beyond this many queued become dead letters
  // (counted). 0 = unbounded.
  size_t mailbox_capacity = 0;
};

class ActorContext : public Teller {
 public:
  virtual const ActorRef& Self() const = 0;
  // The sender of the message being handled (nobody in hooks, or when sent
  // from outside any actor).
  virtual const ActorRef& Sender() const = 0;
  // The parent (nobody for a top-level actor).
  virtual const ActorRef& Parent() const = 0;
  virtual std::vector<ActorRef> Children() const = 0;
  virtual ActorSystem& System() = 0;

  // Tell(Sender(), message).
  template <typename M>
  void Reply(M&& message) {
    Tell(Sender(), std::forward<M>(message));
  }
  // Sends a copy of the message being handled to `to`, keeping its sender.
  virtual void Forward(const ActorRef& to) = 0;

  // Spawns a child, supervised by this actor. Its id is this actor's id,
  // '/', and `name` (or a generated name when empty). ALREADY_EXISTS when
  // the name is taken; INVALID_ARGUMENT for a bad name.
  template <typename A>
  absl::StatusOr<ActorRef> Spawn(absl::string_view name = "",
                                 const SpawnOptions& options = {}) {
    return Spawn([] { return std::unique_ptr<Actor>(new A()); }, name, options);
  }
  virtual absl::StatusOr<ActorRef> Spawn(ActorFactory factory,
                                         absl::string_view name = "",
                                         const SpawnOptions& options = {}) = 0;

  // Terminated{ref, reason} arrives once when `ref` ends (at once, with
  // NOT_FOUND, when it is already dead or unknown). Idempotent.
  virtual void Watch(const ActorRef& ref) = 0;
  // No Terminated for `ref` after this returns. Harmless if not watching.
  virtual void Unwatch(const ActorRef& ref) = 0;

  // Stops this actor after the current message (queued messages become dead
  // letters).
  virtual void Stop() = 0;
  // Stops any actor (overtakes its queued messages).
  virtual void Stop(const ActorRef& ref) = 0;

  // Replaces Receive by `behavior` until Unbecome (or a restart).
  virtual void Become(Behavior behavior) = 0;
  virtual void Unbecome() = 0;

  // Runs `fn` repeatedly on a thread of its own and delivers what it returns
  // to this actor (sender: nobody), one message at a time: see
  // input_source.h. Ends when the actor stops.
  virtual InputSourceHandle AddInputSource(InputSourceFn fn) = 0;
  // Delivers the future's message to this actor when it is ready (nothing if
  // the actor stopped first or the message is null).
  virtual void PipeToSelf(std::future<MessagePtr> future) = 0;
  // Delivers an Ask's reply to this actor when it comes (sender: nobody), or
  // an AskFailure{code, message} when the ask fails.
  virtual void PipeToSelf(AskFuture future) = 0;

 protected:
  ~ActorContext() = default;
};

}  // namespace troupe
