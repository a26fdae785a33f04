// ctx.Ask with a continuation: the reply runs as a message to the asking
// actor, never beside Receive, never on a replaced or stopped instance, and
// no thread waits for it.
#include <unistd.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "tests/node/runtime/test_actors.h"
#include "tests/testing/proc_stats.h"

namespace troupe {
namespace {

using testing::BlockedActor;
using testing::Echo;
using testing::kWait;
using testing::Lambda;
using testing::LambdaActor;

google::protobuf::Int64Value Count(int64_t n) {
  google::protobuf::Int64Value value;
  value.set_value(n);
  return value;
}

TEST(AskContinuationTest, TheReplyAndTheFailureRunAsMessagesToTheAsker) {
  ActorSystem system;
  Inbox probe(system);
  auto echo = system.Spawn(Echo());
  auto silent = system.Spawn(
      Lambda([](ActorContext&, const Message&) { return absl::OkStatus(); }));
  ASSERT_TRUE(echo.ok() && silent.ok());
  auto asker = system.Spawn(Lambda([&](ActorContext& ctx, const Message& m) {
    if (!IsText(m, "go")) {
      return absl::OkStatus();
    }
    ctx.Ask(*echo, "pong?", kWait,
            [&probe](ActorContext& ctx, absl::StatusOr<MessagePtr> reply) {
              EXPECT_FALSE(ctx.Sender());
              ctx.Tell(probe.ref(), reply.ok() ? std::string(TextOf(**reply))
                                               : reply.status().ToString());
            });
    ctx.Ask(*silent, "never", absl::Milliseconds(50),
            [&probe](ActorContext& ctx, absl::StatusOr<MessagePtr> reply) {
              ctx.Tell(probe.ref(),
                       absl::StatusCodeToString(reply.status().code()));
            });
    return absl::OkStatus();
  }));
  ASSERT_TRUE(asker.ok());
  system.Tell(*asker, "go");
  std::set<std::string> got;
  for (int i = 0; i < 2; ++i) {
    auto received = probe.Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    EXPECT_EQ(received->sender, *asker);
    got.insert(std::string(TextOf(*received->message)));
  }
  EXPECT_EQ(got, (std::set<std::string>{"pong?", "DEADLINE_EXCEEDED"}));
}

// Receive and the continuations touch the same unguarded state; a run
// beside Receive shows as an overlap (and as a race under TSan).
TEST(AskContinuationTest, NeverRunsBesideReceive) {
  static constexpr int kAsks = 300;
  ActorSystem system(ActorSystemOptions{.threads = 4});
  Inbox probe(system);
  std::vector<ActorRef> echoes;
  for (int i = 0; i < 8; ++i) {
    auto echo = system.Spawn(Echo());
    ASSERT_TRUE(echo.ok());
    echoes.push_back(*echo);
  }
  struct State {
    bool busy = false;
    int overlaps = 0;
    int answered = 0;
    int ticks = 0;
  };
  auto state = std::make_shared<State>();
  auto asker =
      system.Spawn(Lambda([&, state](ActorContext& ctx, const Message& m) {
        state->busy = true;
        if (IsText(m, "go")) {
          for (int i = 0; i < kAsks; ++i) {
            ctx.Ask(echoes[i % echoes.size()], "x", kWait,
                    [state, &probe](ActorContext& ctx,
                                    absl::StatusOr<MessagePtr> reply) {
                      if (state->busy) {
                        ++state->overlaps;
                      }
                      EXPECT_TRUE(reply.ok()) << reply.status();
                      if (++state->answered == kAsks) {
                        ctx.Tell(probe.ref(), Count(state->overlaps));
                      }
                    });
          }
        } else {
          ++state->ticks;
        }
        state->busy = false;
        return absl::OkStatus();
      }));
  ASSERT_TRUE(asker.ok());
  system.Tell(*asker, "go");
  for (int i = 0; i < 2000; ++i) {
    system.Tell(*asker, "tick");
  }
  auto overlaps = probe.ReceiveAs<google::protobuf::Int64Value>(kWait);
  ASSERT_TRUE(overlaps.ok()) << overlaps.status();
  EXPECT_EQ(overlaps->value(), 0);
}

// An actor that asks `target` on "ask", fails on "fail" (and is restarted),
// and answers "count?" with how many continuations it has run.
ActorFactory AskThenFail(const ActorRef& target,
                         std::shared_ptr<std::atomic<int>> ran) {
  return [target, ran] {
    return std::make_unique<LambdaActor>(
        [target, ran](ActorContext& ctx, const Message& m) {
          if (IsText(m, "ask")) {
            ctx.Ask(target, "sync", kWait,
                    [ran](ActorContext&, absl::StatusOr<MessagePtr>) {
                      ran->fetch_add(1);
                    });
          } else if (IsText(m, "fail")) {
            return absl::InternalError("restart me");
          } else if (IsText(m, "count?")) {
            ctx.Reply(Count(ran->load()));
          }
          return absl::OkStatus();
        });
  };
}

TEST(AskContinuationTest, IsDroppedWhenTheAskingInstanceWasRestarted) {
  ActorSystem system;  // the guardian restarts a failed top-level actor
  BlockedActor replier(system);
  auto ran = std::make_shared<std::atomic<int>>(0);
  auto asker = system.Spawn(AskThenFail(replier.ref(), ran));
  ASSERT_TRUE(asker.ok());
  system.Tell(*asker, "ask");
  system.Tell(*asker, "fail");
  // The restarted instance asks too: only its own continuation runs.
  system.Tell(*asker, "ask");
  // Once this is answered, the asker has made both asks.
  ASSERT_TRUE(system.Ask(*asker, "count?", kWait).get().ok());
  replier.Release();
  // The replier answers in order: once this ask is answered, both earlier
  // replies have been delivered to the asker's mailbox.
  ASSERT_TRUE(system.Ask(replier.ref(), "sync", kWait).get().ok());
  auto count = system.Ask(*asker, "count?", kWait).get();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(As<google::protobuf::Int64Value>(**count)->value(), 1);
}

TEST(AskContinuationTest, IsDroppedWithoutADeadLetterWhenTheAskerStopped) {
  ActorSystem system;
  BlockedActor replier(system);
  auto ran = std::make_shared<std::atomic<int>>(0);
  auto asker = system.Spawn(AskThenFail(replier.ref(), ran));
  ASSERT_TRUE(asker.ok());
  system.Tell(*asker, "ask");
  testing::StopAndAwait(system, *asker);
  const uint64_t dead_before = system.stats().dead_letters;
  replier.Release();
  ASSERT_TRUE(system.Ask(replier.ref(), "sync", kWait).get().ok());
  EXPECT_EQ(ran->load(), 0);
  EXPECT_EQ(system.stats().dead_letters, dead_before);
}

// The reason for all of this: asks in flight from an actor cost no thread.
// (Before, each piped ask was a thread polling its future.)
TEST(AskContinuationTest, AsksInFlightCostNoThreads) {
  static constexpr int kAsks = 1000;
  ActorSystem system(ActorSystemOptions{.threads = 2});
  Inbox probe(system);
  BlockedActor replier(system);
  auto answered = std::make_shared<int>(0);
  auto asker =
      system.Spawn(Lambda([&, answered](ActorContext& ctx, const Message& m) {
        if (IsText(m, "go")) {
          for (int i = 0; i < kAsks; ++i) {
            ctx.Ask(replier.ref(), "sync", kWait,
                    [answered, &probe](ActorContext& ctx,
                                       absl::StatusOr<MessagePtr> reply) {
                      if (reply.ok() && ++*answered == kAsks) {
                        ctx.Tell(probe.ref(), "all answered");
                      }
                    });
          }
          ctx.Tell(probe.ref(), "asked");
        }
        return absl::OkStatus();
      }));
  ASSERT_TRUE(asker.ok());
  const int before = testing::Threads(getpid());
  ASSERT_GT(before, 0);
  system.Tell(*asker, "go");
  ASSERT_TRUE(testing::NextIsText(probe, "asked"));
  EXPECT_LE(testing::Threads(getpid()), before)
      << kAsks << " asks in flight added threads";
  replier.Release();
  EXPECT_TRUE(testing::NextIsText(probe, "all answered"));
}

// SpawnOn and LookupOn reach a node's activator; a node without one says so.
TEST(AskContinuationTest, LookupOnANodeWithoutAnActivatorIsUnavailable) {
  ActorSystem system;
  Inbox probe(system);
  auto asker = system.Spawn(Lambda([&](ActorContext& ctx, const Message&) {
    ctx.LookupOn("", "anyone", kWait,
                 [&probe](ActorContext& ctx, absl::StatusOr<ActorRef> ref) {
                   ctx.Tell(probe.ref(), ref.status().ToString());
                 });
    return absl::OkStatus();
  }));
  ASSERT_TRUE(asker.ok());
  system.Tell(*asker, "go");
  auto said = probe.Receive(kWait);
  ASSERT_TRUE(said.ok());
  EXPECT_NE(TextOf(*said->message).find("UNAVAILABLE"), absl::string_view::npos)
      << TextOf(*said->message);
  EXPECT_NE(TextOf(*said->message).find("troupe.activator"),
            absl::string_view::npos)
      << TextOf(*said->message);
  auto future = system.LookupOn("", "anyone", kWait).get();
  EXPECT_EQ(future.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace troupe
