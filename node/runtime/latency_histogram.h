// LatencyHistogram: how many durations fell in each of a fixed set of
// buckets, plus their count and sum: the shape of a Prometheus histogram
// (https://prometheus.io/docs/concepts/metric_types/#histogram), kept with
// relaxed atomics in shards per dispatcher worker (as ShardedCounter), so
// that any thread may observe into it without a lock or a contended line.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/time/time.h"

namespace troupe {

class LatencyHistogram {
 public:
  // Upper bounds of the buckets, in seconds: powers of 4 from 1 us to 16 s
  // (13 buckets, and +Inf). They span a message handled in a microsecond
  // to an ask that runs into a 10 s timeout; 4x steps keep the series
  // count low (label cardinality, README "Operations") at a resolution
  // that still separates "fast", "slow" and "stuck".
  static constexpr size_t kBuckets = 13;
  static const std::array<double, kBuckets>& BoundsSeconds();

  struct Snapshot {
    // counts[i]: observations <= BoundsSeconds()[i] and above the bound
    // before it; counts[kBuckets]: above the last bound. Not cumulative.
    std::array<uint64_t, kBuckets + 1> counts{};
    uint64_t count = 0;
    double sum_seconds = 0;
  };

  // Records one duration (negative ones count as 0). Thread-safe, lock-free,
  // relaxed: a reader may see a count before its sum.
  void Observe(absl::Duration duration);
  Snapshot Read() const;

 private:
  static constexpr size_t kShards = 16;
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, kBuckets + 1> counts{};
    std::atomic<uint64_t> sum_ns{0};
  };
  // On the heap, for alignas (see ShardedCounter).
  std::unique_ptr<Shard[]> shards_ = std::make_unique<Shard[]>(kShards);
};

// True for one call in `Every` on each thread, separately for each `Tag`
// (a type at namespace scope: the handling time uses KindStats, the asks
// AskProcess):
// which events a sampled histogram times. Timing every event would cost
// two clock reads (~40 ns) where a message hop takes ~120 ns. One countdown
// per Tag, so that two kinds of events taking turns on a thread cannot
// make every sample fall on the same kind.
template <typename Tag, uint32_t Every>
bool SampledOnThisThread() {
  static_assert(Every > 0);
  static thread_local uint32_t countdown = 0;
  if (countdown-- != 0) {
    return false;
  }
  countdown = Every - 1;
  return true;
}

}  // namespace troupe
