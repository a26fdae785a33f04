#include "node/runtime/latency_histogram.h"

#include "node/runtime/sharded_counter.h"

namespace troupe {
namespace {

// The bounds in nanoseconds, for the comparisons in Observe.
constexpr std::array<int64_t, LatencyHistogram::kBuckets> kBoundsNs = [] {
  std::array<int64_t, LatencyHistogram::kBuckets> bounds{};
  int64_t bound = 1000;
  for (int64_t& b : bounds) {
    b = bound;
    bound *= 4;
  }
  return bounds;
}();

}  // namespace

const std::array<double, LatencyHistogram::kBuckets>&
LatencyHistogram::BoundsSeconds() {
  static const std::array<double, kBuckets> bounds = [] {
    std::array<double, kBuckets> seconds{};
    for (size_t i = 0; i < kBuckets; ++i) {
      seconds[i] = static_cast<double>(kBoundsNs[i]) / 1e9;
    }
    return seconds;
  }();
  return bounds;
}

void LatencyHistogram::Observe(absl::Duration duration) {
  int64_t ns = absl::ToInt64Nanoseconds(duration);
  if (ns < 0) {
    ns = 0;
  }
  size_t bucket = 0;
  while (bucket < kBuckets && ns > kBoundsNs[bucket]) {
    ++bucket;
  }
  Shard& shard = shards_[WorkerShard(kShards)];
  shard.counts[bucket].fetch_add(1, std::memory_order_relaxed);
  shard.sum_ns.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::Read() const {
  Snapshot snapshot;
  uint64_t sum_ns = 0;
  for (size_t s = 0; s < kShards; ++s) {
    for (size_t i = 0; i <= kBuckets; ++i) {
      const uint64_t n = shards_[s].counts[i].load(std::memory_order_relaxed);
      snapshot.counts[i] += n;
      snapshot.count += n;
    }
    sum_ns += shards_[s].sum_ns.load(std::memory_order_relaxed);
  }
  snapshot.sum_seconds = static_cast<double>(sum_ns) / 1e9;
  return snapshot;
}

}  // namespace troupe
