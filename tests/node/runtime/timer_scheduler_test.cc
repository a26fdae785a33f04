#include "node/runtime/timer_scheduler.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "node/runtime/sync.h"

// These tests never sleep to let something happen: they wait for events
// (Event, Counter::AwaitAtLeast) with a generous timeout, and prove that
// something did *not* happen with a "marker" timer: timers run in due order
// on one thread, so once a marker has run, every timer due before it has run
// (or been skipped) and any callback that was running has finished.
//
// The test's own synchronisation uses node/runtime/sync.h, whose locks TSan
// can see (Debian's Abseil is not instrumented).
//
// State that callbacks reference is declared before the TimerScheduler, so
// the scheduler (whose destructor joins the timer thread) goes first.

namespace troupe {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(10);
constexpr absl::Duration kLongDelay = absl::Hours(1);

// The scheduler's clock (monotonic). Lower bounds on when a timer ran are
// measured on it: the wall clock (absl::Now()) may be slewed or stepped.
absl::Duration SteadyNow() {
  return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

// A one-time event that tests can wait on, with the test's default bound.
// Thread-safe; Notify() is idempotent.
class Event : public Notification {
 public:
  // True once notified; false if that takes longer than `timeout`.
  bool WaitFor(absl::Duration timeout = kTimeout) const {
    return WaitForNotificationWithTimeout(timeout);
  }
  // Waits (without a timeout) until notified.
  void Wait() const { WaitForNotification(); }
};

// A counter that tests can wait on. Thread-safe.
class Counter {
 public:
  void Increment() {
    MutexLock lock(&mu_);
    ++count_;
  }

  int Get() const {
    MutexLock lock(&mu_);
    return count_;
  }

  // True once the count is at least n; false if that takes over kTimeout.
  bool AwaitAtLeast(int n) const {
    MutexLock lock(&mu_);
    const auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return count_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kTimeout);
  }

 private:
  mutable Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

// Schedules a one-shot "marker" `delay` from now and waits for it to run.
::testing::AssertionResult RunMarker(
    TimerScheduler& scheduler, absl::Duration delay = absl::ZeroDuration()) {
  auto ran = std::make_shared<Event>();
  scheduler.ScheduleOnce(delay, [ran] { ran->Notify(); });
  if (ran->WaitFor()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "marker timer did not run";
}

// Occupies the timer thread (with a callback that waits) until Release() or
// destruction, so that the timers scheduled meanwhile all wait together.
class TimerThreadBlocker {
 public:
  explicit TimerThreadBlocker(TimerScheduler& scheduler)
      : state_(std::make_shared<State>()) {
    scheduler.ScheduleOnce(absl::ZeroDuration(), [state = state_] {
      state->started.Notify();
      state->release.Wait();
    });
  }
  ~TimerThreadBlocker() { Release(); }

  // True once the blocking callback is running.
  bool WaitStarted() { return state_->started.WaitFor(); }

  void Release() { state_->release.Notify(); }

 private:
  struct State {
    Event started;
    Event release;
  };
  std::shared_ptr<State> state_;
};

TEST(TimerSchedulerTest, DefaultHandleHoldsNoTimer) {
  TimerHandle handle;
  EXPECT_FALSE(handle);
  EXPECT_TRUE(handle.done());
  handle.Cancel();  // no-op
  EXPECT_TRUE(handle.done());
}

TEST(TimerSchedulerTest, OneShotRunsOnceAfterItsDelay) {
  constexpr absl::Duration kDelay = absl::Milliseconds(50);
  Counter runs;
  Event ran;
  absl::Duration ran_at;
  TimerScheduler scheduler;

  const absl::Duration start = SteadyNow();
  TimerHandle handle = scheduler.ScheduleOnce(kDelay, [&] {
    ran_at = SteadyNow();
    runs.Increment();
    ran.Notify();
  });
  EXPECT_TRUE(handle);
  ASSERT_TRUE(ran.WaitFor());
  EXPECT_GE(ran_at - start, kDelay);

  ASSERT_TRUE(RunMarker(scheduler));
  EXPECT_EQ(runs.Get(), 1);
  EXPECT_TRUE(handle.done());
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(TimerSchedulerTest, ZeroAndNegativeDelayRunPromptly) {
  Event zero_ran;
  Event negative_ran;
  TimerScheduler scheduler;

  scheduler.ScheduleOnce(absl::ZeroDuration(), [&] { zero_ran.Notify(); });
  scheduler.ScheduleOnce(-absl::Seconds(5), [&] { negative_ran.Notify(); });
  EXPECT_TRUE(zero_ran.WaitFor());
  EXPECT_TRUE(negative_ran.WaitFor());
}

TEST(TimerSchedulerTest, PeriodicRunsAtAFixedRateAndStopsWhenCancelled) {
  constexpr absl::Duration kInitial = absl::Milliseconds(10);
  constexpr absl::Duration kPeriod = absl::Milliseconds(5);
  constexpr int kRuns = 5;
  std::mutex mu;
  std::vector<absl::Duration> starts;  // guarded by mu
  Counter runs;
  TimerScheduler scheduler;

  const absl::Duration scheduled = SteadyNow();
  TimerHandle handle = scheduler.SchedulePeriodic(kInitial, kPeriod, [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      starts.push_back(SteadyNow());
    }
    runs.Increment();
    return true;
  });
  ASSERT_TRUE(runs.AwaitAtLeast(kRuns));
  EXPECT_FALSE(handle.done());
  EXPECT_EQ(scheduler.pending(), 1u);

  handle.Cancel();
  const int at_cancel = runs.Get();
  EXPECT_TRUE(handle.done());
  EXPECT_EQ(scheduler.pending(), 0u);

  // A run that was already under way when Cancel() returned may finish; no
  // other may start, even though several periods pass before the marker.
  ASSERT_TRUE(RunMarker(scheduler, 4 * kPeriod));
  const int final_runs = runs.Get();
  EXPECT_LE(final_runs, at_cancel + 1);
  ASSERT_TRUE(RunMarker(scheduler, 4 * kPeriod));
  EXPECT_EQ(runs.Get(), final_runs);

  // Run i (from 0) is due at scheduled + kInitial + i * kPeriod or later.
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(starts.size(), static_cast<size_t>(kRuns));
  for (size_t i = 0; i < starts.size(); ++i) {
    EXPECT_GE(starts[i] - scheduled,
              kInitial + kPeriod * static_cast<int64_t>(i))
        << "run " << i;
  }
}

TEST(TimerSchedulerTest, PeriodicStopsWhenCallbackReturnsFalse) {
  constexpr int kRuns = 3;
  Counter runs;
  TimerScheduler scheduler;

  TimerHandle handle = scheduler.SchedulePeriodic(absl::ZeroDuration(),
                                                  absl::Milliseconds(1), [&] {
                                                    runs.Increment();
                                                    return runs.Get() < kRuns;
                                                  });
  ASSERT_TRUE(runs.AwaitAtLeast(kRuns));
  ASSERT_TRUE(RunMarker(scheduler, absl::Milliseconds(10)));
  EXPECT_EQ(runs.Get(), kRuns);
  EXPECT_TRUE(handle.done());
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(TimerSchedulerTest, NonPositivePeriodIsTreatedAsOneMillisecond) {
  Counter runs;
  TimerScheduler scheduler;

  TimerHandle handle = scheduler.SchedulePeriodic(absl::ZeroDuration(),
                                                  absl::ZeroDuration(), [&] {
                                                    runs.Increment();
                                                    return true;
                                                  });
  ASSERT_TRUE(runs.AwaitAtLeast(3));
  handle.Cancel();
  EXPECT_EQ(scheduler.pending(), 0u);
}

// --- On simulated time: the timing rules, exactly --------------------------

TEST(TimerSchedulerSimulatedTest, AOneShotRunsWhenItsDelayHasPassedNotBefore) {
  ManualClock clock;
  TimerScheduler timers(&clock);
  int runs = 0;
  TimerHandle timer =
      timers.ScheduleOnce(absl::Milliseconds(100), [&runs] { ++runs; });
  clock.Advance(absl::Milliseconds(99));
  EXPECT_EQ(timers.RunDue(), 0u);
  EXPECT_FALSE(timer.done());
  clock.Advance(absl::Milliseconds(1));
  EXPECT_EQ(timers.RunDue(), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(timer.done());
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(timers.RunDue(), 0u) << "once";
}

TEST(TimerSchedulerSimulatedTest, APeriodicTimerKeepsItsGridWithoutDrift) {
  ManualClock clock;
  TimerScheduler timers(&clock);
  std::vector<absl::Time> runs;
  const absl::Time start = clock.Now();
  TimerHandle timer = timers.SchedulePeriodic(absl::Milliseconds(5),
                                              absl::Milliseconds(10), [&] {
                                                runs.push_back(clock.Now());
                                                return true;
                                              });
  // Run late each time (3 ms after the slot): the next slot stays on the
  // grid start+5, +15, +25, ... (fixed rate, no drift).
  clock.Advance(absl::Milliseconds(8));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(timers.RunDue(), 1u);
    clock.Advance(absl::Milliseconds(10));
  }
  ASSERT_EQ(runs.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(runs[i] - start, absl::Milliseconds(8 + 10 * i));
  }
  timer.Cancel();
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(TimerSchedulerSimulatedTest,
     APeriodicTimerThatFellBehindRunsOnceNotInABurst) {
  ManualClock clock;
  TimerScheduler timers(&clock);
  int runs = 0;
  const absl::Time start = clock.Now();
  timers.SchedulePeriodic(absl::ZeroDuration(), absl::Milliseconds(10), [&] {
    ++runs;
    return true;
  });
  EXPECT_EQ(timers.RunDue(), 1u);  // at start
  // Ten periods pass unserved (the thread was busy): one run, not ten.
  clock.Advance(absl::Milliseconds(95));
  EXPECT_EQ(timers.RunDue(), 1u);
  EXPECT_EQ(runs, 2);
  // The next slot is the first on the grid after now: start + 100 ms.
  clock.Advance(start + absl::Milliseconds(99) - clock.Now());
  EXPECT_EQ(timers.RunDue(), 0u);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_EQ(timers.RunDue(), 1u);
  EXPECT_EQ(runs, 3);
}

TEST(TimerSchedulerSimulatedTest, TimersRunInDueOrderThenSchedulingOrder) {
  ManualClock clock;
  TimerScheduler timers(&clock);
  std::vector<int> order;
  timers.ScheduleOnce(absl::Milliseconds(20), [&] { order.push_back(3); });
  timers.ScheduleOnce(absl::Milliseconds(10), [&] { order.push_back(1); });
  timers.ScheduleOnce(absl::Milliseconds(10), [&] { order.push_back(2); });
  timers.ScheduleOnce(absl::Milliseconds(30), [&] { order.push_back(4); });
  clock.Advance(absl::Milliseconds(25));
  EXPECT_EQ(timers.RunDue(), 3u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  timers.Shutdown();  // the one at 30 ms is dropped, not run
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(timers.RunDue(), 0u);
  EXPECT_EQ(order.size(), 3u);
}

TEST(TimerSchedulerTest, CancelBeforeDueNeverRunsAndRemovesEntryAtOnce) {
  Counter runs;
  TimerScheduler scheduler;

  TimerHandle far =
      scheduler.ScheduleOnce(kLongDelay, [&] { runs.Increment(); });
  TimerHandle far_periodic =
      scheduler.SchedulePeriodic(kLongDelay, absl::Seconds(1), [&] {
        runs.Increment();
        return true;
      });
  EXPECT_EQ(scheduler.pending(), 2u);
  far.Cancel();
  EXPECT_EQ(scheduler.pending(), 1u);
  far_periodic.Cancel();
  EXPECT_EQ(scheduler.pending(), 0u);
  EXPECT_TRUE(far.done());
  EXPECT_TRUE(far_periodic.done());
  const TimerHandle copy = far;
  copy.Cancel();  // idempotent, through a copy too
  far.Cancel();
  EXPECT_TRUE(copy.done());
  EXPECT_EQ(scheduler.pending(), 0u);

  // A timer that is already due but cancelled before the (blocked) timer
  // thread gets to it never runs either.
  TimerThreadBlocker blocker(scheduler);
  ASSERT_TRUE(blocker.WaitStarted());
  TimerHandle due =
      scheduler.ScheduleOnce(absl::ZeroDuration(), [&] { runs.Increment(); });
  due.Cancel();
  blocker.Release();
  ASSERT_TRUE(RunMarker(scheduler));
  EXPECT_EQ(runs.Get(), 0);
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(TimerSchedulerTest, CancelReleasesCapturedStateImmediately) {
  TimerScheduler scheduler;
  auto once_state = std::make_shared<int>(1);
  auto periodic_state = std::make_shared<int>(2);
  std::weak_ptr<int> once_weak = once_state;
  std::weak_ptr<int> periodic_weak = periodic_state;

  TimerHandle once = scheduler.ScheduleOnce(
      kLongDelay, [state = std::move(once_state)] { (void)state; });
  TimerHandle periodic = scheduler.SchedulePeriodic(
      kLongDelay, absl::Seconds(1),
      [state = std::move(periodic_state)] { return state != nullptr; });
  EXPECT_FALSE(once_weak.expired());
  EXPECT_FALSE(periodic_weak.expired());

  once.Cancel();
  EXPECT_TRUE(once_weak.expired());
  periodic.Cancel();
  EXPECT_TRUE(periodic_weak.expired());
}

TEST(TimerSchedulerTest, CallbackMayCancelItsOwnTimer) {
  constexpr int kCancelAt = 3;
  Event handle_ready;
  TimerHandle handle;  // written before handle_ready is notified
  Counter runs;
  Event once_ready;
  Event once_ran;
  TimerHandle once;  // written before once_ready is notified
  TimerScheduler scheduler;

  handle = scheduler.SchedulePeriodic(absl::ZeroDuration(),
                                      absl::Milliseconds(1), [&] {
                                        handle_ready.Wait();
                                        runs.Increment();
                                        if (runs.Get() == kCancelAt) {
                                          handle.Cancel();
                                          EXPECT_TRUE(handle.done());
                                        }
                                        return true;
                                      });
  handle_ready.Notify();
  ASSERT_TRUE(runs.AwaitAtLeast(kCancelAt));
  ASSERT_TRUE(RunMarker(scheduler, absl::Milliseconds(10)));
  EXPECT_EQ(runs.Get(), kCancelAt);
  EXPECT_TRUE(handle.done());
  EXPECT_EQ(scheduler.pending(), 0u);

  // A one-shot is done once its callback starts; cancelling it from there is
  // a harmless no-op.
  once = scheduler.ScheduleOnce(absl::ZeroDuration(), [&] {
    once_ready.Wait();
    EXPECT_TRUE(once.done());
    once.Cancel();
    once_ran.Notify();
  });
  once_ready.Notify();
  ASSERT_TRUE(once_ran.WaitFor());
  ASSERT_TRUE(RunMarker(scheduler));
  EXPECT_TRUE(once.done());
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(TimerSchedulerTest, TimersDueTogetherRunInSchedulingOrder) {
  constexpr int kTimers = 200;
  std::mutex mu;
  std::vector<int> order;  // guarded by mu
  TimerScheduler scheduler;

  {
    // With the timer thread held up, every timer below is due before it
    // gets to any of them.
    TimerThreadBlocker blocker(scheduler);
    ASSERT_TRUE(blocker.WaitStarted());
    for (int i = 0; i < kTimers; ++i) {
      scheduler.ScheduleOnce(absl::ZeroDuration(), [&, i] {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(i);
      });
    }
    // (The blocker, a running one-shot, is already done.)
    EXPECT_EQ(scheduler.pending(), static_cast<size_t>(kTimers));
  }
  ASSERT_TRUE(RunMarker(scheduler));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(order.size(), static_cast<size_t>(kTimers));
  for (int i = 0; i < kTimers; ++i) EXPECT_EQ(order[i], i);
}

TEST(TimerSchedulerTest, ConcurrentScheduleAndCancel) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;  // half run, half are cancelled
  constexpr int kExpectedRuns = kThreads * kPerThread / 2;
  Counter runs;
  Counter cancelled_runs;
  auto tracker = std::make_shared<int>(0);
  TimerScheduler scheduler;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<TimerHandle> to_cancel_later;
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 2 == 0) {
          scheduler.ScheduleOnce(absl::Microseconds(i % 500),
                                 [&runs] { runs.Increment(); });
          continue;
        }
        TimerHandle handle = scheduler.ScheduleOnce(
            absl::Seconds(30),
            [&cancelled_runs, tracker] { cancelled_runs.Increment(); });
        if (i % 4 == 1) {
          handle.Cancel();
        } else {
          to_cancel_later.push_back(std::move(handle));
        }
      }
      for (const TimerHandle& handle : to_cancel_later) handle.Cancel();
    });
  }
  for (std::thread& thread : threads) thread.join();

  ASSERT_TRUE(runs.AwaitAtLeast(kExpectedRuns));
  ASSERT_TRUE(RunMarker(scheduler));
  EXPECT_EQ(runs.Get(), kExpectedRuns);
  EXPECT_EQ(cancelled_runs.Get(), 0);
  EXPECT_EQ(scheduler.pending(), 0u);
  EXPECT_EQ(tracker.use_count(), 1);  // every cancelled callback destroyed
}

TEST(TimerSchedulerTest, ShutdownDestroysPendingCallbacksWithoutRunningThem) {
  Counter runs;
  auto tracker = std::make_shared<int>(0);
  auto scheduler = std::make_unique<TimerScheduler>();

  std::vector<TimerHandle> handles;
  for (int i = 0; i < 3; ++i) {
    handles.push_back(scheduler->ScheduleOnce(
        kLongDelay, [&runs, tracker] { runs.Increment(); }));
  }
  handles.push_back(scheduler->SchedulePeriodic(kLongDelay, absl::Seconds(1),
                                                [&runs, tracker] {
                                                  runs.Increment();
                                                  return true;
                                                }));
  EXPECT_EQ(scheduler->pending(), 4u);
  EXPECT_EQ(tracker.use_count(), 5);

  scheduler->Shutdown();
  EXPECT_EQ(scheduler->pending(), 0u);
  EXPECT_EQ(tracker.use_count(), 1);
  for (const TimerHandle& handle : handles) EXPECT_TRUE(handle.done());

  // Later schedules are done at once and their callbacks destroyed unrun.
  TimerHandle late_once = scheduler->ScheduleOnce(
      absl::ZeroDuration(), [&runs, tracker] { runs.Increment(); });
  TimerHandle late_periodic = scheduler->SchedulePeriodic(
      absl::ZeroDuration(), absl::Milliseconds(1), [&runs, tracker] {
        runs.Increment();
        return true;
      });
  EXPECT_TRUE(late_once);
  EXPECT_TRUE(late_once.done());
  EXPECT_TRUE(late_periodic.done());
  EXPECT_EQ(tracker.use_count(), 1);
  EXPECT_EQ(scheduler->pending(), 0u);

  scheduler->Shutdown();  // idempotent
  scheduler.reset();      // and the destructor shuts down again
  // Handles outlive the scheduler.
  for (const TimerHandle& handle : handles) handle.Cancel();
  late_once.Cancel();
  EXPECT_EQ(runs.Get(), 0);
}

TEST(TimerSchedulerTest, ShutdownWaitsForARunningCallback) {
  Event started;
  Event release;
  bool finished = false;  // written on the timer thread, read after join
  TimerScheduler scheduler;

  scheduler.ScheduleOnce(absl::ZeroDuration(), [&] {
    started.Notify();
    release.Wait();
    finished = true;
  });
  ASSERT_TRUE(started.WaitFor());
  std::thread releaser([&release] { release.Notify(); });
  scheduler.Shutdown();
  EXPECT_TRUE(finished);
  releaser.join();
}

TEST(TimerSchedulerTest, CallbackMayScheduleAndCancelTimers) {
  Event inner_ran;
  Event outer_ran;
  TimerHandle far;  // written before the callback that reads it is scheduled
  TimerScheduler scheduler;

  far = scheduler.ScheduleOnce(kLongDelay, [] {});
  ASSERT_EQ(scheduler.pending(), 1u);
  scheduler.ScheduleOnce(absl::ZeroDuration(), [&] {
    far.Cancel();
    scheduler.ScheduleOnce(absl::Milliseconds(1),
                           [&inner_ran] { inner_ran.Notify(); });
    outer_ran.Notify();
  });
  ASSERT_TRUE(outer_ran.WaitFor());
  EXPECT_TRUE(inner_ran.WaitFor());
  EXPECT_TRUE(far.done());
  ASSERT_TRUE(RunMarker(scheduler));
  EXPECT_EQ(scheduler.pending(), 0u);
}

// Schedules a timer from its destructor (when it is not moved-from).
class SchedulesOnDestruction {
 public:
  SchedulesOnDestruction(TimerScheduler* scheduler,
                         std::shared_ptr<Event> destroyed)
      : scheduler_(scheduler), destroyed_(std::move(destroyed)) {}
  SchedulesOnDestruction(SchedulesOnDestruction&& other)
      : scheduler_(other.scheduler_), destroyed_(std::move(other.destroyed_)) {
    other.scheduler_ = nullptr;
  }
  SchedulesOnDestruction& operator=(SchedulesOnDestruction&&) = delete;
  ~SchedulesOnDestruction() {
    if (scheduler_ == nullptr) return;
    scheduler_->ScheduleOnce(absl::ZeroDuration(),
                             [destroyed = destroyed_] { destroyed->Notify(); });
  }

 private:
  TimerScheduler* scheduler_;
  std::shared_ptr<Event> destroyed_;
};

TEST(TimerSchedulerTest, CallbackDestructorMayCallIntoScheduler) {
  auto destroyed_after_cancel = std::make_shared<Event>();
  auto destroyed_after_run = std::make_shared<Event>();
  TimerScheduler scheduler;

  // Destroyed by Cancel() on this thread.
  TimerHandle cancelled = scheduler.ScheduleOnce(
      kLongDelay,
      [guard = SchedulesOnDestruction(&scheduler, destroyed_after_cancel)] {});
  cancelled.Cancel();
  EXPECT_TRUE(destroyed_after_cancel->WaitFor());

  // Destroyed on the timer thread after it ran.
  scheduler.ScheduleOnce(
      absl::ZeroDuration(),
      [guard = SchedulesOnDestruction(&scheduler, destroyed_after_run)] {});
  EXPECT_TRUE(destroyed_after_run->WaitFor());
}

}  // namespace
}  // namespace troupe
