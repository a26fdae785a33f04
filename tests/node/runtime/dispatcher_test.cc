// Dispatcher: every scheduled runnable runs once; an idle pool wakes for
// work from outside (no lost wake-up, over many idle periods); work left in
// a blocked worker's queue is stolen; a runnable scheduled from a worker runs
// next on that worker; Yield lets waiting work go first (modelled on CAF's
// scheduler tests); caller runs keeps the first runnable of its scope for
// the scope's end; what Shutdown leaves queued, or is scheduled after it, is
// dropped once and never run. Waits are notifications with a timeout.
#include "node/runtime/dispatcher.h"

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "node/runtime/sync.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

// A runnable that runs `fn`, and counts its runs and drops.
class Task final : public Runnable {
 public:
  explicit Task(std::function<void()> fn = [] {}) : fn_(std::move(fn)) {}
  void Run() override {
    runs_.fetch_add(1);
    fn_();
  }
  void Drop() override { drops_.fetch_add(1); }
  int runs() const { return runs_.load(); }
  int drops() const { return drops_.load(); }

 private:
  std::function<void()> fn_;
  std::atomic<int> runs_{0};
  std::atomic<int> drops_{0};
};

// Counts runs and notifies when `target` is reached. Thread-safe.
class RunCount {
 public:
  explicit RunCount(int target) : target_(target) {}
  void Add() {
    if (count_.fetch_add(1) + 1 == target_) {
      reached_.Notify();
    }
  }
  bool AwaitTarget() { return reached_.WaitForNotificationWithTimeout(kWait); }
  int count() const { return count_.load(); }

 private:
  const int target_;
  std::atomic<int> count_{0};
  Notification reached_;
};

TEST(DispatcherTest, EveryRunnableScheduledFromOutsideRunsOnce) {
  constexpr int kTasks = 10'000;
  RunCount runs(kTasks);
  std::vector<std::atomic<int>> each(kTasks);
  std::vector<std::unique_ptr<Task>> tasks;
  for (int i = 0; i < kTasks; ++i) {
    tasks.push_back(std::make_unique<Task>([&, i] {
      each[i].fetch_add(1);
      runs.Add();
    }));
  }
  Dispatcher dispatcher(3);
  for (auto& task : tasks) {
    dispatcher.Schedule(task.get());
  }
  ASSERT_TRUE(runs.AwaitTarget());
  dispatcher.Shutdown();
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_EQ(each[i].load(), 1) << "task " << i;
  }
}

// Each round the pool has gone idle (the last run finished and nothing
// else is queued) before the next Schedule: a lost wake-up would hang a
// round.
TEST(DispatcherTest, AnIdlePoolWakesForWorkFromOutsideEveryTime) {
  Dispatcher dispatcher(2);
  for (int round = 0; round < 200; ++round) {
    Notification ran;
    Task task([&ran] { ran.Notify(); });
    dispatcher.Schedule(&task);
    ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kWait))
        << "round " << round << " was never run";
  }
}

// A task blocks its worker after scheduling others from it: all but the
// last sit in that worker's queue (the last is in its LIFO slot), and the
// other worker must steal them while the first is blocked.
TEST(DispatcherTest, AnotherWorkerStealsWhatABlockedWorkerQueued) {
  constexpr int kChildren = 20;
  Dispatcher dispatcher(2);
  RunCount stolen(kChildren - 1);
  RunCount all(kChildren);
  Notification release;
  std::atomic<int> blocked_worker{-1};
  std::atomic<int> ran_elsewhere{0};
  std::vector<std::unique_ptr<Task>> children;
  for (int i = 0; i < kChildren; ++i) {
    children.push_back(std::make_unique<Task>([&] {
      if (Dispatcher::CurrentWorkerIndex() != blocked_worker.load()) {
        ran_elsewhere.fetch_add(1);
        stolen.Add();
      }
      all.Add();
    }));
  }
  Task parent([&] {
    blocked_worker.store(Dispatcher::CurrentWorkerIndex());
    for (auto& child : children) {
      dispatcher.Schedule(child.get());
    }
    release.WaitForNotificationWithTimeout(kWait);
  });
  dispatcher.Schedule(&parent);
  EXPECT_TRUE(stolen.AwaitTarget())
      << ran_elsewhere.load() << " of " << kChildren - 1 << " were stolen";
  release.Notify();
  EXPECT_TRUE(all.AwaitTarget());
}

TEST(DispatcherTest, ARunnableScheduledFromAWorkerRunsNextOnIt) {
  Dispatcher dispatcher(2);
  Notification done;
  int parent_worker = -2;
  int child_worker = -3;
  Task child([&] {
    child_worker = Dispatcher::CurrentWorkerIndex();
    done.Notify();
  });
  Task parent([&] {
    parent_worker = Dispatcher::CurrentWorkerIndex();
    dispatcher.Schedule(&child);  // the LIFO slot: nobody else takes it
  });
  dispatcher.Schedule(&parent);
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(child_worker, parent_worker);
  EXPECT_GE(parent_worker, 0);
}

// One worker: a runnable that yields runs again only after the work that
// was waiting.
TEST(DispatcherTest, YieldLetsWaitingWorkRunFirst) {
  Dispatcher dispatcher(1);
  std::vector<int> order;  // one worker: no race
  Notification done;
  int yields = 0;
  std::unique_ptr<Task> waiting;
  std::unique_ptr<Task> yielder;
  waiting = std::make_unique<Task>([&] { order.push_back(2); });
  yielder = std::make_unique<Task>([&] {
    order.push_back(1);
    if (yields++ == 0) {
      dispatcher.Schedule(waiting.get());  // into the LIFO slot...
      dispatcher.Yield(yielder.get());     // ...and this behind it
    } else {
      done.Notify();
    }
  });
  dispatcher.Schedule(yielder.get());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 1}));
}

// Caller runs: the first runnable scheduled in the scope runs on the
// scheduling thread when the scope ends, not before; a second one, and
// what the kept one schedules, go to the pool.
TEST(DispatcherTest, CallerRunsKeepsTheFirstRunnableForTheScopesEnd) {
  Dispatcher dispatcher(1);
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> kept_ran{false};
  std::thread::id kept_thread;
  Notification second_ran;
  Notification third_ran;
  std::thread::id third_thread;
  Task third([&] {
    third_thread = std::this_thread::get_id();
    third_ran.Notify();
  });
  Task kept([&] {
    kept_thread = std::this_thread::get_id();
    kept_ran = true;
    dispatcher.Schedule(&third);
  });
  Task second([&] { second_ran.Notify(); });
  {
    Dispatcher::CallerRuns scope(dispatcher);
    dispatcher.Schedule(&kept);
    dispatcher.Schedule(&second);
    ASSERT_TRUE(second_ran.WaitForNotificationWithTimeout(kWait));
    EXPECT_FALSE(kept_ran);  // kept, not queued
  }
  EXPECT_TRUE(kept_ran);
  EXPECT_EQ(kept_thread, caller);
  ASSERT_TRUE(third_ran.WaitForNotificationWithTimeout(kWait));
  EXPECT_NE(third_thread, caller);
}

// On a worker a scope keeps nothing; RunningForCaller() is true in the
// kept run only; what the kept run schedules goes to the pool even with an
// outer scope open.
TEST(DispatcherTest, CallerRunsKeepsNothingOnAWorkerAndOnlyOnce) {
  Dispatcher dispatcher(2);
  Notification on_worker_ran;
  Task on_worker_task([&] { on_worker_ran.Notify(); });
  Notification worker_done;
  Task worker_body([&] {
    {
      Dispatcher::CallerRuns scope(dispatcher);
      dispatcher.Schedule(&on_worker_task);  // its LIFO slot, not the scope
    }
    worker_done.Notify();
  });
  dispatcher.Schedule(&worker_body);
  ASSERT_TRUE(worker_done.WaitForNotificationWithTimeout(kWait));
  ASSERT_TRUE(on_worker_ran.WaitForNotificationWithTimeout(kWait));

  EXPECT_FALSE(Dispatcher::RunningForCaller());
  bool kept_saw = false;
  Notification pooled_ran;
  std::atomic<bool> pooled_saw{true};
  Task pooled([&] {
    pooled_saw = Dispatcher::RunningForCaller();
    pooled_ran.Notify();
  });
  Task kept([&] {
    kept_saw = Dispatcher::RunningForCaller();
    dispatcher.Schedule(&pooled);  // the outer scope must not keep it
  });
  {
    Dispatcher::CallerRuns outer(dispatcher);
    {
      Dispatcher::CallerRuns inner(dispatcher);
      dispatcher.Schedule(&kept);
    }
    EXPECT_TRUE(kept_saw);
    ASSERT_TRUE(pooled_ran.WaitForNotificationWithTimeout(kWait));
    EXPECT_FALSE(pooled_saw);
  }
  EXPECT_FALSE(Dispatcher::RunningForCaller());
}

// Scopes nest (the inner one keeps); one for another dispatcher keeps
// nothing of this one; after Shutdown the kept runnable is dropped.
TEST(DispatcherTest, CallerRunsNestsAndBelongsToOneDispatcher) {
  Dispatcher dispatcher(1);
  Dispatcher other(1);
  std::vector<int> order;  // the caller's thread only
  Task outer([&] { order.push_back(1); });
  Task inner([&] { order.push_back(2); });
  Notification pooled_ran;
  Task pooled([&] { pooled_ran.Notify(); });
  {
    Dispatcher::CallerRuns outer_scope(dispatcher);
    {
      Dispatcher::CallerRuns inner_scope(dispatcher);
      dispatcher.Schedule(&inner);
    }
    EXPECT_EQ(order, std::vector<int>{2});
    {
      Dispatcher::CallerRuns foreign(other);
      dispatcher.Schedule(&outer);  // the outer scope keeps it
      dispatcher.Schedule(&pooled);
    }
    ASSERT_TRUE(pooled_ran.WaitForNotificationWithTimeout(kWait));
    EXPECT_EQ(order, std::vector<int>{2});
  }
  EXPECT_EQ(order, (std::vector<int>{2, 1}));

  Task dropped([&] { order.push_back(3); });
  {
    Dispatcher::CallerRuns scope(dispatcher);
    dispatcher.Schedule(&dropped);
    dispatcher.Shutdown();
  }
  EXPECT_EQ(order, (std::vector<int>{2, 1}));
}

// Shutdown: whatever is queued then (the global queue, a worker's LIFO slot
// and local queue) is dropped, once, and never run; so is what is scheduled
// from outside afterwards. (An actor cell holds itself alive while
// scheduled: a runnable neither run nor dropped leaked the cell.)
TEST(DispatcherTest, WhatShutdownLeavesIsDroppedOnceAndNeverRun) {
  Dispatcher dispatcher(1);
  std::vector<std::unique_ptr<Task>> outside(100);
  std::vector<std::unique_ptr<Task>> inside(3);
  std::vector<std::unique_ptr<Task>> probes;
  for (auto& task : outside) task = std::make_unique<Task>();
  for (auto& task : inside) task = std::make_unique<Task>();
  Notification blocking;
  Notification shutdown_seen;
  Task blocker([&] {
    for (auto& task : inside) {
      dispatcher.Schedule(task.get());  // the LIFO slot, then the local queue
    }
    blocking.Notify();
    // Holds the only worker until the shutdown has begun, seen as a
    // schedule from outside dropped at once (a probe queued before that is
    // dropped with the rest).
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      probes.push_back(std::make_unique<Task>());
      Task* probe = probes.back().get();
      std::thread([&] { dispatcher.Schedule(probe); }).join();
      if (probe->drops() == 1) {
        shutdown_seen.Notify();
        return;
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  dispatcher.Schedule(&blocker);
  ASSERT_TRUE(blocking.WaitForNotificationWithTimeout(kWait));
  for (auto& task : outside) {
    dispatcher.Schedule(task.get());
  }
  dispatcher.Shutdown();  // returns once the blocker has returned
  ASSERT_TRUE(shutdown_seen.HasBeenNotified());
  for (const auto* tasks : {&outside, &inside, &probes}) {
    for (const auto& task : *tasks) {
      EXPECT_EQ(task->runs(), 0);
      EXPECT_EQ(task->drops(), 1);
    }
  }
  Task late;
  dispatcher.Schedule(&late);
  EXPECT_EQ(late.drops(), 1);
  EXPECT_EQ(late.runs(), 0);
}

// A runnable a CallerRuns scope kept is dropped, not run, if the dispatcher
// shut down before the scope ended.
TEST(DispatcherTest, CallerRunsDropsWhatItKeptAfterShutdown) {
  Dispatcher dispatcher(1);
  Task kept;
  {
    Dispatcher::CallerRuns scope(dispatcher);
    dispatcher.Schedule(&kept);
    dispatcher.Shutdown();
    EXPECT_EQ(kept.drops(), 0);  // still kept
  }
  EXPECT_EQ(kept.runs(), 0);
  EXPECT_EQ(kept.drops(), 1);
}

}  // namespace
}  // namespace troupe
