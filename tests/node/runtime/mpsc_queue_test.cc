// MpscQueue: FIFO per producer, nothing lost or duplicated with producers
// racing the consumer (run under TSan in CI), and the emptiness checks the
// actor scheduling handshake relies on (modelled on CAF's lifo_inbox tests).
#include "node/runtime/mpsc_queue.h"

#include <atomic>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace troupe {
namespace {

struct Item : MpscNode {
  Item(int p, int s) : producer(p), seq(s) {}
  int producer;
  int seq;
};

TEST(MpscQueueTest, OneProducerIsFifoAndEmptyAfterward) {
  MpscQueue queue;
  EXPECT_TRUE(queue.Empty());
  EXPECT_FALSE(queue.MaybeNonEmpty());
  EXPECT_EQ(queue.Pop(), nullptr);
  std::vector<std::unique_ptr<Item>> items;
  for (int i = 0; i < 100; ++i) {
    items.push_back(std::make_unique<Item>(0, i));
    queue.Push(items.back().get());
    EXPECT_FALSE(queue.Empty());
    EXPECT_TRUE(queue.MaybeNonEmpty());
  }
  for (int i = 0; i < 100; ++i) {
    auto* item = static_cast<Item*>(queue.Pop());
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->seq, i);
  }
  EXPECT_EQ(queue.Pop(), nullptr);
  EXPECT_TRUE(queue.Empty());
  EXPECT_FALSE(queue.MaybeNonEmpty());
  // Usable again after draining to the stub.
  Item again(0, 100);
  queue.Push(&again);
  EXPECT_EQ(queue.Pop(), &again);
  EXPECT_TRUE(queue.Empty());
}

TEST(MpscQueueTest, RacingProducersLoseNothingAndKeepTheirOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 50'000;
  MpscQueue queue;
  std::vector<std::deque<Item>> items(kProducers);  // never moved
  for (int p = 0; p < kProducers; ++p) {
    for (int s = 0; s < kPerProducer; ++s) {
      items[p].emplace_back(p, s);
    }
  }
  std::atomic<bool> go{false};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) {
      }
      for (Item& item : items[p]) {
        queue.Push(&item);
      }
    });
  }
  // The consumer pops while the producers push: a half-done push shows as
  // nullptr with the queue not empty, and is retried.
  std::vector<int> next(kProducers, 0);
  int popped = 0;
  go.store(true, std::memory_order_release);
  while (popped < kProducers * kPerProducer) {
    auto* item = static_cast<Item*>(queue.Pop());
    if (item == nullptr) {
      continue;
    }
    ASSERT_EQ(item->seq, next[item->producer])
        << "producer " << item->producer << " out of order";
    ++next[item->producer];
    ++popped;
  }
  for (std::thread& producer : producers) {
    producer.join();
  }
  EXPECT_EQ(queue.Pop(), nullptr);
  EXPECT_TRUE(queue.Empty());
  for (int p = 0; p < kProducers; ++p) {
    EXPECT_EQ(next[p], kPerProducer);
  }
}

}  // namespace
}  // namespace troupe
