// Helpers for runtime tests: an actor built from lambdas, and a bound for
// every wait (tests wait on notifications, never on fixed sleeps).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe::testing {

// Every wait in the tests is bounded by this (generous: CI runs sanitizers).
inline constexpr absl::Duration kWait = absl::Seconds(10);

using ReceiveFn = Behavior;

// An actor whose Receive and hooks are lambdas (set the hooks after
// construction).
class LambdaActor : public Actor {
 public:
  explicit LambdaActor(ReceiveFn receive) : receive_(std::move(receive)) {}

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    return receive_(ctx, message);
  }
  absl::Status Started(ActorContext& ctx) override {
    return started_ ? started_(ctx) : absl::OkStatus();
  }
  void Stopped(ActorContext& ctx) override {
    if (stopped_) {
      stopped_(ctx);
    }
  }
  SupervisorStrategy supervisor_strategy() const override {
    return strategy_ ? *strategy_ : SupervisorStrategy::Default();
  }

  std::function<absl::Status(ActorContext&)> started_;
  std::function<void(ActorContext&)> stopped_;
  std::unique_ptr<SupervisorStrategy> strategy_;

 private:
  ReceiveFn receive_;
};

// An actor that is just `receive` (FromBehavior); LambdaActor when hooks are
// needed too.
inline ActorFactory Lambda(ReceiveFn receive) {
  return FromBehavior(std::move(receive));
}

// Replies to every message with a copy of it.
inline ActorFactory Echo() {
  return Lambda([](ActorContext& ctx, const Message& message) {
    ctx.Reply(CloneMessage(message));
    return absl::OkStatus();
  });
}

// Receives one message and checks that it is the text `expected`. After
// sending a marker, proves that nothing else arrived before it.
inline ::testing::AssertionResult NextIsText(Inbox& inbox,
                                             absl::string_view expected) {
  auto received = inbox.Receive(kWait);
  if (!received.ok()) {
    return ::testing::AssertionFailure() << received.status();
  }
  if (!IsText(*received->message, expected)) {
    return ::testing::AssertionFailure()
           << "expected '" << expected << "', got "
           << received->message->ShortDebugString();
  }
  return ::testing::AssertionSuccess();
}

// What arrived at an inbox up to and including a Terminated.
struct UntilTerminated {
  TerminationReason reason = v1::TERMINATION_REASON_UNSPECIFIED;
  int dead_letters = 0;
  std::vector<std::string> lost_texts;  // dead letters that carried text
};

// Receives until a Terminated arrives, collecting dead letters on the way
// (a stopping actor's queued messages are dead-lettered before its watchers
// hear of it, so they may come first).
inline UntilTerminated ReceiveUntilTerminated(Inbox& inbox) {
  UntilTerminated result;
  for (;;) {
    auto received = inbox.Receive(kWait);
    if (!received.ok()) {
      ADD_FAILURE() << "no Terminated: " << received.status();
      return result;
    }
    if (const auto* t = As<Terminated>(*received->message)) {
      result.reason = t->reason();
      return result;
    }
    if (const auto* letter = As<DeadLetter>(*received->message)) {
      ++result.dead_letters;
      google::protobuf::StringValue text;
      if (letter->message().UnpackTo(&text)) {
        result.lost_texts.push_back(text.value());
      }
    }
  }
}

// Stops `ref` and returns once it has terminated.
inline void StopAndAwait(ActorSystem& system, const ActorRef& ref) {
  Inbox watcher(system);
  watcher.Watch(ref);
  system.Stop(ref);
  EXPECT_TRUE(watcher.ReceiveAs<Terminated>(kWait).ok());
}

// An actor blocked inside its first message until Release(), so that later
// messages queue up behind it. It replies "synced" to "sync" and counts every
// other message it handles. Release() also runs on destruction, so no worker
// is left blocked.
class BlockedActor {
 public:
  explicit BlockedActor(ActorSystem& system, const SpawnOptions& options = {})
      : state_(std::make_shared<State>()) {
    auto ref = system.Spawn(
        [state = state_] {
          return std::make_unique<LambdaActor>(
              [state](ActorContext& ctx, const Message& message) {
                if (IsText(message, "block")) {
                  state->entered.Notify();
                  state->gate.WaitForNotificationWithTimeout(kWait);
                } else if (IsText(message, "sync")) {
                  ctx.Reply("synced");
                } else {
                  state->handled.fetch_add(1);
                }
                return absl::OkStatus();
              });
        },
        "", options);
    EXPECT_TRUE(ref.ok()) << ref.status();
    if (ref.ok()) {
      ref_ = *ref;
      system.Tell(ref_, "block");
      EXPECT_TRUE(state_->entered.WaitForNotificationWithTimeout(kWait));
    }
  }
  ~BlockedActor() { Release(); }
  BlockedActor(const BlockedActor&) = delete;
  BlockedActor& operator=(const BlockedActor&) = delete;

  const ActorRef& ref() const { return ref_; }
  void Release() {
    if (!state_->gate.HasBeenNotified()) {
      state_->gate.Notify();
    }
  }
  int handled() const { return state_->handled.load(); }

 private:
  struct State {
    Notification entered;
    Notification gate;
    std::atomic<int> handled{0};
  };
  std::shared_ptr<State> state_;
  ActorRef ref_;
};

}  // namespace troupe::testing
