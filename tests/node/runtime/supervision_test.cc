// Children, supervision directives, restart limits, input sources, shutdown.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using google::protobuf::Int64Value;
using testing::BlockedActor;
using testing::Echo;
using testing::kWait;
using testing::Lambda;
using testing::LambdaActor;

// A child that counts "inc", replies its count to "get", fails on "fail"
// (INTERNAL), "bad" (INVALID_ARGUMENT) and "throw",
// and reports its hooks to `probe`.
class Counter : public Actor {
 public:
  explicit Counter(ActorRef probe) : probe_(std::move(probe)) {}
  absl::Status Receive(ActorContext& ctx, const Message& m) override {
    if (IsText(m, "inc")) {
      ++count_;
    } else if (IsText(m, "get")) {
      Int64Value v;
      v.set_value(count_);
      ctx.Reply(v);
    } else if (IsText(m, "fail")) {
      return absl::InternalError("told to fail");
    } else if (IsText(m, "bad")) {
      return absl::InvalidArgumentError("bad input");
    } else if (IsText(m, "throw")) {
      throw std::runtime_error("told to throw");
    }
    return absl::OkStatus();
  }
  void PreRestart(ActorContext& ctx, const absl::Status&) override {
    ctx.Tell(probe_, "pre-restart");
  }
  absl::Status PostRestart(ActorContext& ctx, const absl::Status&) override {
    ctx.Tell(probe_, "post-restart");
    return absl::OkStatus();
  }

 private:
  ActorRef probe_;
  int64_t count_ = 0;
};

// A parent that spawns one Counter child and supervises it with `strategy`.
ActorFactory Parent(ActorRef probe, SupervisorStrategy strategy,
                    std::shared_ptr<ActorRef> child_out) {
  return [=] {
    auto parent = std::make_unique<LambdaActor>(
        [probe](ActorContext& ctx, const Message& m) {
          if (const auto* t = As<Terminated>(m)) {
            ctx.Tell(probe, *t);
          } else if (IsText(m, "sync")) {
            ctx.Reply("synced");  // Started ran: the child exists
          }
          return absl::OkStatus();
        });
    parent->started_ = [probe, child_out](ActorContext& ctx) {
      auto child = ctx.Spawn(
          [probe] { return std::make_unique<Counter>(probe); }, "child");
      if (!child.ok()) {
        return child.status();
      }
      *child_out = *child;
      return absl::OkStatus();
    };
    parent->strategy_ = std::make_unique<SupervisorStrategy>(strategy);
    return parent;
  };
}

// Spawns a Parent supervising with `strategy` and returns its child once it
// exists (a reply from the parent proves its Started ran).
ActorRef SpawnFamily(ActorSystem& system, const ActorRef& probe,
                     SupervisorStrategy strategy) {
  auto child = std::make_shared<ActorRef>();
  auto parent = system.Spawn(Parent(probe, std::move(strategy), child));
  EXPECT_TRUE(parent.ok()) << parent.status();
  if (!parent.ok()) {
    return ActorRef();
  }
  EXPECT_TRUE(system.Ask(*parent, "sync", kWait).get().ok());
  return *child;
}

int64_t CountOf(ActorSystem& system, const ActorRef& ref) {
  auto reply = system.Ask(ref, "get", kWait).get();
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() ? As<Int64Value>(**reply)->value() : -1;
}

TEST(SupervisionTest, ResumeKeepsStateAndDropsTheMessage) {
  ActorSystem system;
  Inbox probe(system);
  const ActorRef child = SpawnFamily(
      system, probe.ref(), SupervisorStrategy::Always(Directive::kResume));
  ASSERT_TRUE(child);
  system.Tell(child, "inc");
  system.Tell(child, "fail");
  system.Tell(child, "inc");
  system.Tell(child, "throw");
  system.Tell(child, "inc");
  EXPECT_EQ(CountOf(system, child), 3);
}

TEST(SupervisionTest, RestartMakesAFreshInstanceWithHooksAndKeepsTheMailbox) {
  ActorSystem system;
  Inbox probe(system);
  const ActorRef child = SpawnFamily(
      system, probe.ref(), SupervisorStrategy::Always(Directive::kRestart));
  ASSERT_TRUE(child);
  system.Tell(child, "inc");
  system.Tell(child, "inc");
  system.Tell(child, "fail");
  system.Tell(child, "inc");  // queued behind the failure: kept
  EXPECT_EQ(CountOf(system, child), 1);
  auto pre = probe.Receive(kWait);
  auto post = probe.Receive(kWait);
  ASSERT_TRUE(pre.ok() && post.ok());
  EXPECT_TRUE(IsText(*pre->message, "pre-restart"));
  EXPECT_TRUE(IsText(*post->message, "post-restart"));
}

TEST(SupervisionTest, StopDirectiveStopsTheChildWithFailed) {
  ActorSystem system;
  Inbox probe(system);
  const ActorRef child = SpawnFamily(
      system, probe.ref(), SupervisorStrategy::Always(Directive::kStop));
  ASSERT_TRUE(child);
  system.Tell(child, "fail");
  auto t = probe.ReceiveAs<Terminated>(kWait);  // the parent forwards it
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(SameActor(child, t->ref()));
  EXPECT_EQ(t->reason(), kFailed);
}

TEST(SupervisionTest, EscalateReachesTheGrandparent) {
  ActorSystem system;
  Inbox probe(system);
  Mutex mu;
  std::vector<std::string> decided;  // what the grandparent was asked about
  auto child = std::make_shared<ActorRef>();
  auto grandparent = system.Spawn(
      [&]() -> std::unique_ptr<Actor> {
        auto actor = std::make_unique<LambdaActor>(
            [](ActorContext& ctx, const Message& m) {
              if (IsText(m, "sync")) {
                ctx.Reply("synced");
              }
              return absl::OkStatus();
            });
        actor->started_ = [&](ActorContext& ctx) {
          return ctx
              .Spawn(Parent(probe.ref(),
                            SupervisorStrategy::Always(Directive::kEscalate),
                            child),
                     "parent")
              .status();
        };
        SupervisorStrategy strategy;
        strategy.decider = [&](const Failure& failure) {
          MutexLock lock(&mu);
          decided.push_back(failure.child.id() + ": " +
                            std::string(failure.error.message()));
          return Directive::kResume;
        };
        actor->strategy_ = std::make_unique<SupervisorStrategy>(strategy);
        return actor;
      },
      "grandparent");
  ASSERT_TRUE(grandparent.ok());
  // A reply proves Started ran, so each generation has spawned the next.
  ASSERT_TRUE(system.Ask(*grandparent, "sync", kWait).get().ok());
  auto parent = system.Lookup("grandparent/parent");
  ASSERT_TRUE(parent.ok());
  ASSERT_TRUE(system.Ask(*parent, "sync", kWait).get().ok());
  ASSERT_TRUE(*child);
  system.Tell(*child, "inc");
  system.Tell(*child, "fail");
  system.Tell(*child, "inc");
  EXPECT_EQ(CountOf(system, *child), 2);  // resumed through the chain
  MutexLock lock(&mu);
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0], "grandparent/parent: told to fail");
}

TEST(SupervisionTest, RestartLimitWithinTheWindowThenStop) {
  ActorSystem system;
  Inbox probe(system);
  SupervisorStrategy strategy = SupervisorStrategy::Always(Directive::kRestart);
  strategy.max_restarts = 2;
  strategy.within = absl::Minutes(1);
  const ActorRef child = SpawnFamily(system, probe.ref(), strategy);
  ASSERT_TRUE(child);
  for (int i = 0; i < 3; ++i) {
    system.Tell(child, "fail");
  }
  auto t = probe.ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->reason(), kFailed);
}

// The guardian is an ordinary supervisor: a top-level actor under a
// guardian strategy gets what a child under the same parent strategy gets
// (one Decide, one restart limit). Only escalation differs: the guardian
// has no parent, so it stops the actor.
TEST(SupervisionTest, TheGuardianSupervisesTopLevelActorsAsAParentDoes) {
  SupervisorStrategy strategy;
  strategy.decider = [](const Failure& failure) {
    return failure.error.code() == absl::StatusCode::kInternal
               ? Directive::kRestart
               : Directive::kResume;
  };
  strategy.max_restarts = 1;
  ActorSystemOptions options;
  options.guardian_strategy = strategy;
  ActorSystem system(options);
  Inbox probe(system);
  auto top =
      system.Spawn([&probe] { return std::make_unique<Counter>(probe.ref()); });
  ASSERT_TRUE(top.ok());
  probe.Watch(*top);
  system.Tell(*top, "inc");
  system.Tell(*top, "bad");  // not INTERNAL: resumed, the count kept
  EXPECT_EQ(CountOf(system, *top), 1);
  system.Tell(*top, "throw");  // an exception is INTERNAL: restart
  EXPECT_TRUE(testing::NextIsText(probe, "pre-restart"));
  EXPECT_TRUE(testing::NextIsText(probe, "post-restart"));
  EXPECT_EQ(CountOf(system, *top), 0) << "a restart is a fresh instance";
  system.Tell(*top, "inc");
  system.Tell(*top, "fail");  // INTERNAL again: over the limit of 1, stop
  auto t = probe.ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->reason(), kFailed);
}

TEST(SupervisionTest, TheGuardianStopsAnActorThatEscalates) {
  ActorSystemOptions options;
  options.guardian_strategy = SupervisorStrategy::Always(Directive::kEscalate);
  ActorSystem system(options);
  Inbox probe(system);
  auto top =
      system.Spawn([&probe] { return std::make_unique<Counter>(probe.ref()); });
  ASSERT_TRUE(top.ok());
  probe.Watch(*top);
  system.Tell(*top, "fail");
  auto t = probe.ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->reason(), kFailed);
}

TEST(SupervisionTest, ATopLevelActorHasNoParentToSee) {
  ActorSystem system;
  auto top = system.Spawn(Lambda([](ActorContext& ctx, const Message&) {
    ctx.Reply(ctx.Parent() ? "a parent" : "nobody");
    return absl::OkStatus();
  }));
  ASSERT_TRUE(top.ok());
  auto reply = system.Ask(*top, "parent?", kWait).get();
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(TextOf(**reply), "nobody");
}

TEST(SupervisionTest, AThrowingStartedIsAFailure) {
  ActorSystem system;
  Inbox probe(system);
  std::atomic<int> received{0};
  Notification watched;
  auto ref = system.Spawn([&] {
    auto actor =
        std::make_unique<LambdaActor>([&](ActorContext&, const Message&) {
          received.fetch_add(1);
          return absl::OkStatus();
        });
    actor->started_ = [&](ActorContext&) -> absl::Status {
      watched.WaitForNotificationWithTimeout(kWait);
      throw std::runtime_error("cannot start");
    };
    return actor;
  });
  ASSERT_TRUE(ref.ok());
  probe.Watch(*ref);  // queued while Started runs
  system.Tell(*ref, "hello");
  watched.Notify();
  auto t = probe.ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->reason(), kFailed);
  EXPECT_EQ(received.load(), 0);
}

TEST(ChildrenTest, ChildrenStopBeforeTheParentsStoppedAndParentSeesTerminated) {
  ActorSystem system;
  Inbox probe(system);
  auto parent = system.Spawn(
      [&] {
        auto actor = std::make_unique<LambdaActor>([&](ActorContext& ctx,
                                                       const Message& m) {
          if (IsText(m, "spawn")) {
            for (const char* name : {"a", "b"}) {
              auto child = ctx.Spawn(
                  [&, name] {
                    auto c = std::make_unique<LambdaActor>(
                        [](ActorContext&, const Message&) {
                          return absl::OkStatus();
                        });
                    c->stopped_ = [&, name](ActorContext& ctx) {
                      ctx.Tell(probe.ref(),
                               std::string("child stopped ") + name);
                    };
                    return c;
                  },
                  name);
              if (!child.ok()) return child.status();
            }
            ctx.Reply(Int64Value());
          } else if (IsText(m, "kill-a")) {
            ctx.Stop(ctx.Children()[0].id() == "p/a" ? ctx.Children()[0]
                                                     : ctx.Children()[1]);
          } else if (const auto* t = As<Terminated>(m)) {
            ctx.Tell(probe.ref(), std::string("parent saw ") + t->ref().id());
          }
          return absl::OkStatus();
        });
        actor->stopped_ = [&](ActorContext& ctx) {
          ctx.Tell(probe.ref(), "parent stopped");
        };
        return actor;
      },
      "p");
  ASSERT_TRUE(parent.ok());
  ASSERT_TRUE(system.Ask(*parent, "spawn", kWait).get().ok());
  system.Tell(*parent, "kill-a");
  std::vector<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    auto m = probe.Receive(kWait);
    ASSERT_TRUE(m.ok());
    seen.emplace_back(TextOf(*m->message));
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"child stopped a", "parent saw p/a"}));
  system.Stop(*parent);
  seen.clear();
  for (int i = 0; i < 2; ++i) {
    auto m = probe.Receive(kWait);
    ASSERT_TRUE(m.ok());
    seen.emplace_back(TextOf(*m->message));
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"child stopped b", "parent stopped"}));
}

TEST(InputSourceTest, DeliversResultsInOrderAndIsCancelledWhenTheActorStops) {
  ActorSystem system;
  Inbox probe(system);
  std::atomic<int> produced{0};
  auto ref = system.Spawn(Lambda([&](ActorContext& ctx, const Message& m) {
    if (IsText(m, "start")) {
      ctx.AddInputSource([&](const StopToken& stop) -> MessagePtr {
        if (stop.stop_requested()) return nullptr;
        auto v = std::make_unique<Int64Value>();
        v->set_value(produced.fetch_add(1));
        return v;
      });
    } else if (const auto* v = As<Int64Value>(m)) {
      ctx.Tell(probe.ref(), *v);
      if (v->value() == 99) {
        ctx.Stop();
      }
    }
    return absl::OkStatus();
  }));
  ASSERT_TRUE(ref.ok());
  probe.Watch(*ref);
  system.Tell(*ref, "start");
  for (int i = 0; i < 100; ++i) {
    auto v = probe.ReceiveAs<Int64Value>(kWait);
    ASSERT_TRUE(v.ok()) << v.status();
    ASSERT_EQ(v->value(), i);
  }
  ASSERT_TRUE(probe.ReceiveAs<Terminated>(kWait).ok());
  // One at a time: the source produced at most one message past the last
  // handled one before it saw the stop.
  system.Shutdown(kWait);
  ASSERT_TRUE(system.AwaitTermination(kWait));
  EXPECT_LE(produced.load(), 101);
}

TEST(ShutdownTest, RunsQueuedMessagesBeforeThePillStopsTheRestAfterTimeout) {
  ActorSystem system;
  std::atomic<int> handled{0};
  auto polite = system.Spawn(Lambda([&](ActorContext&, const Message&) {
    handled.fetch_add(1);
    return absl::OkStatus();
  }));
  ASSERT_TRUE(polite.ok());
  for (int i = 0; i < 100; ++i) {
    system.Tell(*polite, "work");
  }
  BlockedActor stuck(system);
  system.Tell(stuck.ref(), "queued");  // before the pill: would run if it could
  system.Shutdown(absl::Milliseconds(100));
  EXPECT_EQ(system.Spawn(Echo()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(system.AwaitTermination(absl::Milliseconds(50)));
  stuck.Release();
  ASSERT_TRUE(system.AwaitTermination(kWait));
  EXPECT_EQ(handled.load(), 100);
  EXPECT_EQ(system.stats().actors_alive, 0);
}

}  // namespace
}  // namespace troupe
