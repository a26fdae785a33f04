// Spawning, messaging, lifecycle and dead letters of the local runtime.
#include "node/runtime/actor_system.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/runtime/inbox.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using google::protobuf::Int64Value;
using google::protobuf::StringValue;
using testing::BlockedActor;
using testing::Echo;
using testing::kWait;
using testing::Lambda;
using testing::LambdaActor;
using testing::ReceiveUntilTerminated;
using testing::StopAndAwait;
using testing::UntilTerminated;

Int64Value Int(int64_t v) {
  Int64Value value;
  value.set_value(v);
  return value;
}

TEST(ActorSystemTest, StartedRunsBeforeFirstMessageAndStoppedAfterLast) {
  ActorSystem system;
  Inbox inbox(system);
  const ActorRef probe = inbox.ref();
  auto factory = [probe] {
    auto actor = std::make_unique<LambdaActor>(
        [](ActorContext& ctx, const Message& message) {
          ctx.Tell(ctx.Sender(),
                   std::string("got ") + std::string(TextOf(message)));
          return absl::OkStatus();
        });
    actor->started_ = [probe](ActorContext& ctx) {
      ctx.Tell(probe, "started");
      return absl::OkStatus();
    };
    actor->stopped_ = [probe](ActorContext& ctx) {
      ctx.Tell(probe, "stopped");
    };
    return actor;
  };
  auto ref = system.Spawn(factory, "lifecycle");
  ASSERT_TRUE(ref.ok()) << ref.status();
  inbox.Tell(*ref, "a");
  inbox.Tell(*ref, "b");
  inbox.Tell(*ref, PoisonPill());
  for (const char* expected : {"started", "got a", "got b", "stopped"}) {
    auto received = inbox.Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    EXPECT_EQ(TextOf(*received->message), expected);
  }
}

TEST(ActorSystemTest, RefsCarryAddressIdAndIncarnationAndPrint) {
  ActorSystem system;
  auto mike = system.Spawn(Echo(), "Mike");
  ASSERT_TRUE(mike.ok());
  EXPECT_EQ(mike->address(), "local");
  EXPECT_EQ(mike->id(), "Mike");
  EXPECT_EQ(mike->incarnation(), system.incarnation());
  EXPECT_EQ(mike->ToString(), "troupe://local/Mike");

  auto parsed = system.Resolve(mike->ToString());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, *mike);
  auto looked_up = system.Lookup("Mike");
  ASSERT_TRUE(looked_up.ok());
  EXPECT_EQ(*looked_up, *mike);

  auto generated = system.Spawn(Echo());
  ASSERT_TRUE(generated.ok());
  EXPECT_EQ(generated->id()[0], '$');
  EXPECT_NE(*generated, *mike);
}

TEST(ActorSystemTest, SpawnRejectsTakenAndBadNames) {
  ActorSystem system;
  ASSERT_TRUE(system.Spawn(Echo(), "Sarah").ok());
  EXPECT_EQ(system.Spawn(Echo(), "Sarah").status().code(),
            absl::StatusCode::kAlreadyExists);
  for (const char* bad : {"a/b", "$x", "with space"}) {
    EXPECT_EQ(system.Spawn(Echo(), bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(system.Lookup("nobody-here").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(system.Resolve("http://x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ActorSystemTest, FifoFromOneSender) {
  ActorSystem system;
  Inbox inbox(system);
  constexpr int kMessages = 20000;
  auto ref = system.Spawn(Lambda([](ActorContext& ctx, const Message& m) {
    ctx.Reply(*As<Int64Value>(m));
    return absl::OkStatus();
  }));
  ASSERT_TRUE(ref.ok());
  for (int i = 0; i < kMessages; ++i) {
    inbox.Tell(*ref, Int(i));
  }
  for (int i = 0; i < kMessages; ++i) {
    auto received = inbox.Receive(kWait);
    ASSERT_TRUE(received.ok()) << "message " << i << ": " << received.status();
    ASSERT_EQ(As<Int64Value>(*received->message)->value(), i);
  }
}

TEST(ActorSystemTest, OneMessageAtATimeUnderConcurrentSenders) {
  ActorSystem system(ActorSystemOptions{.threads = 4});
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  int64_t count = 0;  // only touched by the actor: no lock on purpose
  auto counter =
      system.Spawn(Lambda([&](ActorContext& ctx, const Message& message) {
                     if (inside.fetch_add(1) != 0) {
                       overlapped = true;
                     }
                     if (IsText(message, "get")) {
                       ctx.Reply(Int(count));
                     } else {
                       ++count;
                     }
                     inside.fetch_sub(1);
                     return absl::OkStatus();
                   }),
                   "counter");
  ASSERT_TRUE(counter.ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        system.Tell(*counter, "inc");
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  auto reply = system.Ask(*counter, "get", kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(As<Int64Value>(**reply)->value(), kThreads * kPerThread);
  EXPECT_FALSE(overlapped);
}

TEST(ActorSystemTest, TellToUnknownActorIsDeadLetterToSenderAndStream) {
  ActorSystem system;
  Inbox inbox(system);
  Mutex mu;
  std::vector<std::string> seen;
  system.dead_letters().Subscribe([&](const DeadLetterEvent& event) {
    MutexLock lock(&mu);
    seen.push_back(event.target.ToString() + " " +
                   std::string(TextOf(*event.message)));
  });
  ActorRef ghost = system.Resolve(Pid{"local", "ghost", 0});
  inbox.Tell(ghost, "boo");
  auto letter = inbox.ReceiveAs<DeadLetter>(kWait);
  ASSERT_TRUE(letter.ok()) << letter.status();
  EXPECT_EQ(letter->target().id(), "ghost");
  EXPECT_TRUE(SameActor(inbox.ref(), letter->sender()));
  StringValue original;
  ASSERT_TRUE(letter->message().UnpackTo(&original));
  EXPECT_EQ(original.value(), "boo");
  MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "troupe://local/ghost boo");
  EXPECT_EQ(system.stats().dead_letters, 1u);
}

TEST(ActorSystemTest, DeadLetterReturnsToTheSendingActor) {
  ActorSystem system;
  Inbox probe(system);
  const ActorRef ghost = system.Resolve(Pid{"local", "ghost", 0});
  auto sender =
      system.Spawn(FromBehavior([&](ActorContext& ctx, const Message& m) {
        if (IsText(m, "go")) {
          ctx.Tell(ghost, "boo");
        } else if (const auto* letter = As<DeadLetter>(m)) {
          ctx.Tell(probe.ref(), *letter);  // report what came back
        }
        return absl::OkStatus();
      }));
  ASSERT_TRUE(sender.ok());
  system.Tell(*sender, "go");
  auto letter = probe.ReceiveAs<DeadLetter>(kWait);
  ASSERT_TRUE(letter.ok()) << letter.status();
  EXPECT_EQ(letter->target().id(), "ghost");
  EXPECT_TRUE(SameActor(*sender, letter->sender()));
  EXPECT_EQ(system.stats().dead_letters, 1u);
}

TEST(ActorSystemTest, FromBehaviorMakesAnActorOfAFunction) {
  ActorSystem system;
  auto shouter =
      system.Spawn(FromBehavior([](ActorContext& ctx, const Message& m) {
                     ctx.Reply(std::string(TextOf(m)) + "!");
                     return absl::OkStatus();
                   }),
                   "shouter");
  ASSERT_TRUE(shouter.ok());
  auto reply = system.Ask(*shouter, "hey", kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(TextOf(**reply), "hey!");
}

TEST(ActorSystemTest, TellToStoppedActorIsDeadLetter) {
  ActorSystem system;
  Inbox inbox(system);
  auto ref = system.Spawn(Echo(), "short-lived");
  ASSERT_TRUE(ref.ok());
  StopAndAwait(system, *ref);
  inbox.Tell(*ref, "anyone?");
  auto letter = inbox.ReceiveAs<DeadLetter>(kWait);
  ASSERT_TRUE(letter.ok()) << letter.status();
  EXPECT_EQ(letter->target().id(), "short-lived");
}

TEST(ActorSystemTest, StopOvertakesQueuedMessagesWhichBecomeDeadLetters) {
  ActorSystem system;
  Inbox inbox(system);
  BlockedActor blocked(system);
  inbox.Watch(blocked.ref());
  for (int i = 0; i < 5; ++i) {
    inbox.Tell(blocked.ref(), "queued");
  }
  system.Stop(blocked.ref());
  blocked.Release();
  const UntilTerminated seen = ReceiveUntilTerminated(inbox);
  EXPECT_EQ(seen.reason, kStopped);
  EXPECT_EQ(seen.dead_letters, 5);
  EXPECT_EQ(blocked.handled(), 0);
}

TEST(ActorSystemTest, PoisonPillLetsEarlierMessagesRun) {
  ActorSystem system;
  Inbox inbox(system);
  BlockedActor blocked(system);
  inbox.Watch(blocked.ref());
  for (int i = 0; i < 5; ++i) {
    inbox.Tell(blocked.ref(), "queued");
  }
  inbox.Tell(blocked.ref(), PoisonPill());
  inbox.Tell(blocked.ref(), "too late");
  blocked.Release();
  const UntilTerminated seen = ReceiveUntilTerminated(inbox);
  EXPECT_EQ(seen.reason, kStopped);
  EXPECT_EQ(blocked.handled(), 5);
  EXPECT_EQ(seen.lost_texts, std::vector<std::string>{"too late"});
}

TEST(ActorSystemTest, StoppingTwiceIsHarmless) {
  ActorSystem system;
  Inbox inbox(system);
  auto ref = system.Spawn(Echo());
  ASSERT_TRUE(ref.ok());
  inbox.Watch(*ref);
  system.Stop(*ref);
  system.Stop(*ref);
  inbox.Tell(*ref, PoisonPill());
  ASSERT_TRUE(inbox.ReceiveAs<Terminated>(kWait).ok());
  system.Stop(*ref);
  EXPECT_EQ(system.stats().actors_alive, 0);
}

TEST(ActorSystemTest, SelfSendLoopRunsUntilToldToStop) {
  // pactor's Monitor: an actor polls by telling itself, until a flag stops it.
  ActorSystem system;
  Inbox inbox(system);
  std::atomic<int> polls{0};
  auto ref = system.Spawn(Lambda([&](ActorContext& ctx, const Message& m) {
    if (IsText(m, "poll")) {
      if (polls.fetch_add(1) + 1 == 100) {
        ctx.Tell(ctx.Self(), "halt");
      } else {
        ctx.Tell(ctx.Self(), "poll");
      }
    } else if (IsText(m, "halt")) {
      ctx.Stop();
    }
    return absl::OkStatus();
  }));
  ASSERT_TRUE(ref.ok());
  inbox.Watch(*ref);
  system.Tell(*ref, "poll");
  ASSERT_TRUE(inbox.ReceiveAs<Terminated>(kWait).ok());
  EXPECT_EQ(polls.load(), 100);
}

TEST(ActorSystemTest, BecomeChangesBehaviour) {
  ActorSystem system;
  Inbox inbox(system);
  auto ref = system.Spawn(Lambda([](ActorContext& ctx, const Message& m) {
    if (IsText(m, "angry")) {
      ctx.Become([](ActorContext& ctx, const Message& m) {
        if (IsText(m, "calm")) {
          ctx.Unbecome();
        } else {
          ctx.Reply("grr");
        }
        return absl::OkStatus();
      });
    } else {
      ctx.Reply("hello");
    }
    return absl::OkStatus();
  }));
  ASSERT_TRUE(ref.ok());
  for (const char* m : {"hi", "angry", "hi", "calm", "hi"}) {
    inbox.Tell(*ref, m);
  }
  for (const char* expected : {"hello", "grr", "hello"}) {
    auto received = inbox.Receive(kWait);
    ASSERT_TRUE(received.ok());
    EXPECT_EQ(TextOf(*received->message), expected);
  }
}

TEST(ActorSystemTest, BoundedMailboxOverflowBecomesCountedDeadLetters) {
  ActorSystem system;
  Inbox inbox(system);
  BlockedActor blocked(system, SpawnOptions{.mailbox_capacity = 3, .kind = {}});
  for (int i = 0; i < 5; ++i) {
    inbox.Tell(blocked.ref(), "queued");
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(inbox.ReceiveAs<DeadLetter>(kWait).ok());
  }
  EXPECT_EQ(system.stats().mailbox_overflows, 2u);
  blocked.Release();
  // Until the actor drains, the mailbox is still full and the ask itself is
  // refused (RESOURCE_EXHAUSTED, the cause of its dead letter): ask again.
  const absl::Time deadline = absl::Now() + kWait;
  absl::StatusOr<MessagePtr> synced =
      system.Ask(blocked.ref(), "sync", kWait).get();
  while (synced.status().code() == absl::StatusCode::kResourceExhausted &&
         absl::Now() < deadline) {
    synced = system.Ask(blocked.ref(), "sync", kWait).get();
  }
  ASSERT_TRUE(synced.ok()) << synced.status();
  EXPECT_EQ(blocked.handled(), 3);
  EXPECT_GE(system.stats().mailbox_overflows, 2u);
}

TEST(ActorSystemTest, HundredThousandActorsSpawnedAndStoppedLeaveZeroAlive) {
  ActorSystem system;
  constexpr int kActors = 100000;
  std::vector<ActorRef> refs;
  refs.reserve(kActors);
  for (int i = 0; i < kActors; ++i) {
    auto ref = system.Spawn(Echo());
    ASSERT_TRUE(ref.ok());
    refs.push_back(*ref);
  }
  EXPECT_EQ(system.stats().actors_alive, kActors);
  for (const ActorRef& ref : refs) {
    system.Tell(ref, PoisonPill());
  }
  system.Shutdown(kWait);
  ASSERT_TRUE(system.AwaitTermination(kWait));
  EXPECT_EQ(system.stats().actors_alive, 0);
  EXPECT_EQ(system.stats().actors_spawned, static_cast<uint64_t>(kActors));
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// One worker takes the whole global queue at once (it used to take one
// more than there was).
TEST(ActorSystemTest, OneWorkerRunsABurstFromOutside) {
  ActorSystemOptions options;
  options.threads = 1;
  ActorSystem system(options);
  Inbox inbox(system);
  constexpr int kActors = 100;
  for (int i = 0; i < kActors; ++i) {
    auto actor = system.Spawn(testing::Echo());
    ASSERT_TRUE(actor.ok());
    inbox.Tell(*actor, Text("hi"));
  }
  for (int i = 0; i < kActors; ++i) {
    ASSERT_TRUE(inbox.Receive(testing::kWait).ok());
  }
}

}  // namespace
}  // namespace troupe
