// Ask: replies, timeouts, fast failure.
#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using testing::BlockedActor;
using testing::Echo;
using testing::kWait;
using testing::Lambda;
using testing::StopAndAwait;

TEST(AskTest, ReturnsTheReply) {
  ActorSystem system;
  auto greeter = system.Spawn(Lambda([](ActorContext& ctx, const Message& m) {
    ctx.Reply(std::string("Hello ") + std::string(TextOf(m)) + "!");
    return absl::OkStatus();
  }));
  ASSERT_TRUE(greeter.ok());
  auto reply = system.Ask(*greeter, "World", kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(TextOf(**reply), "Hello World!");
}

TEST(AskTest, TimesOutWithDeadlineExceeded) {
  ActorSystem system;
  auto silent = system.Spawn(
      Lambda([](ActorContext&, const Message&) { return absl::OkStatus(); }));
  ASSERT_TRUE(silent.ok());
  const absl::Time start = absl::Now();
  auto reply = system.Ask(*silent, "hello?", absl::Milliseconds(100)).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
}

TEST(AskTest, ToADeadActorFailsFast) {
  ActorSystem system;
  auto ref = system.Spawn(Echo());
  ASSERT_TRUE(ref.ok());
  StopAndAwait(system, *ref);
  const absl::Time start = absl::Now();
  auto reply = system.Ask(*ref, "hello?", absl::Seconds(30)).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kNotFound);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  auto unknown =
      system
          .Ask(system.Resolve(Pid{"local", "nope", 0}), "x", absl::Seconds(30))
          .get();
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
}

TEST(AskTest, FailsFastWhenTheTargetDiesWithTheMessageQueued) {
  ActorSystem system;
  BlockedActor blocked(system);
  AskFuture future = system.Ask(blocked.ref(), "queued", absl::Seconds(30));
  system.Stop(blocked.ref());
  blocked.Release();
  const absl::Time start = absl::Now();
  EXPECT_EQ(future.get().status().code(), absl::StatusCode::kNotFound);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace troupe
