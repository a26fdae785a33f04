#include "node/runtime/actor.h"

#include <memory>
#include <utility>

namespace troupe {

absl::Status Actor::Started(ActorContext& /*ctx*/) { return absl::OkStatus(); }

void Actor::Stopped(ActorContext& /*ctx*/) {}

void Actor::PreRestart(ActorContext& /*ctx*/, const absl::Status& /*reason*/) {}

absl::Status Actor::PostRestart(ActorContext& ctx,
                                const absl::Status& /*reason*/) {
  return Started(ctx);
}

SupervisorStrategy Actor::supervisor_strategy() const {
  return SupervisorStrategy::Default();
}

namespace {

class BehaviorActor final : public Actor {
 public:
  explicit BehaviorActor(std::shared_ptr<const Behavior> behavior)
      : behavior_(std::move(behavior)) {}
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    return (*behavior_)(ctx, message);
  }

 private:
  std::shared_ptr<const Behavior> behavior_;
};

}  // namespace

ActorFactory FromBehavior(Behavior behavior) {
  // Shared by every instance: spawning many copies the pointer, not the
  // function.
  auto shared = std::make_shared<const Behavior>(std::move(behavior));
  return [shared] { return std::make_unique<BehaviorActor>(shared); };
}

}  // namespace troupe
