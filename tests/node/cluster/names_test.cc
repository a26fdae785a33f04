// Cluster-wide names, embedded membership (node/cluster/cluster.h): a name
// registered through any member is found from every member and through
// ActorService.Lookup without a node; a second actor cannot take it; it is
// freed when its actor ends, when it is unregistered, and when its node
// leaves; names move with their holder when a member joins or leaves.
// Waits are on member events and replies; where a release travels
// asynchronously, WhereIs is asked again until the definite answer comes,
// within a timeout.
#include <google/protobuf/wrappers.pb.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/cluster/cluster.h"
#include "node/cluster/rendezvous.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "node/service/node_server.h"
#include "proto/cluster.pb.h"
#include "tests/testing/member_watcher.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

class Echo : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    ctx.Reply(CloneMessage(message));
    return absl::OkStatus();
  }
};

// Subscribes to its node's member events as it starts.
class Subscriber : public Actor {
 public:
  absl::Status Started(ActorContext& ctx) override {
    v1::SubscribeMembers subscribe;
    *subscribe.mutable_subscriber() = ToProto(ctx.Self().pid());
    ctx.Tell(ClusterActorOf(ctx.System()), std::move(subscribe));
    return absl::OkStatus();
  }
  absl::Status Receive(ActorContext&, const Message&) override {
    return absl::OkStatus();
  }
};

std::unique_ptr<NodeServer> StartMember(
    std::vector<std::string> seeds,
    absl::Duration gossip_interval = absl::Hours(1)) {
  NodeServerOptions options;
  options.cluster.name = "t";
  options.cluster.seeds = std::move(seeds);
  options.cluster.min_backoff = absl::Milliseconds(50);
  options.cluster.max_backoff = absl::Milliseconds(200);
  // By default no periodic claims again: a test sees what a change itself
  // does.
  options.cluster.gossip_interval = gossip_interval;
  return testing::StartTestNode(options);
}

class NamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_.push_back(StartMember({}));
    ASSERT_NE(nodes_[0], nullptr);
    for (int i = 1; i < 3; ++i) {
      nodes_.push_back(StartMember({nodes_[0]->address()}));
      ASSERT_NE(nodes_.back(), nullptr);
    }
    AllSeeUp(3);
  }

  void AllSeeUp(int n) {
    for (auto& node : nodes_) {
      testing::MemberWatcher watcher(node->node().system());
      ASSERT_TRUE(watcher.WaitForUp(n)) << node->address();
    }
  }

  ActorSystem& on(int i) { return nodes_[i]->node().system(); }

  ActorRef SpawnEcho(int i) {
    absl::StatusOr<ActorRef> echo = on(i).Spawn<Echo>();
    EXPECT_TRUE(echo.ok()) << echo.status();
    return echo.value_or(ActorRef());
  }

  // WhereIs through node `i` until it answers `code`, or kWait.
  absl::StatusOr<ActorRef> WhereIsUntil(int i, const std::string& name,
                                        absl::StatusCode code) {
    const absl::Time deadline = absl::Now() + kWait;
    for (;;) {
      absl::StatusOr<ActorRef> found = WhereIs(on(i), name, kWait);
      if (found.status().code() == code || absl::Now() > deadline) {
        return found;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  std::vector<std::unique_ptr<NodeServer>> nodes_;
};

TEST_F(NamesTest, ANameRegisteredAnywhereIsFoundFromEveryMember) {
  ActorRef echo = SpawnEcho(1);
  absl::Status registered = RegisterName(on(0), "printer", echo, kWait);
  ASSERT_TRUE(registered.ok()) << registered;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<ActorRef> found = WhereIs(on(i), "printer", kWait);
    ASSERT_TRUE(found.ok()) << i << ": " << found.status();
    EXPECT_EQ(found->pid(), echo.pid());
    google::protobuf::StringValue hello;
    hello.set_value("hello");
    absl::StatusOr<MessagePtr> reply = on(i).Ask(*found, hello, kWait).get();
    ASSERT_TRUE(reply.ok()) << reply.status();
  }
  // ActorService.Lookup without a node searches the cluster.
  testing::ServiceClient client(nodes_[2]->address());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  v1::LookupRequest lookup;
  lookup.set_name("printer");
  v1::Pid pid;
  grpc::Status status = client.stub().Lookup(&context, lookup, &pid);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(FromProto(pid), echo.pid());
}

TEST_F(NamesTest, ASecondActorCannotTakeATakenName) {
  ActorRef first = SpawnEcho(1);
  ActorRef second = SpawnEcho(2);
  ASSERT_TRUE(RegisterName(on(1), "unique", first, kWait).ok());
  absl::Status taken = RegisterName(on(0), "unique", second, kWait);
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists) << taken;
  EXPECT_TRUE(absl::StrContains(taken.message(), first.pid().ToString()))
      << taken;
  EXPECT_TRUE(RegisterName(on(2), "unique", first, kWait).ok());  // again
  EXPECT_EQ(RegisterName(on(0), "two words", first, kWait).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WhereIs(on(0), "nobody", kWait).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(NamesTest, ANameIsFreedWhenItsActorEndsOrIsUnregistered) {
  ActorRef echo = SpawnEcho(2);
  ASSERT_TRUE(RegisterName(on(0), "short-lived", echo, kWait).ok());
  ASSERT_TRUE(RegisterName(on(0), "renamed", echo, kWait).ok());
  ASSERT_TRUE(UnregisterName(on(1), "renamed", echo, kWait).ok());
  EXPECT_EQ(WhereIs(on(1), "renamed", kWait).status().code(),
            absl::StatusCode::kNotFound);
  on(2).Stop(echo);
  EXPECT_EQ(WhereIsUntil(0, "short-lived", absl::StatusCode::kNotFound)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  ActorRef next = SpawnEcho(0);
  EXPECT_TRUE(RegisterName(on(1), "short-lived", next, kWait).ok());
}

TEST_F(NamesTest, ANameIsFreedWhenItsNodeLeaves) {
  ActorRef echo = SpawnEcho(2);
  ASSERT_TRUE(RegisterName(on(2), "on-c", echo, kWait).ok());
  testing::MemberWatcher on_a(on(0));
  const std::string gone = nodes_[2]->address();
  nodes_[2]->Shutdown(absl::Seconds(2));
  ASSERT_TRUE(on_a.WaitFor(gone, v1::MEMBER_DOWN));
  EXPECT_EQ(
      WhereIsUntil(0, "on-c", absl::StatusCode::kNotFound).status().code(),
      absl::StatusCode::kNotFound);
}

// One watch per actor: a named actor that also subscribes to member events
// still frees its name when it ends.
TEST_F(NamesTest, ANamedSubscriberFreesItsNameWhenItEnds) {
  absl::StatusOr<ActorRef> subscriber = on(1).Spawn<Subscriber>();
  ASSERT_TRUE(subscriber.ok());
  ASSERT_TRUE(RegisterName(on(1), "listening", *subscriber, kWait).ok());
  on(1).Stop(*subscriber);
  EXPECT_EQ(
      WhereIsUntil(2, "listening", absl::StatusCode::kNotFound).status().code(),
      absl::StatusCode::kNotFound);
}

TEST_F(NamesTest, AnActorOfANodeThatIsNoMemberIsRefused) {
  ActorRef elsewhere =
      on(0).Resolve(ParsePid("troupe://127.0.0.1:1/x").value());
  EXPECT_EQ(RegisterName(on(0), "nowhere", elsewhere, kWait).code(),
            absl::StatusCode::kFailedPrecondition);
}

// A holder that lost a name (here: told to let go by someone else) holds it
// again after the registrant's next periodic claim.
TEST(NamesMendTest, ANameLostAtItsHolderIsClaimedThereAgain) {
  std::unique_ptr<NodeServer> a = StartMember({}, absl::Milliseconds(100));
  ASSERT_NE(a, nullptr);
  std::unique_ptr<NodeServer> b =
      StartMember({a->address()}, absl::Milliseconds(100));
  ASSERT_NE(b, nullptr);
  for (NodeServer* node : {a.get(), b.get()}) {
    testing::MemberWatcher watcher(node->node().system());
    ASSERT_TRUE(watcher.WaitForUp(2));
  }
  ActorSystem& system = a->node().system();
  absl::StatusOr<ActorRef> echo = system.Spawn<Echo>();
  ASSERT_TRUE(echo.ok());
  ASSERT_TRUE(RegisterName(system, "mended", *echo, kWait).ok());
  const std::string holder =
      RendezvousOwner({std::min(a->address(), b->address()),
                       std::max(a->address(), b->address())},
                      "name:mended");
  Inbox stranger(system);
  v1::NameRelease release;
  release.set_name("mended");
  *release.mutable_ref() = ToProto(echo->pid());
  ASSERT_TRUE(
      stranger.Ask(ClusterActorOf(system, holder), release, kWait).get().ok());
  EXPECT_EQ(WhereIs(system, "mended", kWait).status().code(),
            absl::StatusCode::kNotFound);  // lost...
  const absl::Time deadline = absl::Now() + kWait;
  absl::StatusOr<ActorRef> found = WhereIs(system, "mended", kWait);
  while (!found.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    found = WhereIs(system, "mended", kWait);
  }
  ASSERT_TRUE(found.ok()) << found.status();  // ... and claimed again
  EXPECT_EQ(found->pid(), echo->pid());
}

// Forty names of an actor on node 0; a fourth member joins and takes some
// of them as holder; then the holder of others leaves: every name is still
// found from every member.
TEST_F(NamesTest, NamesMoveWithTheirHolders) {
  ActorRef echo = SpawnEcho(0);
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) {  // none moving: (3/4)^40, about 1e-5
    names.push_back(absl::StrCat("n", i));
    ASSERT_TRUE(RegisterName(on(1), names.back(), echo, kWait).ok());
  }
  nodes_.push_back(StartMember({nodes_[0]->address()}));
  ASSERT_NE(nodes_.back(), nullptr);
  AllSeeUp(4);
  std::vector<std::string> members;
  for (auto& node : nodes_) {
    members.push_back(node->address());
  }
  int moved = 0;
  for (const std::string& name : names) {
    moved += RendezvousOwner(members, "name:" + name) == nodes_[3]->address();
  }
  ASSERT_GT(moved, 0) << "no name moved to the new member: nothing tested";
  for (int i = 0; i < 4; ++i) {
    for (const std::string& name : names) {
      absl::StatusOr<ActorRef> found =
          WhereIsUntil(i, name, absl::StatusCode::kOk);
      ASSERT_TRUE(found.ok()) << name << " via " << i << ": " << found.status();
      EXPECT_EQ(found->pid(), echo.pid());
    }
  }
  testing::MemberWatcher on_a(on(0));
  const std::string gone = nodes_[1]->address();
  nodes_[1]->Shutdown(absl::Seconds(2));
  ASSERT_TRUE(on_a.WaitFor(gone, v1::MEMBER_DOWN));
  for (int i : {0, 2, 3}) {
    for (const std::string& name : names) {
      absl::StatusOr<ActorRef> found =
          WhereIsUntil(i, name, absl::StatusCode::kOk);
      ASSERT_TRUE(found.ok()) << name << " via " << i << ": " << found.status();
    }
  }
}

}  // namespace
}  // namespace troupe
