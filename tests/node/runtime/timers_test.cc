// Tell with delay and period; timers of a stopped actor.
#include <atomic>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/wrappers.pb.h"
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
using testing::ReceiveUntilTerminated;
using testing::StopAndAwait;

TEST(TimersTest, DelayOnlyDeliversOnceAfterTheDelay) {
  ActorSystem system;
  Inbox inbox(system);
  const absl::Time start = absl::Now();
  system.Tell(inbox.ref(), "later",
              TellOptions{.delay = absl::Milliseconds(100)});
  auto received = inbox.Receive(kWait);
  ASSERT_TRUE(received.ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_TRUE(IsText(*received->message, "later"));
  // Exactly once: a marker sent after another 150 ms is next.
  system.Tell(inbox.ref(), "marker",
              TellOptions{.delay = absl::Milliseconds(150)});
  EXPECT_TRUE(NextIsText(inbox, "marker"));
}

TEST(TimersTest, PeriodOnlyDeliversAtOnceThenRepeatedly) {
  ActorSystem system;
  Inbox inbox(system);
  const absl::Time start = absl::Now();
  TimerHandle timer = system.Tell(
      inbox.ref(), "tick", TellOptions{.period = absl::Milliseconds(50)});
  ASSERT_TRUE(inbox.Receive(kWait).ok());
  const absl::Duration first = absl::Now() - start;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(inbox.Receive(kWait).ok());
  }
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  EXPECT_LT(first, absl::Milliseconds(50))
      << "first tick must not wait a period";
  timer.Cancel();
}

TEST(TimersTest, DelayAndPeriodWaitsThenRepeats) {
  ActorSystem system;
  Inbox inbox(system);
  const absl::Time start = absl::Now();
  TimerHandle timer =
      system.Tell(inbox.ref(), "tick",
                  TellOptions{.delay = absl::Milliseconds(100),
                              .period = absl::Milliseconds(30)});
  ASSERT_TRUE(inbox.Receive(kWait).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  ASSERT_TRUE(inbox.Receive(kWait).ok());
  ASSERT_TRUE(inbox.Receive(kWait).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(160));
  timer.Cancel();
}

TEST(TimersTest, CancelStopsAPeriodicSend) {
  ActorSystem system;
  std::atomic<int> ticks{0};
  Inbox inbox(system);
  auto counter = system.Spawn(Lambda([&](ActorContext& ctx, const Message& m) {
    if (IsText(m, "tick")) {
      ticks.fetch_add(1);
    } else {
      ctx.Reply("synced");
    }
    return absl::OkStatus();
  }));
  ASSERT_TRUE(counter.ok());
  TimerHandle timer = system.Tell(*counter, "tick",
                                  TellOptions{.period = absl::Milliseconds(5)});
  while (ticks.load() < 3) {
    ASSERT_TRUE(system.Ask(*counter, "sync", kWait).get().ok());
  }
  timer.Cancel();
  ASSERT_TRUE(system.Ask(*counter, "sync", kWait).get().ok());
  const int after_cancel = ticks.load();
  // A one-shot timer scheduled after the cancel fires after any tick that
  // was due before it; the count must not move.
  system.Tell(inbox.ref(), "marker",
              TellOptions{.delay = absl::Milliseconds(30)});
  ASSERT_TRUE(NextIsText(inbox, "marker"));
  ASSERT_TRUE(system.Ask(*counter, "sync", kWait).get().ok());
  EXPECT_EQ(ticks.load(), after_cancel);
  EXPECT_TRUE(timer.done());
}

TEST(TimersTest, PeriodicSendToADeadTargetEnds) {
  ActorSystem system;
  Inbox watcher(system);
  auto target = system.Spawn(Echo());
  ASSERT_TRUE(target.ok());
  watcher.Watch(*target);
  TimerHandle timer = watcher.Tell(
      *target, "tick", TellOptions{.period = absl::Milliseconds(5)});
  system.Stop(*target);
  int dead_letters = ReceiveUntilTerminated(watcher).dead_letters;
  // Timers run in due order on one thread: by the time this marker (due
  // after ten periods) arrives, the periodic send has run after the stop,
  // found the target dead, sent that tick back as a dead letter and ended.
  system.Tell(watcher.ref(), "marker",
              TellOptions{.delay = absl::Milliseconds(50)});
  for (;;) {
    auto received = watcher.Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    if (IsText(*received->message, "marker")) {
      break;
    }
    dead_letters += Is<DeadLetter>(*received->message) ? 1 : 0;
  }
  EXPECT_TRUE(timer.done());
  EXPECT_GE(dead_letters, 1);
}

// A target blocked for a hundred periods finds one tick waiting, not a
// hundred (README, "Periodic tells"), and the ticks go on afterwards.
TEST(TimersTest, PeriodicTicksToABusyTargetCoalesce) {
  ActorSystem system;
  Inbox probe(system);
  struct State {
    int ticks = 0;
    int ticks_before_marker = -1;  // ticks queued when the block ended
  };
  auto state = std::make_shared<State>();
  auto target =
      system.Spawn(Lambda([&probe, state](ActorContext& ctx, const Message& m) {
        if (IsText(m, "tick")) {
          if (++state->ticks == 1) {
            absl::SleepFor(absl::Seconds(1));  // busy for 100 periods
            // Behind every tick queued during the block.
            ctx.Tell(ctx.Self(), "marker");
          } else if (state->ticks_before_marker >= 0 &&
                     state->ticks == state->ticks_before_marker + 6) {
            ctx.Tell(probe.ref(), "ticking again");
          }
        } else if (IsText(m, "marker")) {
          state->ticks_before_marker = state->ticks;
          google::protobuf::Int32Value queued;
          queued.set_value(state->ticks - 1);
          ctx.Tell(probe.ref(), std::move(queued));
        }
        return absl::OkStatus();
      }));
  ASSERT_TRUE(target.ok());
  TimerHandle timer = system.Tell(
      *target, "tick", TellOptions{.period = absl::Milliseconds(10)});
  auto queued = probe.ReceiveAs<google::protobuf::Int32Value>(kWait);
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_LE(queued->value(), 1) << "ticks queued during the block";
  EXPECT_TRUE(NextIsText(probe, "ticking again"));
  timer.Cancel();
}

TEST(TimersTest, TimersOfAStoppedActorNeverFire) {
  ActorSystem system;
  Inbox probe(system);
  TimerHandle timer;
  auto actor = system.Spawn(Lambda([&](ActorContext& ctx, const Message& m) {
    if (IsText(m, "arm")) {
      timer = ctx.Tell(probe.ref(), "fired",
                       TellOptions{.delay = absl::Milliseconds(50)});
      ctx.Reply("armed");
    }
    return absl::OkStatus();
  }));
  ASSERT_TRUE(actor.ok());
  ASSERT_TRUE(system.Ask(*actor, "arm", kWait).get().ok());
  StopAndAwait(system, *actor);
  EXPECT_TRUE(timer.done());
  system.Tell(probe.ref(), "marker",
              TellOptions{.delay = absl::Milliseconds(100)});
  EXPECT_TRUE(NextIsText(probe, "marker"));
}

}  // namespace
}  // namespace troupe
