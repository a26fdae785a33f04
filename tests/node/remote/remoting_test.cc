// Remoting across several nodes in one process, each on its own port 0:
// refs to other nodes' actors behave like local ones.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/remote/node.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using ::troupe::testing::Echo;
using ::troupe::testing::kWait;
using ::troupe::testing::Lambda;

std::unique_ptr<Node> StartNode() {
  NodeOptions options;
  options.listen = "127.0.0.1:0";
  options.system.threads = 2;
  auto node = Node::Start(std::move(options));
  EXPECT_TRUE(node.ok()) << node.status();
  return std::move(*node);
}

// The ref `node` gets for the actor `ref` of another node (as if the pid
// had come over the wire).
ActorRef RefOn(Node& node, const ActorRef& ref) {
  return node.system().Resolve(ref.pid());
}

// Waits for a Terminated about `ref`; other messages fail the test.
absl::StatusOr<Terminated> NextTerminated(Inbox& inbox) {
  auto received = inbox.Receive(kWait);
  if (!received.ok()) {
    return received.status();
  }
  if (const auto* terminated = As<Terminated>(*received->message)) {
    return *terminated;
  }
  return absl::InternalError(
      absl::StrCat("expected Terminated, got ", TypeName(*received->message)));
}

class RemotingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = StartNode();
    b_ = StartNode();
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }
  // A's ref to an actor B never had, parsed as a user would write it.
  ActorRef UnknownOnB() {
    absl::StatusOr<ActorRef> nobody =
        a_->system().Resolve(absl::StrCat("troupe://", b_->address(), "/nope"));
    EXPECT_TRUE(nobody.ok()) << nobody.status();
    return nobody.ok() ? *nobody : ActorRef();
  }

  // Spawns "target" on B and watches it from `inbox` on A; returns A's ref.
  // An ask round trip follows the watch, so the WATCH is on the wire before
  // anything the test does next (one link, in order).
  ActorRef WatchedTargetOnB(Inbox& inbox) {
    auto target = b_->system().Spawn(Echo(), "target");
    EXPECT_TRUE(target.ok()) << target.status();
    const ActorRef remote = RefOn(*a_, *target);
    inbox.Watch(remote);
    EXPECT_TRUE(a_->system().Ask(remote, Text("sync"), kWait).get().ok());
    return remote;
  }

  std::unique_ptr<Node> a_;
  std::unique_ptr<Node> b_;
};

TEST_F(RemotingTest, RefsCarryTheNodeAddress) {
  auto echo = b_->system().Spawn(Echo(), "echo");
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->address(), b_->address());
  EXPECT_EQ(echo->ToString(),
            absl::StrCat("troupe://", b_->address(), "/echo"));
  EXPECT_NE(a_->address(), b_->address());
  EXPECT_NE(a_->incarnation(), b_->incarnation());
}

TEST_F(RemotingTest, TellKeepsOrderAcross100000Messages) {
  constexpr int64_t kCount = 100000;
  // Counts messages in order; answers the first sender with how many
  // arrived in order once kCount have arrived.
  auto checker = b_->system().Spawn(
      Lambda([next = int64_t{0}, in_order = int64_t{0}](
                 ActorContext& ctx, const Message& message) mutable {
        if (const auto* seq = As<google::protobuf::Int64Value>(message)) {
          if (seq->value() == next) {
            ++in_order;
          }
          next = seq->value() + 1;
          if (next == kCount) {
            google::protobuf::Int64Value done;
            done.set_value(in_order);
            ctx.Reply(std::move(done));
          }
        }
        return absl::OkStatus();
      }));
  ASSERT_TRUE(checker.ok());
  Inbox inbox(a_->system());
  const ActorRef remote = RefOn(*a_, *checker);
  for (int64_t i = 0; i < kCount; ++i) {
    google::protobuf::Int64Value seq;
    seq.set_value(i);
    inbox.Tell(remote, std::move(seq));
  }
  auto done = inbox.ReceiveAs<google::protobuf::Int64Value>(absl::Seconds(60));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->value(), kCount);
  EXPECT_EQ(a_->system().stats().dead_letters, 0u);
}

TEST_F(RemotingTest, AskGetsTheReplyFromAnotherNode) {
  auto echo = b_->system().Spawn(Echo(), "echo");
  ASSERT_TRUE(echo.ok());
  AskFuture reply = a_->system().Ask(RefOn(*a_, *echo), Text("hello"), kWait);
  absl::StatusOr<MessagePtr> answer = reply.get();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(IsText(**answer, "hello"));
}

TEST_F(RemotingTest, AskToUnknownRemoteIdFailsFast) {
  const ActorRef nobody = UnknownOnB();
  const absl::Time start = absl::Now();
  absl::StatusOr<MessagePtr> answer =
      a_->system().Ask(nobody, Text("hello"), absl::Seconds(30)).get();
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kNotFound)
      << answer.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(RemotingTest, WatchReportsStopped) {
  Inbox inbox(a_->system());
  const ActorRef remote = WatchedTargetOnB(inbox);
  b_->system().Stop(*b_->system().Lookup("target"));
  auto terminated = NextTerminated(inbox);
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_TRUE(SameActor(remote, terminated->ref()));
  EXPECT_EQ(terminated->reason(), kStopped);
}

TEST_F(RemotingTest, WatchOfUnknownRemoteIdReportsNotFound) {
  const ActorRef nobody = UnknownOnB();
  Inbox inbox(a_->system());
  inbox.Watch(nobody);
  auto terminated = NextTerminated(inbox);
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->ref().id(), "nope");
  EXPECT_EQ(terminated->reason(), kNotFound);
}

TEST_F(RemotingTest, RemoteStopAndPoisonPill) {
  auto first = b_->system().Spawn(Echo(), "first");
  auto second = b_->system().Spawn(Echo(), "second");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  Inbox inbox(a_->system());
  inbox.Watch(RefOn(*a_, *first));
  inbox.Watch(RefOn(*a_, *second));
  a_->system().Stop(RefOn(*a_, *first));
  inbox.Tell(RefOn(*a_, *second), PoisonPill());
  for (int i = 0; i < 2; ++i) {
    auto terminated = NextTerminated(inbox);
    ASSERT_TRUE(terminated.ok()) << terminated.status();
    EXPECT_EQ(terminated->reason(), kStopped);
  }
}

TEST_F(RemotingTest, DeadLetterGoesBackToTheRemoteSender) {
  const ActorRef nobody = UnknownOnB();
  Inbox inbox(a_->system());
  inbox.Tell(nobody, Text("lost"));
  auto letter = inbox.ReceiveAs<DeadLetter>(kWait);
  ASSERT_TRUE(letter.ok()) << letter.status();
  EXPECT_EQ(letter->target().id(), "nope");
  EXPECT_EQ(letter->target().address(), b_->address());
  google::protobuf::StringValue text;
  ASSERT_TRUE(letter->message().UnpackTo(&text));
  EXPECT_EQ(text.value(), "lost");
  EXPECT_TRUE(SameActor(inbox.ref(), letter->sender()));
  EXPECT_GE(b_->system().stats().dead_letters, 1u);
}

TEST_F(RemotingTest, RefPassedInsideAMessageWorksOnAThirdNode) {
  std::unique_ptr<Node> c = StartNode();
  auto echo = b_->system().Spawn(Echo(), "echo");
  ASSERT_TRUE(echo.ok());
  // On C: given a Pid, sends "ping" to it on behalf of whoever asked.
  auto relay = c->system().Spawn(
      Lambda([](ActorContext& ctx, const Message& message) {
        if (const auto* pid = As<v1::Pid>(message)) {
          ctx.System().TellEnvelope(ctx.System().Resolve(FromProto(*pid)),
                                    MakeEnvelope(Text("ping"), ctx.Sender()),
                                    TellOptions());
        }
        return absl::OkStatus();
      }),
      "relay");
  ASSERT_TRUE(relay.ok());
  Inbox inbox(a_->system());
  inbox.Tell(RefOn(*a_, *relay), ToProto(echo->pid()));
  // B's echo answers the inbox on A: the sender ref came through C.
  auto received = inbox.Receive(kWait);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_TRUE(IsText(*received->message, "ping"));
  EXPECT_EQ(received->sender.address(), b_->address());
  EXPECT_EQ(received->sender.id(), "echo");
}

TEST_F(RemotingTest, UnwatchPreventsDelivery) {
  auto unwatched = b_->system().Spawn(Echo(), "unwatched");
  auto watched = b_->system().Spawn(Echo(), "watched");
  ASSERT_TRUE(unwatched.ok());
  ASSERT_TRUE(watched.ok());
  Inbox inbox(a_->system());
  inbox.Watch(RefOn(*a_, *unwatched));
  inbox.Unwatch(RefOn(*a_, *unwatched));
  inbox.Watch(RefOn(*a_, *watched));
  ASSERT_TRUE(
      a_->system().Ask(RefOn(*a_, *watched), Text("sync"), kWait).get().ok());
  // The unwatched one ends first (seen on B), then the watched one: only
  // the second may be reported.
  Inbox local(b_->system());
  local.Watch(*unwatched);
  b_->system().Stop(*unwatched);
  ASSERT_TRUE(NextTerminated(local).ok());
  b_->system().Stop(*watched);
  auto terminated = NextTerminated(inbox);
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->ref().id(), "watched");
  EXPECT_EQ(inbox.Receive(absl::ZeroDuration()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(RemotingTest, ActorWatchesRemoteActorAndRepliesAcrossNodes) {
  auto target = b_->system().Spawn(Echo(), "target");
  ASSERT_TRUE(target.ok());
  Inbox inbox(a_->system());
  // An actor on A watches B's actor and tells the inbox what happened.
  const ActorRef report = inbox.ref();
  auto watcher = a_->system().Spawn(
      Lambda([report](ActorContext& ctx, const Message& message) {
        if (const auto* pid = As<v1::Pid>(message)) {
          ctx.Watch(ctx.System().Resolve(FromProto(*pid)));
          ctx.Tell(report, Text("watching"));
        } else if (const auto* terminated = As<Terminated>(message)) {
          ctx.Tell(report, *terminated);
        }
        return absl::OkStatus();
      }));
  ASSERT_TRUE(watcher.ok());
  inbox.Tell(*watcher, ToProto(target->pid()));
  ASSERT_TRUE(testing::NextIsText(inbox, "watching"));
  ASSERT_TRUE(
      a_->system().Ask(RefOn(*a_, *target), Text("sync"), kWait).get().ok());
  b_->system().Stop(*target);
  auto terminated = inbox.ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->ref().id(), "target");
  EXPECT_EQ(terminated->reason(), kStopped);
}

TEST_F(RemotingTest, ShutdownOfAPeerReportsNodeDownAtOnce) {
  Inbox inbox(a_->system());
  const ActorRef remote = WatchedTargetOnB(inbox);
  const absl::Time start = absl::Now();
  b_->Shutdown(absl::Seconds(1));
  auto terminated = NextTerminated(inbox);
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->reason(), kNodeDown);
  // Well under the failure detector's threshold: the leave said so.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  // Asks to the gone node fail at once; nothing hangs.
  absl::StatusOr<MessagePtr> answer =
      a_->system().Ask(remote, Text("anyone?"), absl::Seconds(30)).get();
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable)
      << answer.status();
}

}  // namespace
}  // namespace troupe
