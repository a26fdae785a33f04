#include "node/runtime/timed_tell.h"

#include <memory>
#include <utility>

namespace troupe {
namespace {

void SendNow(const ActorRef& to, EnvelopePtr envelope,
             const DeadLetterFn& dead_letter) {
  if (!to) {
    dead_letter(to, std::move(envelope), kNoSuchActor);
  } else {
    to.process()->SendUser(std::move(envelope));
  }
}

}  // namespace

TimerHandle TellLater(TimerScheduler& timers, const ActorRef& to,
                      EnvelopePtr envelope, const TellOptions& options,
                      DeadLetterFn dead_letter) {
  if (options.period <= absl::ZeroDuration()) {
    return timers.ScheduleOnce(
        options.delay, [to, envelope = std::move(envelope),
                        dead_letter = std::move(dead_letter)]() mutable {
          SendNow(to, std::move(envelope), dead_letter);
        });
  }
  // Periodic: each tick sends a copy; the first tick that finds the target
  // dead turns that copy into a dead letter and ends the timer.
  std::shared_ptr<Envelope> prototype(std::move(envelope));
  return timers.SchedulePeriodic(
      options.delay, options.period,
      [to, prototype, dead_letter = std::move(dead_letter)]() {
        EnvelopePtr copy =
            MakeEnvelope(CloneMessage(prototype->message()), prototype->sender);
        if (!to || to.process()->IsTerminated()) {
          dead_letter(to, std::move(copy), kActorStopped);
          return false;
        }
        to.process()->SendUser(std::move(copy));
        return true;
      });
}

}  // namespace troupe
