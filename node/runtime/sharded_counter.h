// ShardedCounter: a counter bumped from every dispatcher worker without
// bouncing one cache line between cores; reads sum the shards.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "node/runtime/dispatcher.h"

namespace troupe {

class ShardedCounter {
 public:
  // Thread-safe; relaxed (a statistic, not a synchronisation point).
  void Add(uint64_t n = 1) {
    const int worker = Dispatcher::CurrentWorkerIndex();
    const size_t shard = worker < 0 ? 0 : 1 + (worker % (kShards - 1));
    shards_[shard].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Get() const {
    uint64_t sum = 0;
    for (const Shard& shard : shards_) {
      sum += shard.value.load(std::memory_order_relaxed);
    }
    return sum;
  }

 private:
  static constexpr size_t kShards = 16;
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, kShards> shards_;
};

}  // namespace troupe
