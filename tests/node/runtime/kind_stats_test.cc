// The runtime's statistics for operators: per kind, dead letters by reason,
// asks in flight and their latency (kind_stats.h, SystemStats).
#include "node/runtime/kind_stats.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using testing::BlockedActor;
using testing::kWait;
using testing::StopAndAwait;

class Sink final : public Actor {
 public:
  absl::Status Receive(ActorContext& /*ctx*/, const Message& /*m*/) override {
    return absl::OkStatus();
  }
};

const SystemStats::Kind* FindKind(const SystemStats& stats,
                                  absl::string_view name) {
  for (const SystemStats::Kind& kind : stats.kinds) {
    if (kind.name == name) {
      return &kind;
    }
  }
  return nullptr;
}

// Answers "sync"; takes anything else silently.
ActorFactory Quiet() {
  return testing::Lambda([](ActorContext& ctx, const Message& message) {
    if (IsText(message, "sync")) {
      ctx.Reply("synced");
    }
    return absl::OkStatus();
  });
}

// Sends `n` messages to `ref` and returns once it has handled them (an ask
// queued behind them has been answered).
void SendAndSync(ActorSystem& system, const ActorRef& ref, int n) {
  for (int i = 0; i < n; ++i) {
    system.Tell(ref, "m");
  }
  ASSERT_TRUE(system.Ask(ref, "sync", kWait).get().ok());
}

TEST(KindStatsTest, CountsActorsAndMessagesByKindName) {
  ActorSystem system;
  SpawnOptions greeter;
  greeter.kind = "greeter";
  auto a = system.Spawn(Quiet(), "a", greeter);
  auto b = system.Spawn(Quiet(), "b", greeter);
  auto sink = system.Spawn<Sink>("sink");
  ASSERT_TRUE(a.ok() && b.ok() && sink.ok());
  SendAndSync(system, *a, 10);
  SendAndSync(system, *b, 5);
  for (int i = 0; i < 7; ++i) {
    system.Tell(*sink, "m");
  }
  StopAndAwait(system, *b);
  StopAndAwait(system, *sink);  // overtakes some of its 7 messages

  const SystemStats stats = system.stats();
  const SystemStats::Kind* kind = FindKind(stats, "greeter");
  ASSERT_NE(kind, nullptr);
  EXPECT_EQ(kind->spawned, 2u);
  EXPECT_EQ(kind->alive, 1);
  EXPECT_EQ(kind->processed, 17u);  // 15 tells and 2 syncs
  // An actor spawned without a kind is counted under its C++ class.
  const SystemStats::Kind* by_class =
      FindKind(stats, "troupe::(anonymous namespace)::Sink");
  ASSERT_NE(by_class, nullptr);
  EXPECT_EQ(by_class->spawned, 1u);
  EXPECT_EQ(by_class->alive, 0);
  EXPECT_LE(by_class->processed, 7u);
  EXPECT_EQ(stats.actors_alive, 1);
  EXPECT_GE(stats.messages_processed, kind->processed);
}

TEST(KindStatsTest, TimesOneMessageInEverySampleOnAThread) {
  ActorSystemOptions one_thread;
  one_thread.threads = 1;
  ActorSystem system(one_thread);
  SpawnOptions timed;
  timed.kind = "timed";
  auto echo = system.Spawn(Quiet(), "", timed);
  ASSERT_TRUE(echo.ok());
  // One worker thread handles all 10 * kHandlingSampleEvery messages (and
  // the sync), so at least 10 of them are timed.
  SendAndSync(system, *echo, 10 * kHandlingSampleEvery);
  const SystemStats stats = system.stats();
  const SystemStats::Kind* kind = FindKind(stats, "timed");
  ASSERT_NE(kind, nullptr);
  EXPECT_GE(kind->handling.count, 10u);
  EXPECT_LE(kind->handling.count, 11u);
  EXPECT_GT(kind->handling.sum_seconds, 0);
}

TEST(KindStatsTest, CountsDeadLettersByReason) {
  ActorSystem system;
  system.Tell(system.Resolve(Pid{system.address(), "nobody", 0, 0}), "lost");
  SpawnOptions bounded;
  bounded.mailbox_capacity = 1;
  BlockedActor blocked(system, bounded);
  system.Tell(blocked.ref(), "queued");
  system.Tell(blocked.ref(), "overflow");
  const SystemStats stats = system.stats();
  EXPECT_EQ(stats.dead_letters_by_reason[v1::DEAD_LETTER_NO_SUCH_ACTOR], 1u);
  EXPECT_EQ(stats.dead_letters_by_reason[v1::DEAD_LETTER_MAILBOX_FULL], 1u);
  EXPECT_EQ(stats.dead_letters, 2u);
  EXPECT_EQ(stats.mailbox_overflows, 1u);
}

TEST(KindStatsTest, CountsAsksInFlightAndTheirLatency) {
  ActorSystem system;
  BlockedActor blocked(system);
  std::future<absl::StatusOr<MessagePtr>> pending =
      system.Ask(blocked.ref(), "sync", kWait);
  EXPECT_EQ(system.stats().asks_in_flight, 1);
  EXPECT_EQ(system.stats().asks_completed, 0u);
  blocked.Release();
  ASSERT_TRUE(pending.get().ok());
  SystemStats stats = system.stats();
  EXPECT_EQ(stats.asks_in_flight, 0);
  EXPECT_EQ(stats.asks_completed, 1u);
  // Latency is sampled per asking thread: of kAskSampleEvery more asks
  // from this thread, exactly one is timed, wherever its countdown stood.
  const uint64_t timed = stats.ask_latency.count;
  EXPECT_LE(timed, 1u);
  for (uint32_t i = 0; i < kAskSampleEvery; ++i) {
    ASSERT_TRUE(system.Ask(blocked.ref(), "sync", kWait).get().ok());
  }
  stats = system.stats();
  EXPECT_EQ(stats.asks_completed, 1u + kAskSampleEvery);
  EXPECT_EQ(stats.ask_latency.count, timed + 1);
  EXPECT_GT(stats.ask_latency.sum_seconds, 0);
}

TEST(KindStatsTest, KindsBeyondTheLimitShareOneEntry) {
  KindTable table;
  for (size_t i = 0; i < KindTable::kMaxKinds + 5; ++i) {
    table.ForName(absl::StrCat("k", i));
  }
  EXPECT_EQ(table.All().size(), KindTable::kMaxKinds + 1);
  EXPECT_EQ(table.ForName("another")->name, KindTable::kOtherKind);
  EXPECT_EQ(table.ForName("k3")->name, "k3");
  EXPECT_EQ(table.ForType(typeid(Sink)), table.ForType(typeid(Sink)));
}

TEST(LatencyHistogramTest, PutsEachDurationInTheFirstBucketThatHoldsIt) {
  LatencyHistogram histogram;
  histogram.Observe(absl::Nanoseconds(500));
  histogram.Observe(absl::Microseconds(1));    // on the bound: bucket 0
  histogram.Observe(absl::Nanoseconds(1001));  // bucket 1 (<= 4 us)
  histogram.Observe(absl::Seconds(100));       // +Inf
  const LatencyHistogram::Snapshot snapshot = histogram.Read();
  EXPECT_EQ(snapshot.counts[0], 2u);
  EXPECT_EQ(snapshot.counts[1], 1u);
  EXPECT_EQ(snapshot.counts[LatencyHistogram::kBuckets], 1u);
  EXPECT_EQ(snapshot.count, 4u);
  EXPECT_NEAR(snapshot.sum_seconds, 100.0000025, 1e-6);
  EXPECT_DOUBLE_EQ(LatencyHistogram::BoundsSeconds()[0], 1e-6);
  EXPECT_DOUBLE_EQ(LatencyHistogram::BoundsSeconds().back(), 16.777216);
}

}  // namespace
}  // namespace troupe
