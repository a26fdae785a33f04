// Failure causes travel, and limits hold where they are promised (issue
// 14, C, D, E and F), through the public service, locally and across
// nodes: an ask whose message became a dead letter fails with its cause's
// status (RESOURCE_EXHAUSTED for a full mailbox or a message too large,
// never NOT_FOUND for a live actor); a message over a node's limit is
// refused at the edge and never cuts a link; every ref a user can obtain
// is watchable; a remote watch is in place when its headers arrive; a
// tell from an inbox to a dead actor is answered the same wherever the
// actor lived.
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/runtime/actor.h"
#include "node/service/kinds.h"
#include "node/service/node_server.h"
#include "proto/kinds.pb.h"
#include "proto/troupe.grpc.pb.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

using google::protobuf::Any;
using testing::Pack;
using testing::PackText;
using testing::ServiceClient;

// The "gate" kind: its first "hold" message blocks it until the test opens
// the gate, so its mailbox fills deterministically. Each actor shares its
// gate with the test that made it, so the gate outlives whichever of them
// ends first.
struct Gate {
  absl::Notification holding;
  absl::Notification open;
};
absl::Mutex gate_mu;
std::shared_ptr<Gate> current_gate ABSL_GUARDED_BY(gate_mu);

class GateActor final : public Actor {
 public:
  GateActor() {
    absl::MutexLock lock(&gate_mu);
    gate_ = current_gate;
  }
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (IsText(message, "hold") && gate_ != nullptr) {
      gate_->holding.Notify();
      gate_->open.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    ctx.Reply(CloneMessage(message));
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<Gate> gate_;
};
TROUPE_REGISTER_KIND("gate", "test: blocks on 'hold' until opened",
                     NoInit<GateActor>("gate"));

// The parameter: whether calls go through another node than the actors'.
// Each test starts the nodes with the options it needs.
class FailureCauseTest : public ::testing::TestWithParam<bool>,
                         protected testing::NodePair {
 protected:
  void Start(NodeServerOptions home_options, NodeServerOptions via_options) {
    ASSERT_TRUE(StartNodes(std::move(home_options), std::move(via_options)));
  }

  bool through_via() const { return GetParam(); }
  ServiceClient& client() { return client_of(through_via()); }
  v1::Pid SpawnOnHome(const std::string& kind, const std::string& name) {
    return client().MustSpawn(kind, name, nullptr, home->address());
  }
};

TEST_P(FailureCauseTest, AnAskToAFullMailboxIsResourceExhausted) {
  NodeServerOptions home_options;
  home_options.service.mailbox_capacity = 2;
  Start(home_options, {});
  auto gate = std::make_shared<Gate>();
  {
    absl::MutexLock lock(&gate_mu);
    current_gate = gate;
  }
  v1::Pid echo = SpawnOnHome("gate", "g");
  ASSERT_TRUE(client().Tell(echo, PackText("hold")).ok());
  ASSERT_TRUE(gate->holding.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(client().Tell(echo, PackText("a")).ok());
  ASSERT_TRUE(client().Tell(echo, PackText("b")).ok());  // now full

  Any reply;
  grpc::Status asked = client().Ask(echo, PackText("c"), &reply);
  gate->open.Notify();
  EXPECT_EQ(asked.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << asked.error_message();
  EXPECT_TRUE(absl::StrContains(asked.error_message(), "mailbox full"))
      << asked.error_message();
  // Alive all along, and answering once there is room: until it has taken
  // "a" and "b" out of its mailbox an ask may still find it full (each ask
  // is a round trip, so the asks wait for the actor without a sleep).
  grpc::Status answered;
  int attempts = 0;
  do {
    answered = client().Ask(echo, PackText("d"), &reply);
    ++attempts;
  } while (answered.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
           attempts < 1000);
  EXPECT_TRUE(answered.ok())
      << attempts << " asks; " << answered.error_message();
}

TEST_P(FailureCauseTest, EveryClientCallOverTheLimitIsResourceExhausted) {
  NodeServerOptions small;
  small.link.max_message_bytes = 65536;
  Start(small, small);
  v1::Pid echo = SpawnOnHome("echo", "e");
  for (size_t size : {100'000, 1'000'000}) {
    SCOPED_TRACE(absl::StrCat(size, " bytes"));
    const Any big = PackText(std::string(size, 'x'));
    EXPECT_EQ(client().Tell(echo, big).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
    Any reply;
    grpc::Status asked = client().Ask(echo, big, &reply);
    EXPECT_EQ(asked.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_TRUE(absl::StrContains(asked.error_message(), "65536"))
        << asked.error_message();
    v1::Pid pid;
    EXPECT_EQ(client().Spawn("echo", "", &pid, &big).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);

    // On an inbox stream: the tell is refused on the stream, which goes on.
    auto inbox = client().Inbox();
    ASSERT_TRUE(inbox->Tell(echo, big));
    v1::InboxEvent event;
    ASSERT_TRUE(inbox->Read(&event));
    EXPECT_TRUE(absl::StrContains(event.error(), "message limit"))
        << event.ShortDebugString().substr(0, 200);
    ASSERT_TRUE(inbox->Tell(echo, PackText("small")));
    ASSERT_TRUE(inbox->Read(&event));
    EXPECT_TRUE(event.has_delivery());
  }
}

TEST_P(FailureCauseTest, AMessageOverTheReceiversLimitNeverCutsTheLink) {
  // home takes at most 1 MiB; via (the default) would send 4 MiB.
  NodeServerOptions home_options;
  home_options.link.max_message_bytes = 1 << 20;
  Start(home_options, {});
  ServiceClient& sender = *via_client;  // the sending node is via
  v1::Pid counter = sender.MustSpawn("counter", "n", nullptr, home->address());
  v1::Pid untouched =
      sender.MustSpawn("echo", "untouched", nullptr, home->address());
  v1::Pid echo = sender.MustSpawn("echo", "e", nullptr, home->address());
  auto watch = sender.Watch(untouched);
  watch->WaitInPlace();

  v1::CounterAdd add;
  add.set_delta(1);
  const Any one = Pack(add);
  const Any big = PackText(std::string(3 << 20, 'x'));
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(sender.Tell(counter, one).ok());
  }
  // A tell over home's limit: via accepts it (under its own) and it becomes
  // a dead letter on via, counted; an ask of the same fails with the cause.
  v1::StatsReply before;
  ASSERT_TRUE(sender.Stats(&before).ok());
  ASSERT_TRUE(sender.Tell(echo, big).ok());
  Any reply;
  grpc::Status asked = sender.Ask(echo, big, &reply);
  EXPECT_EQ(asked.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << asked.error_message();
  EXPECT_TRUE(absl::StrContains(asked.error_message(), "receiving node"))
      << asked.error_message();
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(sender.Tell(counter, one).ok());
  }
  // Every small tell arrived; the link never went down; the watch of the
  // untouched actor did not fire.
  EXPECT_EQ(sender.CounterValue(counter), 4000);
  v1::StatsReply after;
  ASSERT_TRUE(sender.Stats(&after).ok());
  EXPECT_EQ(after.dead_letters() - before.dead_letters(), 2u);
  for (const v1::LinkStats& link : after.links()) {
    EXPECT_EQ(link.downs(), 0u) << link.address();
  }
  ASSERT_TRUE(home_client->Stop(untouched).ok());
  v1::Terminated terminated;
  ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
  EXPECT_EQ(terminated.reason(), v1::STOPPED);
}

TEST_P(FailureCauseTest, AnAsksReplyRefIsWatchableAndFiresOnce) {
  Start({}, {});
  // The inbox lives on home; the ask is made through the client under test,
  // so its reply slot (the sender the inbox sees) is on home or on via.
  for (bool answer : {true, false}) {
    SCOPED_TRACE(answer ? "answered" : "timed out");
    auto inbox = home_client->Inbox();
    grpc::Status asked;
    std::thread asker([&] {
      Any reply;
      asked = client().Ask(inbox->pid(), PackText("question"), &reply,
                           absl::Seconds(answer ? 10 : 3));
    });
    v1::InboxEvent event;
    ASSERT_TRUE(inbox->Read(&event));
    ASSERT_TRUE(event.has_delivery());
    const v1::Pid reply_ref = event.delivery().sender();
    EXPECT_EQ(reply_ref.address(),
              through_via() ? via->address() : home->address());
    auto watch = home_client->Watch(reply_ref);
    watch->WaitInPlace();
    if (answer) {
      ASSERT_TRUE(inbox->Tell(reply_ref, PackText("answer")));
    }
    v1::Terminated terminated;
    ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
    EXPECT_EQ(terminated.reason(), v1::STOPPED);
    EXPECT_FALSE(watch->Next(&terminated));  // exactly one
    asker.join();
    EXPECT_EQ(asked.ok(), answer) << asked.error_message();
  }
}

TEST_P(FailureCauseTest, AWatchIsInPlaceWhenItsHeadersArrive) {
  Start({}, {});
  // The watch goes through the client under test; the stop through home's
  // own client, right after the headers: STOPPED every time.
  for (int round = 0; round < 300; ++round) {
    v1::Pid echo = home_client->MustSpawn("echo", "");
    auto watch = client().Watch(echo);
    watch->WaitInPlace();
    ASSERT_TRUE(home_client->Stop(echo).ok());
    v1::Terminated terminated;
    ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
    ASSERT_EQ(terminated.reason(), v1::STOPPED) << "round " << round;
  }
}

TEST_P(FailureCauseTest, AnInboxTellToADeadActorIsADeadLetterWhereverItLived) {
  Start({}, {});
  // The inbox is on the node of the client under test; the dead actor is on
  // home: on the inbox's own node, or on another.
  auto inbox = client().Inbox();
  v1::Pid echo = home_client->MustSpawn("echo", "gone");
  ASSERT_TRUE(home_client->Stop(echo).ok());
  ASSERT_TRUE(inbox->Tell(echo, PackText("hello?")));
  v1::InboxEvent event;
  ASSERT_TRUE(inbox->Read(&event));
  ASSERT_TRUE(event.has_delivery()) << event.ShortDebugString();
  v1::DeadLetter letter;
  ASSERT_TRUE(event.delivery().message().UnpackTo(&letter))
      << event.delivery().message().type_url();
  EXPECT_EQ(letter.reason(), v1::DEAD_LETTER_NO_SUCH_ACTOR);
  EXPECT_EQ(letter.target().id(), "gone");
  EXPECT_EQ(letter.sender().id(), inbox->pid().id());
}

INSTANTIATE_TEST_SUITE_P(LocallyAndAcrossNodes, FailureCauseTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ThroughAnotherNode"
                                             : "OnTheActorsNode";
                         });

}  // namespace
}  // namespace troupe
