// ShardedCounter: a counter bumped from every dispatcher worker without
// bouncing one cache line between cores; reads sum the shards.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "node/runtime/dispatcher.h"

namespace troupe {

// The shard of `shards` the calling thread writes: its own for each
// dispatcher worker (up to shards - 1 of them), 0 for any other thread.
inline size_t WorkerShard(size_t shards) {
  const int worker = Dispatcher::CurrentWorkerIndex();
  return worker < 0 ? 0 : 1 + (static_cast<size_t>(worker) % (shards - 1));
}

class ShardedCounter {
 public:
  // Thread-safe; relaxed (a statistic, not a synchronisation point).
  void Add(uint64_t n = 1) {
    shards_[WorkerShard(kShards)].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Get() const {
    uint64_t sum = 0;
    for (size_t i = 0; i < kShards; ++i) {
      sum += shards_[i].value.load(std::memory_order_relaxed);
    }
    return sum;
  }

 private:
  static constexpr size_t kShards = 16;
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  // On the heap: C++17 aligned new honours alignas(64) there, while the
  // object holding the counter may live on a less aligned stack.
  std::unique_ptr<Shard[]> shards_ = std::make_unique<Shard[]>(kShards);
};

}  // namespace troupe
