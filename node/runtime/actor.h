// Actor: the base class of user actors. The runtime calls one method at a
// time on an actor's own instance, never concurrently, on a dispatcher
// thread; Receive handles one message; the hooks frame its life.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "node/runtime/message.h"
#include "node/runtime/supervision.h"

namespace troupe {

class ActorContext;

class Actor {
 public:
  virtual ~Actor() = default;

  // Handles one message. A non-OK status or a thrown exception is a failure:
  // the actor is suspended and its parent's SupervisorStrategy decides.
  // `ctx` and `message` are valid only during the call.
  virtual absl::Status Receive(ActorContext& ctx, const Message& message) = 0;

  // Runs before the first message. Failing here (status or exception) is a
  // failure with Failure::during_start set.
  virtual absl::Status Started(ActorContext& ctx);

  // Runs after the last message, once the actor's children have stopped.
  // Exceptions are logged and ignored.
  virtual void Stopped(ActorContext& ctx);

  // Restart: PreRestart runs on the failed instance, which is then
  // destroyed; PostRestart runs on the new one (its default calls Started).
  virtual void PreRestart(ActorContext& ctx, const absl::Status& reason);
  virtual absl::Status PostRestart(ActorContext& ctx,
                                   const absl::Status& reason);

  // How this actor supervises its children. Called when a child fails.
  virtual SupervisorStrategy supervisor_strategy() const;
};

// Makes a fresh actor instance: at spawn and at each restart.
using ActorFactory = std::function<std::unique_ptr<Actor>()>;

// A behaviour: what an actor does with a message. Installed with
// ActorContext::Become (replacing Receive), or an actor of its own through
// FromBehavior.
using Behavior = std::function<absl::Status(ActorContext&, const Message&)>;

// A factory of actors that are just `behavior` (the seeds' actor_of(
// behaviour=fn)): system.Spawn(FromBehavior(fn), "name"). Each instance
// (and each restart) calls the same function; keep state in its captures or
// write an Actor class.
ActorFactory FromBehavior(Behavior behavior);

}  // namespace troupe
