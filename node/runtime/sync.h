// troupe::Mutex, MutexLock, ReaderMutexLock, CondVar and Notification: the
// runtime's locks, with abseil's interface and thread-safety annotations.
//
// Normally they are thin forwards to absl::Mutex / absl::CondVar. Debian's
// Abseil is not built with ThreadSanitizer, so TSan cannot see an
// absl::Mutex synchronise and reports the data it guards as racing; under
// TSan (--config=tsan) these types are therefore built on std::mutex and
// std::condition_variable (pthread, which TSan intercepts), so every
// happens-before edge and lock order it checks is real. Use these, not the
// absl types, in code that the TSan tests cover.
#pragma once

#include "absl/base/config.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#ifdef ABSL_HAVE_THREAD_SANITIZER
#include <chrono>
#include <condition_variable>
#include <mutex>
#endif

namespace troupe {

class CondVar;

#ifdef ABSL_HAVE_THREAD_SANITIZER

// TSan build: a std::mutex plus a condition variable notified on every
// Unlock, which Await uses to re-check its condition (cost is irrelevant in
// a TSan build; semantics match absl::Mutex::Await). Reader locks are
// exclusive here.
class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  // Notifies before unlocking: a waiter cannot return (and perhaps destroy
  // this mutex) until the unlock, after which nothing here is touched.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    changed_.notify_all();
    mu_.unlock();
  }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Lock();
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Unlock();
  }
  void Await(const absl::Condition& condition)
      ABSL_SHARED_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    changed_.wait(lock, [&condition] { return condition.Eval(); });
    lock.release();
  }
  bool AwaitWithTimeout(const absl::Condition& condition,
                        absl::Duration timeout)
      ABSL_SHARED_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    const auto pred = [&condition] { return condition.Eval(); };
    bool met;
    if (timeout == absl::InfiniteDuration()) {
      changed_.wait(lock, pred);
      met = true;
    } else {
      met = changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), pred);
    }
    lock.release();
    return met;
  }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  friend class CondVar;
  std::mutex mu_;
  std::condition_variable changed_;
};

class CondVar {
 public:
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // True when the timeout expired (as absl::CondVar::WaitWithTimeout).
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    bool expired = false;
    if (timeout == absl::InfiniteDuration()) {
      cv_.wait(lock);
    } else {
      expired = cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout)) ==
                std::cv_status::timeout;
    }
    lock.release();
    return expired;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

#else  // !ABSL_HAVE_THREAD_SANITIZER

class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.Lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { mu_.ReaderLock(); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { mu_.ReaderUnlock(); }
  void Await(const absl::Condition& condition)
      ABSL_SHARED_LOCKS_REQUIRED(this) {
    mu_.Await(condition);
  }
  bool AwaitWithTimeout(const absl::Condition& condition,
                        absl::Duration timeout)
      ABSL_SHARED_LOCKS_REQUIRED(this) {
    return mu_.AwaitWithTimeout(condition, timeout);
  }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() { mu_.AssertHeld(); }

 private:
  friend class CondVar;
  absl::Mutex mu_;
};

class CondVar {
 public:
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { cv_.Wait(&mu->mu_); }
  // True when the timeout expired.
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return cv_.WaitWithTimeout(&mu->mu_, timeout);
  }
  void Signal() { cv_.Signal(); }
  void SignalAll() { cv_.SignalAll(); }

 private:
  absl::CondVar cv_;
};

#endif  // ABSL_HAVE_THREAD_SANITIZER

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->ReaderLock();
  }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A one-shot event (absl::Notification's interface). Thread-safe.
class Notification {
 public:
  void Notify() {
    MutexLock lock(&mu_);
    notified_ = true;
  }
  bool HasBeenNotified() const {
    MutexLock lock(&mu_);
    return notified_;
  }
  void WaitForNotification() const {
    MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&notified_));
  }
  // True when notified within `timeout`.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&notified_), timeout);
  }

 private:
  mutable Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace troupe
