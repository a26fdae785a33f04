// Virtual actors, embedded membership (node/cluster/identity.h): one
// activation serves an identity's messages from every member, on the
// member rendezvous hashing names; it is passivated when idle and made
// again by the next message, without losing messages sent while it
// retires; it is made again elsewhere when its node is gone; a kind the
// member does not know, and bad identities, fail with what is wrong.
// Every wait is on an event (a reply, a member event, an activation's
// start or stop) with a timeout.
#include "node/cluster/identity.h"

#include <google/protobuf/wrappers.pb.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "node/cluster/cluster.h"
#include "node/cluster/rendezvous.h"
#include "node/runtime/actor_system.h"
#include "node/service/node_server.h"
#include "tests/testing/counting_identity.h"
#include "tests/testing/member_watcher.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);
using google::protobuf::StringValue;
using testing::Activations;
using testing::Add;
using testing::Answer;

std::unique_ptr<NodeServer> StartMember(
    std::vector<std::string> seeds, std::shared_ptr<Activations> log,
    absl::Duration passivate_after = absl::Minutes(5)) {
  NodeServerOptions options;
  options.cluster.name = "t";
  options.cluster.seeds = std::move(seeds);
  options.cluster.min_backoff = absl::Milliseconds(50);
  options.cluster.max_backoff = absl::Milliseconds(200);
  options.cluster.passivate_after = passivate_after;
  options.cluster.activate = testing::CountingKind(log);
  return testing::StartTestNode(options);
}

// Three members, each seeing all three UP.
std::vector<std::unique_ptr<NodeServer>> ThreeMembers(
    const std::shared_ptr<Activations>& log,
    absl::Duration passivate_after = absl::Minutes(5)) {
  std::vector<std::unique_ptr<NodeServer>> nodes;
  nodes.push_back(StartMember({}, log, passivate_after));
  nodes.push_back(StartMember({nodes[0]->address()}, log, passivate_after));
  nodes.push_back(StartMember({nodes[0]->address()}, log, passivate_after));
  for (auto& node : nodes) {
    testing::MemberWatcher watcher(node->node().system());
    EXPECT_TRUE(watcher.WaitForUp(3)) << node->address();
  }
  return nodes;
}

TEST(IdentityTest, OneActivationOnTheOwnerServesEveryMember) {
  auto log = std::make_shared<Activations>();
  std::vector<std::unique_ptr<NodeServer>> nodes = ThreeMembers(log);
  std::vector<std::string> members;
  for (auto& node : nodes) {
    members.push_back(node->address());
  }
  const std::string owner = RendezvousOwner(members, "counter:alice");
  int expected = 0;
  for (int round = 0; round < 2; ++round) {
    for (auto& node : nodes) {
      absl::StatusOr<Answer> answer = Add(node->node().system(), "alice");
      ASSERT_TRUE(answer.ok()) << answer.status();
      EXPECT_EQ(answer->node, owner);
      EXPECT_EQ(answer->identity, "counter:alice");
      EXPECT_EQ(answer->count, ++expected);  // one activation, one count
    }
  }
  EXPECT_EQ(log->started(), 1);
  // The identity's Pid, as text, reaches it from another node too, also
  // for a first call (an ask from another node watches its target: the
  // identity is not ended by having no activation yet).
  ActorSystem& b = nodes[1]->node().system();
  absl::StatusOr<ActorRef> fresh = b.Resolve(
      absl::StrCat("troupe://", nodes[0]->address(), "/@counter:zoe"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  StringValue hello;
  hello.set_value("add");
  absl::StatusOr<MessagePtr> first = b.Ask(*fresh, hello, kWait).get();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(log->started(), 2);
  // And an active one.
  ActorSystem& c = nodes[2]->node().system();
  absl::StatusOr<ActorRef> by_text = c.Resolve(
      absl::StrCat("troupe://", nodes[0]->address(), "/@counter:alice"));
  ASSERT_TRUE(by_text.ok()) << by_text.status();
  StringValue add;
  add.set_value("add");
  absl::StatusOr<MessagePtr> reply = c.Ask(*by_text, add, kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(absl::EndsWith(As<StringValue>(**reply)->value(),
                             absl::StrCat(" ", expected + 1)));
  EXPECT_EQ(log->started(), 2);
}

TEST(IdentityTest, AnIdleActivationIsPassivatedAndTheNextMessageMakesANewOne) {
  auto log = std::make_shared<Activations>();
  std::unique_ptr<NodeServer> a = StartMember({}, log, absl::Milliseconds(100));
  ASSERT_NE(a, nullptr);
  absl::StatusOr<Answer> first = Add(a->node().system(), "bob");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->count, 1);
  ASSERT_TRUE(log->WaitStopped(1, kWait)) << "never passivated";
  absl::StatusOr<Answer> again = Add(a->node().system(), "bob");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->count, 1);  // a new activation
  EXPECT_EQ(log->started(), 2);
}

// Tells sent while activations retire (idle gaps of 0-4 ms against a
// passivation after 2-3 ms, so retirements meet arriving messages) all
// reach an activation: none is lost between a retirement and the next
// start.
TEST(IdentityTest, NoMessageIsLostWhileActivationsRetire) {
  auto log = std::make_shared<Activations>();
  std::unique_ptr<NodeServer> a = StartMember({}, log, absl::Milliseconds(2));
  ASSERT_NE(a, nullptr);
  ActorSystem& system = a->node().system();
  absl::StatusOr<ActorRef> ref = GetIdentity(system, "counter", "carol");
  ASSERT_TRUE(ref.ok()) << ref.status();
  constexpr int kMessages = 1500;
  StringValue add;
  add.set_value("add");
  absl::BitGen random;
  for (int i = 0; i < kMessages; ++i) {
    system.Tell(*ref, add);
    absl::SleepFor(absl::Microseconds(absl::Uniform(random, 0, 4000)));
  }
  ASSERT_TRUE(system.Ask(*ref, add, kWait).get().ok());
  EXPECT_EQ(log->handled(), kMessages + 1);
  EXPECT_GT(log->started(), 1) << "no activation retired: nothing tested";
}

TEST(IdentityTest, AnIdentityIsActivatedElsewhereWhenItsNodeIsGone) {
  auto log = std::make_shared<Activations>();
  std::vector<std::unique_ptr<NodeServer>> nodes = ThreeMembers(log);
  absl::StatusOr<Answer> before = Add(nodes[0]->node().system(), "dave");
  ASSERT_TRUE(before.ok()) << before.status();
  auto owner = std::find_if(nodes.begin(), nodes.end(), [&](auto& node) {
    return node->address() == before->node;
  });
  ASSERT_NE(owner, nodes.end());
  NodeServer* survivor =
      owner == nodes.begin() ? nodes[1].get() : nodes[0].get();
  testing::MemberWatcher watcher(survivor->node().system());
  const std::string gone = (*owner)->address();
  (*owner)->Shutdown(absl::Seconds(2));
  ASSERT_TRUE(watcher.WaitFor(gone, v1::MEMBER_DOWN));
  absl::StatusOr<Answer> after = Add(survivor->node().system(), "dave");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(after->node, gone);
  EXPECT_EQ(after->count, 1);
}

TEST(IdentityTest, AKindTheOwnerDoesNotKnowFailsNamingIt) {
  auto log = std::make_shared<Activations>();
  std::unique_ptr<NodeServer> a = StartMember({}, log);
  ASSERT_NE(a, nullptr);
  absl::StatusOr<Answer> answer = Add(a->node().system(), "x", "nosuchkind");
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kNotFound)
      << answer.status();
  EXPECT_TRUE(absl::StrContains(answer.status().message(), "nosuchkind"))
      << answer.status();
}

TEST(IdentityTest, BadIdentitiesAndNodesWithoutAClusterAreRefused) {
  auto log = std::make_shared<Activations>();
  std::unique_ptr<NodeServer> a = StartMember({}, log);
  ASSERT_NE(a, nullptr);
  ActorSystem& system = a->node().system();
  EXPECT_EQ(GetIdentity(system, "a:b", "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetIdentity(system, "", "k").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetIdentity(system, "counter", "has space").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetIdentity(system, "counter", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  ActorSystem alone;
  EXPECT_EQ(GetIdentity(alone, "counter", "k").status().code(),
            absl::StatusCode::kFailedPrecondition);
  alone.Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace troupe
