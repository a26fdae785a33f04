// TellWithOptions: a send with TellOptions (now, after a delay, or
// periodically) on a TimerScheduler, shared by ActorSystem and the SDK's
// Client so both keep the same timer semantics.
#pragma once

#include <functional>

#include "absl/strings/string_view.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/teller.h"
#include "node/runtime/timer_scheduler.h"

namespace troupe {

// What becomes of a message that cannot be delivered (no target, or a
// periodic send whose target died).
using DeadLetterFn =
    std::function<void(const ActorRef& to, EnvelopePtr envelope,
                       absl::string_view reason)>;

// No delay and no period: sends now. Delay only: once after it. Period: every
// period (first after the delay), each tick a copy, until the handle is
// cancelled or a tick finds the target terminated (that copy becomes a dead
// letter). `timers` and `dead_letter` must outlive the timer.
TimerHandle TellWithOptions(TimerScheduler& timers, const ActorRef& to,
                            EnvelopePtr envelope, const TellOptions& options,
                            DeadLetterFn dead_letter);

}  // namespace troupe
