// Dispatcher: a fixed pool of worker threads that runs any number of actors.
//
// Each worker has a LIFO slot (the actor it scheduled most recently runs
// next on the same thread, with no wake-up: a ping-pong stays on one core),
// a local FIFO queue that idle workers steal from, and there is one global
// queue for work scheduled from outside the pool. Idle workers park; work
// pushed where another worker could take it wakes one.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "node/runtime/sync.h"

namespace troupe {

// Something a dispatcher runs: an actor's mailbox with mail in it. Each
// Schedule or Yield of it ends in exactly one call: Run, or Drop.
class Runnable {
 public:
  virtual void Run() = 0;
  // The dispatcher will not run it: it was queued when the dispatcher shut
  // down, or scheduled after. Releases what it holds for the run it was
  // scheduled for (an actor cell holds itself alive until then; ASan found
  // cells leaked this way when a Stop arrived as a node shut down). Called
  // on the thread that shut the dispatcher down or that scheduled it; may
  // destroy the runnable.
  virtual void Drop() = 0;

 protected:
  ~Runnable() = default;
};

class Dispatcher {
 public:
  // Starts `threads` workers (<= 0: one per core).
  explicit Dispatcher(int threads);
  // Shutdown().
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Runs `runnable` soon, once. The caller guarantees it stays alive until
  // it has run and is not scheduled twice at once. From a worker of this
  // dispatcher it runs next on that worker; from elsewhere, on any worker.
  // After Shutdown it is dropped (Runnable::Drop, not run). Thread-safe.
  void Schedule(Runnable* runnable);

  // From inside a Run on this dispatcher: runs `runnable` again after the
  // work already waiting (an actor that used up its throughput). Thread-safe.
  void Yield(Runnable* runnable);

  // Caller runs: on a thread outside the pool, while a CallerRuns on this
  // dispatcher lives, the first runnable the thread schedules is kept rather
  // than queued, and runs on that thread when the scope ends, once, with
  // RunningForCaller() true (an actor then begins no message once
  // kCallerRunSlice has passed, and yields the rest to the pool). Work
  // scheduled from that run, and any further runnable, goes to the pool as
  // usual. It saves the hand-off to a worker (a queue push, a wake-up and two
  // thread switches, there and back) for a thread that waits for the work's
  // result anyway: gRPC ingress, which then finishes the call on the thread
  // that received it (README, "Typed actors", "Where a call runs"). Scopes
  // nest: the innermost one for this dispatcher keeps. On a worker of this
  // dispatcher a scope keeps nothing. Construct and destroy on one thread (a
  // local); only where running one actor message is acceptable (not a timer
  // thread).
  class CallerRuns {
   public:
    explicit CallerRuns(Dispatcher& dispatcher);
    // Runs the kept runnable, if any (dropped after Shutdown: Drop).
    ~CallerRuns();
    CallerRuns(const CallerRuns&) = delete;
    CallerRuns& operator=(const CallerRuns&) = delete;

   private:
    Dispatcher* const dispatcher_;
    CallerRuns* const outer_;
    const bool active_;
    Runnable* kept_ = nullptr;
    friend class Dispatcher;
  };

  // True inside the run of a runnable a CallerRuns kept (on the caller's
  // thread).
  static bool RunningForCaller();
  // How long such a run may go on beginning messages: the caller's thread
  // is held for at most this plus one message. 100 µs is 10-20 typed echo
  // calls on the CI machine (service_bench), and 1/6000 of the links'
  // failure threshold (600 ms, LinkOptions).
  static constexpr absl::Duration kCallerRunSlice = absl::Microseconds(100);

  // Stops and joins the workers; queued work is dropped (Runnable::Drop on
  // each, here). Idempotent. Must not be called from a worker.
  void Shutdown();

  int threads() const { return static_cast<int>(workers_.size()); }

  // The calling thread's index in its dispatcher's pool (0..threads-1), or
  // -1 outside any worker. For sharded counters.
  static int CurrentWorkerIndex();

 private:
  struct Worker;

  void WorkerLoop(Worker* self);
  Runnable* FindWork(Worker* self);
  Runnable* PopLocal(Worker* worker);
  Runnable* PopGlobal(Worker* self);
  Runnable* Steal(Worker* self);
  void PushLocal(Worker* worker, Runnable* runnable);
  void PushGlobal(Runnable* runnable);
  bool HasSharedWork() const;
  void WakeOne();
  // Looks for work for a short while before parking; nullptr if none came.
  Runnable* Spin(Worker* self);
  void Park(Worker* self);
  Worker* CurrentWorker() const;

  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> shutdown_{false};

  Mutex global_mu_;
  std::deque<Runnable*> global_ ABSL_GUARDED_BY(global_mu_);
  std::atomic<int> global_size_{
      0};  // mirrors global_.size() for lock-free peeks

  Mutex idle_mu_;
  std::vector<Worker*> idle_ ABSL_GUARDED_BY(idle_mu_);
  std::atomic<int> idle_count_{0};  // mirrors idle_.size()
  std::atomic<int> spinning_{0};    // workers in Spin()
};

}  // namespace troupe
