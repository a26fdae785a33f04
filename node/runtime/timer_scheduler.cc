#include "node/runtime/timer_scheduler.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "node/runtime/sync.h"

namespace troupe {
namespace timer_internal {
namespace {

// Orders the queue: due time (on the scheduler's monotonic clock, so
// wall-clock steps neither fire timers early nor hold them back), then
// scheduling order for equal due times.
using Key = std::pair<absl::Time, uint64_t>;

// The core whose timer thread is the current thread, if any (so Shutdown()
// from a callback can be caught instead of deadlocking).
thread_local const TimerCore* current_timer_core = nullptr;

}  // namespace

// The scheduler's shared internals: the queue, its lock and the thread's
// wake-up signal. Owned by the TimerScheduler and by every TimerState (so a
// handle may outlive the scheduler).
class TimerCore : public std::enable_shared_from_this<TimerCore> {
 public:
  struct Entry;
  using Queue = std::map<Key, Entry>;

  explicit TimerCore(const Clock* clock) : clock_(clock) {}
  TimerCore(const TimerCore&) = delete;
  TimerCore& operator=(const TimerCore&) = delete;

  // Queues `entry` (whose state is filled in here) `delay` from now, or, once
  // Stop() was called, returns a done handle and destroys the entry's
  // callbacks outside the lock.
  TimerHandle Schedule(absl::Duration delay, Entry entry)
      ABSL_LOCKS_EXCLUDED(mu_);

  // See TimerHandle::Cancel().
  void Cancel(TimerState& state) ABSL_LOCKS_EXCLUDED(mu_);

  size_t pending() const ABSL_LOCKS_EXCLUDED(mu_);

  // The timer thread's body; returns once Stop() was called (after finishing
  // a running callback).
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  // Runs every timer due by now on the calling thread (a scheduler without
  // a thread); how many ran.
  size_t RunDue() ABSL_LOCKS_EXCLUDED(mu_);

  // Makes Run() return and later Schedule() calls return done handles.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Marks every queued timer done and destroys its callbacks (outside the
  // lock). Called after the timer thread has been joined.
  void DropAll() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class TimerState;

  // Runs the callback of the extracted head entry `node` without the lock,
  // then requeues it (periodic) or destroys it outside the lock (marking it
  // done if it is not already).
  void RunEntry(Queue::node_type node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void MarkDoneLocked(TimerState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  mutable Mutex mu_;
  // Signalled when a new timer becomes the head of the queue, or on Stop().
  CondVar cv_;
  Queue queue_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  // Timers scheduled and not yet done (queued or running).
  size_t pending_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// One timer's state, shared by its handles and its queue entry.
class TimerState {
 public:
  explicit TimerState(std::shared_ptr<TimerCore> core)
      : core(std::move(core)) {}

  const std::shared_ptr<TimerCore> core;
  // Written only under core->mu_, from false to true; read without the lock.
  std::atomic<bool> done{false};
  // True while the timer's entry is in core->queue_ under `key` (false while
  // its callback runs, and once done).
  bool queued ABSL_GUARDED_BY(core->mu_) = false;
  Key key ABSL_GUARDED_BY(core->mu_);
};

struct TimerCore::Entry {
  std::shared_ptr<TimerState> state;
  // A one-shot timer has once_fn; a periodic one has periodic_fn and a
  // positive period. (Either may be empty: the timer then does nothing.)
  absl::AnyInvocable<void()> once_fn;
  absl::AnyInvocable<bool()> periodic_fn;
  absl::Duration period = absl::ZeroDuration();
};

TimerHandle TimerCore::Schedule(absl::Duration delay, Entry entry) {
  auto state = std::make_shared<TimerState>(shared_from_this());
  const absl::Time due = clock_->Now() + std::max(delay, absl::ZeroDuration());
  {
    MutexLock lock(&mu_);
    if (!stopped_) {
      state->core->mu_.AssertHeld();  // state->core is this
      const Key key(due, next_seq_++);
      state->key = key;
      state->queued = true;
      ++pending_;
      entry.state = state;
      const auto it = queue_.emplace(key, std::move(entry)).first;
      if (it == queue_.begin()) cv_.Signal();
      return TimerHandle(std::move(state));
    }
  }
  state->done.store(true, std::memory_order_release);
  return TimerHandle(std::move(state));
  // `entry` (with the callback) is destroyed here, outside the lock.
}

void TimerCore::Cancel(TimerState& state) {
  if (state.done.load(std::memory_order_acquire)) return;
  Queue::node_type node;  // destroyed after the lock is released
  MutexLock lock(&mu_);
  if (state.done.load(std::memory_order_relaxed)) return;
  state.core->mu_.AssertHeld();  // state.core is this
  MarkDoneLocked(state);
  if (state.queued) {
    node = queue_.extract(state.key);
    state.queued = false;
  }
  // Locals are destroyed in reverse order: `lock` unlocks, then `node`
  // destroys the callback.
}

size_t TimerCore::pending() const {
  MutexLock lock(&mu_);
  return pending_;
}

void TimerCore::MarkDoneLocked(TimerState& state) {
  state.done.store(true, std::memory_order_release);
  --pending_;
}

void TimerCore::Run() {
  current_timer_core = this;
  mu_.Lock();
  while (!stopped_) {
    if (queue_.empty()) {
      cv_.Wait(&mu_);
      continue;
    }
    const absl::Time now = clock_->Now();
    const absl::Time due = queue_.begin()->first.first;
    if (due > now) {
      // Returns on timeout, on a new head or Stop(), or spuriously; every
      // case re-examines the queue.
      cv_.WaitWithTimeout(&mu_, due - now);
      continue;
    }
    RunEntry(queue_.extract(queue_.begin()));
  }
  mu_.Unlock();
  current_timer_core = nullptr;
}

size_t TimerCore::RunDue() {
  const TimerCore* outer = std::exchange(current_timer_core, this);
  size_t ran = 0;
  mu_.Lock();
  const absl::Time now = clock_->Now();
  while (!stopped_ && !queue_.empty() && queue_.begin()->first.first <= now) {
    RunEntry(queue_.extract(queue_.begin()));
    ++ran;
  }
  mu_.Unlock();
  current_timer_core = outer;
  return ran;
}

void TimerCore::RunEntry(Queue::node_type node) {
  Entry& entry = node.mapped();
  TimerState& state = *entry.state;
  state.core->mu_.AssertHeld();  // state.core is this
  state.queued = false;
  const bool periodic = entry.periodic_fn != nullptr;
  // A one-shot timer is done once its callback starts: it cannot run again,
  // and Cancel() could no longer prevent anything.
  if (!periodic) MarkDoneLocked(state);
  bool again = false;
  mu_.Unlock();
  if (periodic) {
    again = entry.periodic_fn();
  } else if (entry.once_fn) {
    entry.once_fn();
  }
  mu_.Lock();
  if (!state.done.load(std::memory_order_relaxed)) {
    if (again) {
      // Fixed rate from the first due time; if the callback (or the thread)
      // fell behind, skip to the first slot after now instead of bursting.
      const absl::Time due = node.key().first;
      const absl::Time now = clock_->Now();
      absl::Time next = due + entry.period;
      if (next <= now) {
        absl::Duration remainder;
        const int64_t behind =
            absl::IDivDuration(now - due, entry.period, &remainder);
        next = due + entry.period * (behind + 1);
      }
      const Key key(next, next_seq_++);
      node.key() = key;
      state.key = key;
      state.queued = true;
      queue_.insert(std::move(node));
      return;
    }
    MarkDoneLocked(state);
  }
  mu_.Unlock();
  node = Queue::node_type();  // destroys the callback outside the lock
  mu_.Lock();
}

void TimerCore::Stop() {
  MutexLock lock(&mu_);
  stopped_ = true;
  cv_.Signal();
}

void TimerCore::DropAll() {
  Queue dropped;  // destroyed after the lock is released
  MutexLock lock(&mu_);
  dropped.swap(queue_);
  for (auto& [key, entry] : dropped) {
    entry.state->core->mu_.AssertHeld();  // entry.state->core is this
    entry.state->queued = false;
    MarkDoneLocked(*entry.state);
  }
}

}  // namespace timer_internal

void TimerHandle::Cancel() const {
  if (state_ != nullptr) state_->core->Cancel(*state_);
}

bool TimerHandle::done() const {
  return state_ == nullptr || state_->done.load(std::memory_order_acquire);
}

TimerScheduler::TimerScheduler()
    : core_(std::make_shared<timer_internal::TimerCore>(&Clock::Real())),
      thread_([core = core_.get()] { core->Run(); }) {}

TimerScheduler::TimerScheduler(const ManualClock* clock)
    : core_(std::make_shared<timer_internal::TimerCore>(clock)) {}

size_t TimerScheduler::RunDue() { return core_->RunDue(); }

TimerScheduler::~TimerScheduler() { Shutdown(); }

TimerHandle TimerScheduler::ScheduleOnce(absl::Duration delay,
                                         absl::AnyInvocable<void()> fn) {
  timer_internal::TimerCore::Entry entry;
  entry.once_fn = std::move(fn);
  return core_->Schedule(delay, std::move(entry));
}

TimerHandle TimerScheduler::SchedulePeriodic(absl::Duration initial_delay,
                                             absl::Duration period,
                                             absl::AnyInvocable<bool()> fn) {
  timer_internal::TimerCore::Entry entry;
  entry.period = period > absl::ZeroDuration() ? period : absl::Milliseconds(1);
  entry.periodic_fn = std::move(fn);
  return core_->Schedule(initial_delay, std::move(entry));
}

size_t TimerScheduler::pending() const { return core_->pending(); }

void TimerScheduler::Shutdown() {
  if (timer_internal::current_timer_core == core_.get()) {
    std::fprintf(stderr,
                 "troupe::TimerScheduler::Shutdown() called from its own "
                 "timer thread (a timer callback); aborting\n");
    std::abort();
  }
  MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  core_->Stop();
  if (thread_.joinable()) thread_.join();
  core_->DropAll();
}

}  // namespace troupe
