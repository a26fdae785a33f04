// Helpers for runtime tests: an actor built from lambdas, and a bound for
// every wait (tests wait on notifications, never on fixed sleeps).
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"

namespace troupe::testing {

// Every wait in the tests is bounded by this (generous: CI runs sanitizers).
inline constexpr absl::Duration kWait = absl::Seconds(10);

using ReceiveFn = std::function<absl::Status(ActorContext&, const Message&)>;

// An actor whose Receive (and optional hooks) are lambdas.
class LambdaActor : public Actor {
 public:
  explicit LambdaActor(ReceiveFn receive) : receive_(std::move(receive)) {}

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    return receive_(ctx, message);
  }
  absl::Status Started(ActorContext& ctx) override {
    return started_ ? started_(ctx) : absl::OkStatus();
  }
  void Stopped(ActorContext& ctx) override {
    if (stopped_) {
      stopped_(ctx);
    }
  }
  SupervisorStrategy supervisor_strategy() const override {
    return strategy_ ? *strategy_ : SupervisorStrategy::Default();
  }

  std::function<absl::Status(ActorContext&)> started_;
  std::function<void(ActorContext&)> stopped_;
  std::unique_ptr<SupervisorStrategy> strategy_;

 private:
  ReceiveFn receive_;
};

inline ActorFactory Lambda(ReceiveFn receive) {
  return [receive] { return std::make_unique<LambdaActor>(receive); };
}

// Replies to every message with a copy of it.
inline ActorFactory Echo() {
  return Lambda([](ActorContext& ctx, const Message& message) {
    ctx.Reply(CloneMessage(message));
    return absl::OkStatus();
  });
}

}  // namespace troupe::testing
