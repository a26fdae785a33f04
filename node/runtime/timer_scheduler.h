// TimerScheduler: the one thread that runs every timer of a process.
#pragma once

#include <cstddef>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "node/runtime/clock.h"
#include "node/runtime/sync.h"

namespace troupe {

namespace timer_internal {
class TimerCore;
class TimerState;
}  // namespace timer_internal

// A handle to one scheduled timer. Copyable value type (copies refer to the
// same timer); a default-constructed handle holds no timer. A handle may
// outlive the TimerScheduler that made it: Cancel() and done() stay safe.
// Like std::shared_ptr, its const methods may be called from any number of
// threads at once, but assigning to a handle object races with other use of
// that same object.
class TimerHandle {
 public:
  TimerHandle() = default;

  // Cancels the timer. Idempotent and thread-safe; may be called from inside
  // the timer's own callback (or any other timer's). After it returns the
  // callback will not start again; a callback already running on the timer
  // thread finishes. If the timer was waiting, its entry is removed and its
  // callback (and whatever it captured) is destroyed before Cancel() returns,
  // on the calling thread and outside the scheduler's lock. A no-op on a
  // default-constructed handle or a timer that is already done().
  void Cancel() const;

  // True once Cancel() was called, or a one-shot timer's callback has started
  // (it cannot run again; true already inside the callback), or the periodic
  // callback returned false, or the scheduler shut down. Never goes back to
  // false. True for a default-constructed handle. Thread-safe, lock-free.
  bool done() const;

  // True if the handle holds a timer (even one that is done()).
  explicit operator bool() const { return state_ != nullptr; }

 private:
  friend class timer_internal::TimerCore;

  explicit TimerHandle(std::shared_ptr<timer_internal::TimerState> state)
      : state_(std::move(state)) {}

  std::shared_ptr<timer_internal::TimerState> state_;
};

// One thread runs every timer of a process (not a thread per timer).
// Callbacks run on that thread, one at a time, never under the scheduler's
// lock, so they may schedule and cancel timers; they must be short (they
// typically enqueue a message) and must not block. Timers run in order of due
// time; timers due at the same time run in the order they were scheduled.
// Due times are measured on a monotonic clock (Clock::Real()), so wall-clock
// adjustments do not make timers fire early. For tests on simulated time, a
// scheduler built on a ManualClock has no thread: the test advances the
// clock and calls RunDue().
//
// All methods are thread-safe. Scheduling and cancelling cost O(log n) in the
// number of pending timers.
class TimerScheduler {
 public:
  // Starts the timer thread, on the real monotonic clock.
  TimerScheduler();
  // A scheduler on simulated time: no thread; timers run only in RunDue(),
  // on its caller's thread, when `clock` (which must outlive the scheduler)
  // says they are due.
  explicit TimerScheduler(const ManualClock* clock);
  // Shutdown(). Must not run on the timer thread (i.e. a callback, or the
  // destructor of something a callback captured, must not own the scheduler).
  ~TimerScheduler();

  TimerScheduler(const TimerScheduler&) = delete;
  TimerScheduler& operator=(const TimerScheduler&) = delete;

  // Runs fn once, `delay` from now (<= 0: as soon as possible). fn is
  // destroyed on the timer thread after it ran, or by Cancel() / Shutdown()
  // if it never ran. An empty fn makes a timer that does nothing when due.
  // After Shutdown(), returns a handle that is already done() and destroys fn
  // without running it.
  TimerHandle ScheduleOnce(absl::Duration delay, absl::AnyInvocable<void()> fn);

  // Runs fn first `initial_delay` from now (<= 0: as soon as possible), then
  // every `period` (must be > 0; a non-positive period is treated as 1ms) at a
  // fixed rate measured from the first due time (no drift). When the thread
  // falls behind, fn runs once and the next due time is the first one on that
  // fixed-rate grid that is after now (no burst of catch-up runs). Stops when
  // cancelled or when fn returns false. fn is destroyed as for
  // ScheduleOnce() (on the timer thread once it returned false); an empty fn
  // makes a timer that is done after its first due time. After Shutdown(),
  // returns a handle that is already done() and destroys fn without running
  // it.
  TimerHandle SchedulePeriodic(absl::Duration initial_delay,
                               absl::Duration period,
                               absl::AnyInvocable<bool()> fn);

  // A scheduler on a ManualClock: runs every timer due by the clock's now,
  // in due order (a periodic timer once, then due again at its next slot
  // after now), on the calling thread; returns how many ran. On a
  // scheduler with a thread it races with that thread: don't.
  size_t RunDue();

  // Number of timers scheduled and not yet done() (cancelled ones are removed
  // eagerly, not when their time comes). A periodic timer whose callback is
  // running counts; a one-shot whose callback is running does not.
  size_t pending() const;

  // Stops the thread (waiting for a running callback to finish) and destroys
  // every pending callback without running it; their handles become done().
  // Idempotent; a concurrent second call returns once the first has finished.
  // Later Schedule* calls return a handle that is already done() and never
  // run fn. Must not be called from the timer thread (a callback); doing so
  // aborts the process.
  void Shutdown();

 private:
  const std::shared_ptr<timer_internal::TimerCore> core_;
  // Serialises Shutdown() so that exactly one caller joins the thread.
  Mutex shutdown_mu_;
  std::thread thread_ ABSL_GUARDED_BY(shutdown_mu_);  // none on a ManualClock
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace troupe
