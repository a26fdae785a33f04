#include "node/runtime/actor.h"

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

}  // namespace troupe
