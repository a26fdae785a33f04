// Clock: where code that keeps time reads it, so that it can be tested on
// simulated time (Envoy's TimeSource, CAF's deterministic test fixture)
// instead of within wall-clock bounds. The timer scheduler and the failure
// detector take one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "absl/time/time.h"

namespace troupe {

class Clock {
 public:
  // A monotonic time: it never goes back, and only differences between two
  // readings of one clock mean anything (it is not the wall clock).
  // Thread-safe.
  virtual absl::Time Now() const = 0;

  // The process's monotonic clock (std::chrono::steady_clock), shared and
  // never destroyed. Thread-safe.
  static const Clock& Real();

 protected:
  ~Clock() = default;
};

// A clock that moves only when a test says so. Thread-safe.
class ManualClock final : public Clock {
 public:
  // Starts at an arbitrary fixed time, far from absl's infinities.
  ManualClock() = default;
  absl::Time Now() const override {
    return absl::UnixEpoch() +
           absl::Nanoseconds(nanos_.load(std::memory_order_acquire));
  }
  // Moves the time forward by `by` (>= 0; a negative `by` is ignored).
  void Advance(absl::Duration by) {
    if (by > absl::ZeroDuration()) {
      nanos_.fetch_add(absl::ToInt64Nanoseconds(by), std::memory_order_acq_rel);
    }
  }

 private:
  std::atomic<int64_t> nanos_{absl::ToInt64Nanoseconds(absl::Hours(24))};
};

inline const Clock& Clock::Real() {
  class Steady final : public Clock {
   public:
    absl::Time Now() const override {
      return absl::UnixEpoch() +
             absl::FromChrono(
                 std::chrono::steady_clock::now().time_since_epoch());
    }
  };
  static const Steady* const real = new Steady();
  return *real;
}

}  // namespace troupe
