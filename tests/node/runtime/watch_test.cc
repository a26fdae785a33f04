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
  auto next = a.Receive(kWait);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(IsText(*next->message, "marker"));
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
  auto next = probe.Receive(kWait);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(IsText(*next->message, "marker"));
}

TEST(WatchTest, WatchingDeadOrUnknownRefGivesNotFoundAtOnce) {
  ActorSystem system;
  Inbox inbox(system);
  auto dead = system.Spawn(Echo());
  ASSERT_TRUE(dead.ok());
  inbox.Watch(*dead);
  system.Stop(*dead);
  ASSERT_TRUE(inbox.ReceiveAs<Terminated>(kWait).ok());

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
  system.Stop(*target);
  // Wait for the stop to be visible, then prove nothing arrived.
  Inbox observer(system);
  observer.Watch(*target);
  ASSERT_TRUE(observer.ReceiveAs<Terminated>(kWait).ok());
  inbox.Tell(inbox.ref(), "marker");
  auto next = inbox.Receive(kWait);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(IsText(*next->message, "marker"));
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
  probe.Watch(*target);
  system.Stop(*target);
  ASSERT_TRUE(probe.ReceiveAs<Terminated>(kWait).ok());
  system.Tell(*watcher, "marker");
  auto next = probe.Receive(kWait);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(IsText(*next->message, "marker"));
}

}  // namespace
}  // namespace troupe
