// Watch / Unwatch / Terminated semantics.
#include <atomic>

#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using testing::Echo;
using testing::kWait;
using testing::Lambda;
using testing::NextIsText;
using testing::StopAndAwait;

TEST(WatchTest, EveryWatcherGetsTerminatedStoppedExactlyOnce) {
  ActorSystem system;
  Inbox a(system), b(system);
  auto target = system.Spawn(Echo(), "target");
  ASSERT_TRUE(target.ok());
  a.Watch(*target);
  b.Watch(*target);
  a.Watch(*target);  // double watch: still one notice
  system.Stop(*target);
  for (Inbox* inbox : {&a, &b}) {
    auto t = inbox->ReceiveAs<Terminated>(kWait);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(SameActor(*target, t->ref()));
    EXPECT_EQ(t->reason(), kStopped);
  }
  // Prove no second notice: a later message arrives next, not a Terminated.
  a.Tell(a.ref(), "marker");
  EXPECT_TRUE(NextIsText(a, "marker"));
}

TEST(WatchTest, ActorWatchingTwiceGetsOneTerminated) {
  ActorSystem system;
  Inbox probe(system);
  auto target = system.Spawn(Echo());
  auto watcher = system.Spawn(Lambda([&](ActorContext& ctx, const Message& m) {
    if (IsText(m, "watch")) {
      ctx.Watch(*target);
      ctx.Watch(*target);
      ctx.Reply("watching");
    } else if (const auto* t = As<Terminated>(m)) {
      ctx.Tell(probe.ref(), *t);
    } else {
      ctx.Tell(probe.ref(), CloneMessage(m));
    }
    return absl::OkStatus();
  }));
  ASSERT_TRUE(target.ok() && watcher.ok());
  ASSERT_TRUE(system.Ask(*watcher, "watch", kWait).get().ok());
  system.Stop(*target);
  ASSERT_TRUE(probe.ReceiveAs<Terminated>(kWait).ok());
  system.Tell(*watcher, "marker");
  EXPECT_TRUE(NextIsText(probe, "marker"));
}

TEST(WatchTest, WatchingDeadOrUnknownRefGivesNotFoundAtOnce) {
  ActorSystem system;
  Inbox inbox(system);
  auto dead = system.Spawn(Echo());
  ASSERT_TRUE(dead.ok());
  StopAndAwait(system, *dead);

  Inbox late(system);
  late.Watch(*dead);
  auto t = late.ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->reason(), kNotFound);

  const ActorRef unknown = system.Resolve(Pid{"local", "never-was", 0});
  late.Watch(unknown);
  t = late.ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->reason(), kNotFound);
  EXPECT_EQ(t->ref().id(), "never-was");

  // An old incarnation of this node's actor is not the live one.
  auto alive = system.Spawn(Echo(), "alive");
  ASSERT_TRUE(alive.ok());
  late.Watch(system.Resolve(Pid{"local", "alive", system.incarnation() + 1}));
  t = late.ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->reason(), kNotFound);
}

TEST(WatchTest, UnwatchPreventsDelivery) {
  ActorSystem system;
  Inbox inbox(system);
  auto target = system.Spawn(Echo());
  ASSERT_TRUE(target.ok());
  inbox.Watch(*target);
  inbox.Unwatch(*target);
  inbox.Unwatch(*target);  // harmless
  // Wait for the stop to be visible, then prove nothing arrived.
  StopAndAwait(system, *target);
  inbox.Tell(inbox.ref(), "marker");
  EXPECT_TRUE(NextIsText(inbox, "marker"));
}

TEST(WatchTest, ActorUnwatchPreventsDelivery) {
  ActorSystem system;
  Inbox probe(system);
  auto target = system.Spawn(Echo());
  ASSERT_TRUE(target.ok());
  auto watcher = system.Spawn(Lambda([&](ActorContext& ctx, const Message& m) {
    if (IsText(m, "watch-unwatch")) {
      ctx.Watch(*target);
      ctx.Unwatch(*target);
      ctx.Reply("done");
    } else {
      ctx.Tell(probe.ref(), CloneMessage(m));
    }
    return absl::OkStatus();
  }));
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(system.Ask(*watcher, "watch-unwatch", kWait).get().ok());
  StopAndAwait(system, *target);
  system.Tell(*watcher, "marker");
  EXPECT_TRUE(NextIsText(probe, "marker"));
}

}  // namespace
}  // namespace troupe
