// TellWithOptions: a send with TellOptions (now, after a delay, or
// periodically) on a TimerScheduler, shared by ActorSystem and the SDK's
// Client so both keep the same timer semantics.
#pragma once

#include <functional>
#include <utility>

#include "absl/strings/string_view.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/process.h"
#include "node/runtime/system_messages.h"
#include "node/runtime/teller.h"
#include "node/runtime/timer_scheduler.h"

namespace troupe {

// What becomes of a message that cannot be delivered (no target, or a
// periodic send whose target died).
using DeadLetterFn = std::function<void(
    const ActorRef& to, EnvelopePtr envelope, DeadLetterReason reason)>;

// With a delay or a period: once after the delay, or every period (first
// after the delay), each tick a copy, until the handle is cancelled or a
// tick finds the target terminated (that copy becomes a dead letter).
// `timers` and what `dead_letter` uses must outlive the timer.
TimerHandle TellLater(TimerScheduler& timers, const ActorRef& to,
                      EnvelopePtr envelope, const TellOptions& options,
                      DeadLetterFn dead_letter);

// Sends now when there is no delay and no period (the hot path: nothing is
// allocated), else TellLater.
template <typename DeadLetter>
TimerHandle TellWithOptions(TimerScheduler& timers, const ActorRef& to,
                            EnvelopePtr envelope, const TellOptions& options,
                            DeadLetter&& dead_letter) {
  if (options.period <= absl::ZeroDuration() &&
      options.delay <= absl::ZeroDuration()) {
    if (to) {
      to.process()->SendUser(std::move(envelope));
    } else {
      dead_letter(to, std::move(envelope), kNoSuchActor);
    }
    return TimerHandle();
  }
  return TellLater(timers, to, std::move(envelope), options,
                   std::forward<DeadLetter>(dead_letter));
}

}  // namespace troupe
