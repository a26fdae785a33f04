#include "node/runtime/incarnation.h"

#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace troupe {
namespace {

TEST(IncarnationTest, IsNonZeroAndDistinct) {
  absl::flat_hash_set<uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t incarnation = NewIncarnation();
    ASSERT_NE(incarnation, 0u);
    ASSERT_TRUE(seen.insert(incarnation).second) << "repeated " << incarnation;
  }
}

TEST(IncarnationTest, IsThreadSafeAndDistinctAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::vector<uint64_t>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&results, t] {
      for (int i = 0; i < kPerThread; ++i) {
        results[t].push_back(NewIncarnation());
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  absl::flat_hash_set<uint64_t> seen;
  for (const auto& per_thread : results) {
    for (uint64_t incarnation : per_thread) {
      ASSERT_NE(incarnation, 0u);
      ASSERT_TRUE(seen.insert(incarnation).second);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace troupe
