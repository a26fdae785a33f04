// Typed actors (protoc-gen-troupe's output, node/typed): the generated base
// dispatches calls to methods, which answer at once, later, with an error,
// or not at all (ABORTED); the generated ref calls them as a future, as a
// continuation inside an actor, or one-way; on this node, on another node
// and through the SDK.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/service/node_server.h"
#include "sdk/client.h"
#include "tests/node/typed/echo_actors.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

using test::EchoReply;
using test::EchoRequest;
using testing::EchoImpl;

constexpr absl::Duration kWait = testing::kTypedWait;

using testing::Request;

class TypedActorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<ActorRef> spawned = system_.Spawn<EchoImpl>("echo");
    ASSERT_TRUE(spawned.ok()) << spawned.status();
    echo_ = test::EchoRef(system_, *spawned);
  }
  void TearDown() override {
    system_.Shutdown(absl::Seconds(5));
    system_.AwaitTermination();
  }

  ActorSystem system_;
  test::EchoRef echo_;
};

TEST_F(TypedActorTest, AFutureFromOutsideAnActor) {
  absl::StatusOr<EchoReply> reply = echo_.Echo(Request("hi"), kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->text(), "hi");
}

TEST_F(TypedActorTest, AContinuationInsideAnActor) {
  Inbox probe(system_);
  test::EchoRef echo(echo_.ref());  // no Requester: an actor's ref
  absl::StatusOr<ActorRef> caller = system_.Spawn(
      FromBehavior([echo, to = probe.ref()](ActorContext& ctx, const Message&) {
        echo.Echo(ctx, Request("from an actor"), kWait,
                  [to](ActorContext& ctx, absl::StatusOr<EchoReply> reply) {
                    ctx.Tell(to, Text(reply.ok() ? reply->text()
                                                 : reply.status().ToString()));
                  });
        return absl::OkStatus();
      }));
  ASSERT_TRUE(caller.ok());
  system_.Tell(*caller, Text("go"));
  absl::StatusOr<Inbox::Received> got = probe.Receive(kWait);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(TextOf(*got->message), "from an actor");
}

TEST_F(TypedActorTest, ADeferredAnswerDoesNotHoldUpOtherCalls) {
  auto deferred = echo_.Deferred(Request("later"), kWait);
  // The actor is free while the first call waits for the gate.
  absl::StatusOr<EchoReply> now = echo_.Echo(Request("now"), kWait).get();
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->text(), "now");
  EXPECT_EQ(deferred.wait_for(std::chrono::milliseconds(0)),
            std::future_status::timeout);
  system_.Tell(echo_.ref(), Text("open"));
  absl::StatusOr<EchoReply> later = deferred.get();
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->text(), "deferred later");
}

TEST_F(TypedActorTest, AFailedCallGivesTheCallerItsStatus) {
  absl::StatusOr<EchoReply> reply =
      echo_
          .Fail(Request("no", static_cast<int>(
                                  absl::StatusCode::kFailedPrecondition)),
                kWait)
          .get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reply.status().message(), "failed on purpose: no");
}

TEST_F(TypedActorTest, AMethodTheActorDoesNotImplementIsUnimplemented) {
  absl::StatusOr<EchoReply> reply = echo_.Missing(Request("?"), kWait).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(
      absl::StrContains(reply.status().message(), "troupe.test.Echo.Missing"))
      << reply.status();
}

TEST_F(TypedActorTest, AMethodOfAnotherServiceIsUnimplemented) {
  absl::StatusOr<EchoReply> reply =
      CallFuture<EchoReply>(&system_, echo_.ref(),
                            test::OtherActor::descriptor()->method(0),
                            Request("ping"), kWait)
          .get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(absl::StrContains(reply.status().message(), "troupe.test.Echo"))
      << reply.status();
}

TEST_F(TypedActorTest, AResponderLetGoUnansweredAbortsTheCall) {
  absl::StatusOr<EchoReply> reply = echo_.Drop(Request("x"), kWait).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(
      absl::StrContains(reply.status().message(), "troupe.test.Echo.Drop"))
      << reply.status();
}

TEST_F(TypedActorTest, PlainMessagesGoToReceiveOther) {
  AskFuture answer = system_.Ask(echo_.ref(), Text("calls?"), kWait);
  absl::StatusOr<MessagePtr> reply = answer.get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(TextOf(**reply), "0");
}

TEST_F(TypedActorTest, OneWayCallsAreHandledAndTheirRepliesGoNowhere) {
  const uint64_t dead_before = system_.stats().dead_letters;
  for (int i = 0; i < 3; ++i) {
    echo_.Echo(system_, Request("one way"));
  }
  absl::StatusOr<MessagePtr> calls =
      system_.Ask(echo_.ref(), Text("calls?"), kWait).get();
  ASSERT_TRUE(calls.ok()) << calls.status();
  EXPECT_EQ(TextOf(**calls), "3");
  EXPECT_EQ(system_.stats().dead_letters, dead_before);
}

TEST_F(TypedActorTest, AForwardedCallIsAnsweredByWhoItWentTo) {
  absl::StatusOr<EchoReply> reply = echo_.Delegate(Request("job"), kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->text(), "worker: job");
}

TEST_F(TypedActorTest, APeriodicOneWayCallKeepsItsMethod) {
  TimerHandle timer =
      echo_.Echo(system_, Request("tick"),
                 TellOptions{absl::ZeroDuration(), absl::Milliseconds(5)});
  // Each tick is an Echo call (counted), not a plain message (ignored).
  // Asked until three have come, each ask an answered round trip.
  const absl::Time deadline = absl::Now() + kWait;
  int calls = 0;
  while (calls < 3 && absl::Now() < deadline) {
    absl::StatusOr<MessagePtr> answer =
        system_.Ask(echo_.ref(), Text("calls?"), kWait).get();
    ASSERT_TRUE(answer.ok()) << answer.status();
    calls = std::stoi(std::string(TextOf(**answer)));
  }
  timer.Cancel();
  EXPECT_GE(calls, 3);
}

TEST_F(TypedActorTest, ARefWithoutARequesterRefusesAFuture) {
  test::EchoRef bare(echo_.ref());
  absl::StatusOr<EchoReply> reply = bare.Echo(Request("hi"), kWait).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
}

// The same calls to an actor on another node, from that node's peer and
// through the SDK: the method travels by name, the answer (a reply or a
// CallStatus) as a message.
class RemoteTypedActorTest : public ::testing::Test,
                             protected testing::NodePair {
 protected:
  void SetUp() override {
    ASSERT_TRUE(StartNodes());
    absl::StatusOr<ActorRef> spawned =
        via->node()
            .system()
            .SpawnOn(home->node().address(), testing::kTypedEchoKind, "",
                     nullptr, kWait)
            .get();
    ASSERT_TRUE(spawned.ok()) << spawned.status();
    remote_ = *spawned;
  }

  ActorRef remote_;
};

TEST_F(RemoteTypedActorTest, CallsAnActorOnAnotherNode) {
  test::EchoRef echo(via->node().system(), remote_);
  absl::StatusOr<EchoReply> reply = echo.Echo(Request("across"), kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->text(), "across");
  EXPECT_EQ(reply->node(), home->node().address());

  reply =
      echo.Fail(Request("far", static_cast<int>(absl::StatusCode::kOutOfRange)),
                kWait)
          .get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kOutOfRange);
  reply = echo.Drop(Request("far"), kWait).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kAborted);
  reply = echo.Missing(Request("far"), kWait).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(RemoteTypedLimitsTest, AReplyTooLargeToSendFailsTheCallAtOnce) {
  testing::NodePair pair;
  NodeServerOptions home_options;
  home_options.link.max_message_bytes = 1024;
  ASSERT_TRUE(pair.StartNodes(home_options));
  absl::StatusOr<ActorRef> remote =
      pair.via->node()
          .system()
          .SpawnOn(pair.home->node().address(), testing::kTypedEchoKind, "",
                   nullptr, kWait)
          .get();
  ASSERT_TRUE(remote.ok()) << remote.status();
  // The request fits the home node's limit; the reply (the same text and
  // the node's address) does not: its dead letter comes back to the ask.
  EchoRequest request = Request(std::string(1010, 'x'));
  ASSERT_LE(request.ByteSizeLong(), 1024u);
  test::EchoRef echo(pair.via->node().system(), *remote);
  absl::StatusOr<EchoReply> reply = echo.Echo(request, kWait).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted)
      << reply.status();
}

TEST_F(RemoteTypedActorTest, CallsThroughTheSdk) {
  ClientOptions options;
  options.node = via->node().address();
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  test::EchoRef echo(**client, (*client)->Ref(PidOf(remote_)));
  absl::StatusOr<EchoReply> reply = echo.Echo(Request("sdk"), kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->text(), "sdk");
  EXPECT_EQ(reply->node(), home->node().address());
  reply =
      echo.Fail(Request("sdk",
                        static_cast<int>(absl::StatusCode::kPermissionDenied)),
                kWait)
          .get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);

  // One-way through the SDK: handled, and the reply does not come back to
  // the client's inbox.
  echo.Echo(**client, Request("one way"));
  absl::StatusOr<MessagePtr> calls =
      (*client)->Ask(echo.ref(), Text("calls?"), kWait).get();
  ASSERT_TRUE(calls.ok()) << calls.status();
  EXPECT_EQ(TextOf(**calls), "2");
  // A reply sent to the inbox would have come before the ask's (one link,
  // one stream, in order).
  EXPECT_EQ((*client)->Receive(absl::ZeroDuration()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace troupe
