#include "node/runtime/dispatcher.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "node/runtime/sync.h"

namespace troupe {
namespace {

// How many times in a row a worker may run its LIFO slot while other work
// waits (the slot would otherwise starve its queue).
constexpr int kMaxLifoStreak = 8;
// Every this many picks a worker looks at the global queue first, so work
// from outside the pool is not starved by busy local queues.
constexpr uint32_t kGlobalCheckInterval = 61;
// At most this many runnables move from the global queue to a worker's
// local queue at once.
constexpr size_t kMaxGlobalBatch = 32;
// How long an idle worker looks for work before parking: work that arrives
// in bursts (spawns, tells from outside the pool) then needs no wake-up.
constexpr absl::Duration kSpinBeforePark = absl::Microseconds(50);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

struct WorkerIdentity {
  const void* dispatcher = nullptr;
  void* worker = nullptr;
  int index = -1;
};
thread_local WorkerIdentity tls_identity;
thread_local Dispatcher::CallerRuns* tls_caller_runs = nullptr;
thread_local bool tls_running_kept = false;

}  // namespace

struct Dispatcher::Worker {
  int index = 0;
  // Owner thread only.
  Runnable* lifo = nullptr;
  int lifo_streak = 0;
  uint32_t ticks = 0;

  Mutex mu;
  std::deque<Runnable*> queue ABSL_GUARDED_BY(mu);
  std::atomic<int> queue_size{0};  // mirrors queue.size() for lock-free peeks

  Mutex park_mu;
  CondVar park_cv;
  bool wake ABSL_GUARDED_BY(park_mu) = false;

  std::thread thread;
};

Dispatcher::Dispatcher(int threads) {
  if (threads <= 0) {
    threads = std::max(1u, std::thread::hardware_concurrency());
  }
  for (int i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->index = i;
  }
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->thread = std::thread([this, w] { WorkerLoop(w); });
  }
}

Dispatcher::~Dispatcher() { Shutdown(); }

int Dispatcher::CurrentWorkerIndex() { return tls_identity.index; }

Dispatcher::Worker* Dispatcher::CurrentWorker() const {
  return tls_identity.dispatcher == this
             ? static_cast<Worker*>(tls_identity.worker)
             : nullptr;
}

Dispatcher::CallerRuns::CallerRuns(Dispatcher& dispatcher)
    : dispatcher_(&dispatcher),
      outer_(tls_caller_runs),
      // On one of the dispatcher's own workers the scope keeps nothing:
      // work scheduled there has its LIFO slot.
      active_(tls_identity.dispatcher != &dispatcher) {
  if (active_) {
    tls_caller_runs = this;
  }
}

Dispatcher::CallerRuns::~CallerRuns() {
  if (!active_) {
    return;
  }
  // No scope holds while the kept runnable runs: what it schedules goes to
  // the pool.
  tls_caller_runs = nullptr;
  if (kept_ != nullptr) {
    if (dispatcher_->shutdown_.load(std::memory_order_acquire)) {
      kept_->Drop();
    } else {
      tls_running_kept = true;
      kept_->Run();
      tls_running_kept = false;
    }
  }
  tls_caller_runs = outer_;
}

bool Dispatcher::RunningForCaller() { return tls_running_kept; }

void Dispatcher::Schedule(Runnable* runnable) {
  CallerRuns* caller = tls_caller_runs;
  while (caller != nullptr && caller->dispatcher_ != this) {
    caller = caller->outer_;
  }
  if (caller != nullptr && caller->kept_ == nullptr) {
    caller->kept_ = runnable;  // runs when the scope ends
    return;
  }
  if (Worker* self = CurrentWorker(); self != nullptr) {
    Runnable* displaced = self->lifo;
    self->lifo = runnable;
    if (displaced == nullptr) {
      return;  // runs next on this thread: nobody needs waking
    }
    PushLocal(self, displaced);
  } else {
    PushGlobal(runnable);
  }
  WakeOne();
}

void Dispatcher::Yield(Runnable* runnable) {
  if (Worker* self = CurrentWorker(); self != nullptr) {
    PushLocal(self, runnable);
  } else {
    PushGlobal(runnable);
  }
  WakeOne();
}

void Dispatcher::PushLocal(Worker* worker, Runnable* runnable) {
  MutexLock lock(&worker->mu);
  worker->queue.push_back(runnable);
  worker->queue_size.fetch_add(1, std::memory_order_seq_cst);
}

void Dispatcher::PushGlobal(Runnable* runnable) {
  {
    MutexLock lock(&global_mu_);
    // Under the lock: Shutdown drains the queue under it after setting the
    // flag, so what is pushed here is either drained there or dropped here.
    if (!shutdown_.load(std::memory_order_relaxed)) {
      global_.push_back(runnable);
      global_size_.fetch_add(1, std::memory_order_seq_cst);
      return;
    }
  }
  runnable->Drop();
}

Runnable* Dispatcher::PopLocal(Worker* worker) {
  if (worker->queue_size.load(std::memory_order_relaxed) == 0) {
    return nullptr;
  }
  MutexLock lock(&worker->mu);
  if (worker->queue.empty()) {
    return nullptr;
  }
  Runnable* runnable = worker->queue.front();
  worker->queue.pop_front();
  worker->queue_size.fetch_sub(1, std::memory_order_relaxed);
  return runnable;
}

Runnable* Dispatcher::PopGlobal(Worker* self) {
  if (global_size_.load(std::memory_order_relaxed) == 0) {
    return nullptr;
  }
  // Take a fair share at once (Go's scheduler does the same): the first runs
  // now, the rest go to this worker's local queue, where others may steal
  // them. Fewer trips through the contended global lock.
  Runnable* first = nullptr;
  std::vector<Runnable*> batch;
  {
    MutexLock lock(&global_mu_);
    if (global_.empty()) {
      return nullptr;
    }
    // At most what is there (one worker alone takes it all).
    const size_t share =
        std::min<size_t>({global_.size(), global_.size() / workers_.size() + 1,
                          kMaxGlobalBatch});
    first = global_.front();
    global_.pop_front();
    batch.reserve(share - 1);
    for (size_t i = 1; i < share; ++i) {
      batch.push_back(global_.front());
      global_.pop_front();
    }
    global_size_.fetch_sub(static_cast<int>(share), std::memory_order_relaxed);
  }
  if (!batch.empty()) {
    MutexLock lock(&self->mu);
    for (Runnable* runnable : batch) {
      self->queue.push_back(runnable);
    }
    self->queue_size.fetch_add(static_cast<int>(batch.size()),
                               std::memory_order_seq_cst);
  }
  return first;
}

Runnable* Dispatcher::Steal(Worker* self) {
  const size_t n = workers_.size();
  for (size_t i = 1; i < n; ++i) {
    Worker* victim = workers_[(self->index + i) % n].get();
    if (Runnable* runnable = PopLocal(victim); runnable != nullptr) {
      return runnable;
    }
  }
  return nullptr;
}

Runnable* Dispatcher::FindWork(Worker* self) {
  if (++self->ticks % kGlobalCheckInterval == 0) {
    if (Runnable* runnable = PopGlobal(self); runnable != nullptr) {
      return runnable;
    }
  }
  if (self->lifo != nullptr) {
    const bool others_wait =
        self->queue_size.load(std::memory_order_relaxed) > 0 ||
        global_size_.load(std::memory_order_relaxed) > 0;
    if (!others_wait || self->lifo_streak < kMaxLifoStreak) {
      ++self->lifo_streak;
      return std::exchange(self->lifo, nullptr);
    }
    // Fairness: the slot's occupant goes behind the waiting work.
    PushLocal(self, std::exchange(self->lifo, nullptr));
  }
  self->lifo_streak = 0;
  if (Runnable* runnable = PopLocal(self); runnable != nullptr) {
    return runnable;
  }
  if (Runnable* runnable = PopGlobal(self); runnable != nullptr) {
    return runnable;
  }
  return Steal(self);
}

bool Dispatcher::HasSharedWork() const {
  if (global_size_.load(std::memory_order_seq_cst) > 0) {
    return true;
  }
  for (const auto& worker : workers_) {
    if (worker->queue_size.load(std::memory_order_seq_cst) > 0) {
      return true;
    }
  }
  return false;
}

// A pusher increments a queue size (seq_cst) and then reads spinning_ and
// idle_count_ (seq_cst); a parking worker increments idle_count_ (seq_cst)
// and then reads the queue sizes (seq_cst). In the single total order of
// these operations at least one side sees the other's write, so either the
// pusher wakes the worker or the worker finds the work: no wake-up is lost.
// A pusher that sees a spinning worker wakes nobody: that worker decrements
// spinning_ (seq_cst) after the pusher read it, then parks, and its re-check
// in Park comes later still in the total order, so it sees the work.
void Dispatcher::WakeOne() {
  if (spinning_.load(std::memory_order_seq_cst) > 0 ||
      idle_count_.load(std::memory_order_seq_cst) == 0) {
    return;
  }
  Worker* target = nullptr;
  {
    MutexLock lock(&idle_mu_);
    if (idle_.empty()) {
      return;
    }
    target = idle_.back();
    idle_.pop_back();
    idle_count_.fetch_sub(1, std::memory_order_seq_cst);
  }
  MutexLock lock(&target->park_mu);
  target->wake = true;
  target->park_cv.Signal();
}

void Dispatcher::Park(Worker* self) {
  {
    MutexLock lock(&idle_mu_);
    idle_.push_back(self);
    idle_count_.fetch_add(1, std::memory_order_seq_cst);
  }
  if (HasSharedWork() || shutdown_.load(std::memory_order_acquire)) {
    MutexLock lock(&idle_mu_);
    auto it = std::find(idle_.begin(), idle_.end(), self);
    if (it != idle_.end()) {
      idle_.erase(it);
      idle_count_.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
    // A waker already took us off the list; its wake flag is consumed below.
  }
  MutexLock lock(&self->park_mu);
  while (!self->wake && !shutdown_.load(std::memory_order_acquire)) {
    self->park_cv.Wait(&self->park_mu);
  }
  self->wake = false;
}

Runnable* Dispatcher::Spin(Worker* self) {
  spinning_.fetch_add(1, std::memory_order_seq_cst);
  Runnable* found = nullptr;
  const absl::Time deadline = absl::Now() + kSpinBeforePark;
  for (int i = 0; !shutdown_.load(std::memory_order_relaxed); ++i) {
    if (HasSharedWork()) {
      found = FindWork(self);
      if (found != nullptr) {
        break;
      }
    }
    // Give the core away between looks: on a small machine the thread that
    // will produce the work may be waiting for it.
    CpuRelax();
    std::this_thread::yield();
    if (i % 16 == 15 && absl::Now() >= deadline) {
      break;
    }
  }
  spinning_.fetch_sub(1, std::memory_order_seq_cst);
  return found;
}

void Dispatcher::WorkerLoop(Worker* self) {
  tls_identity = WorkerIdentity{this, self, self->index};
  while (!shutdown_.load(std::memory_order_acquire)) {
    Runnable* runnable = FindWork(self);
    if (runnable == nullptr) {
      runnable = Spin(self);
    }
    if (runnable != nullptr) {
      runnable->Run();
    } else {
      Park(self);
    }
  }
  tls_identity = WorkerIdentity{};
}

void Dispatcher::Shutdown() {
  if (shutdown_.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  for (auto& worker : workers_) {
    MutexLock lock(&worker->park_mu);
    worker->park_cv.Signal();
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
  // The workers are gone: what they left queued will never run. Taken out
  // under the locks, dropped outside them (a Drop may free a cell, whose
  // messages' destructors may schedule more: that goes to PushGlobal, which
  // now drops it at once).
  std::vector<Runnable*> left;
  for (auto& worker : workers_) {
    if (worker->lifo != nullptr) {
      left.push_back(std::exchange(worker->lifo, nullptr));
    }
    MutexLock lock(&worker->mu);
    left.insert(left.end(), worker->queue.begin(), worker->queue.end());
    worker->queue.clear();
    worker->queue_size.store(0, std::memory_order_relaxed);
  }
  {
    MutexLock lock(&global_mu_);
    left.insert(left.end(), global_.begin(), global_.end());
    global_.clear();
    global_size_.store(0, std::memory_order_relaxed);
  }
  for (Runnable* runnable : left) {
    runnable->Drop();
  }
}

}  // namespace troupe
