#include "node/runtime/timed_tell.h"

#include <atomic>
#include <memory>
#include <utility>

#include "node/runtime/envelope_observer.h"

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

// A periodic tell's copy in flight: set when a tick sends one, cleared when
// that copy is gone (handled, dead-lettered, or put on a link).
class TickInFlight final : public EnvelopeObserver {
 public:
  // True when no copy is in flight; then one is, until EnvelopeGone.
  bool TryStart() {
    return !in_flight_.exchange(true, std::memory_order_acq_rel);
  }
  void EnvelopeGone() override {
    in_flight_.store(false, std::memory_order_release);
  }

 private:
  std::atomic<bool> in_flight_{false};
};

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
  // Periodic: each tick sends a copy, unless the last copy is still queued
  // (coalesced: a busy target finds one copy waiting, not one per period).
  // The first tick that finds the target dead turns its copy into a dead
  // letter and ends the timer.
  std::shared_ptr<Envelope> prototype(std::move(envelope));
  auto tick = std::make_shared<TickInFlight>();
  return timers.SchedulePeriodic(
      options.delay, options.period,
      [to, prototype, tick, dead_letter = std::move(dead_letter)]() {
        if (!to || to.process()->IsTerminated()) {
          dead_letter(to, CloneEnvelope(*prototype), kActorStopped);
          return false;
        }
        if (!tick->TryStart()) {
          return true;  // the last copy has not been taken yet
        }
        EnvelopePtr copy = CloneEnvelope(*prototype);
        copy->observer = tick;
        to.process()->SendUser(std::move(copy));
        return true;
      });
}

}  // namespace troupe
