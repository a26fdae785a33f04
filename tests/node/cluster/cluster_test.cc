// Embedded membership on loopback (node/cluster/cluster.h): nodes join
// through a seed and every member sees every other UP; a member that
// leaves is DOWN everywhere as "left"; a restarted node comes back as a new
// run; a seed that is not up yet is retried until it answers; a node of
// another cluster is not joined; ActorService.Members answers for any
// node. Every wait is on member events (a subscription) with a timeout.
#include "node/cluster/cluster.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "node/service/node_server.h"
#include "proto/cluster.pb.h"
#include "tests/testing/member_watcher.h"
#include "tests/testing/reserved_port.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

// Short retries, so a test does not wait out production backoffs.
std::unique_ptr<NodeServer> StartMember(std::vector<std::string> seeds,
                                        const std::string& listen = "",
                                        const std::string& cluster = "t") {
  NodeServerOptions options;
  options.listen = listen;
  options.cluster.name = cluster;
  options.cluster.seeds = std::move(seeds);
  options.cluster.min_backoff = absl::Milliseconds(50);
  options.cluster.max_backoff = absl::Milliseconds(200);
  return testing::StartTestNode(options);
}

// A subscriber to `node`'s member events.
class MemberWatcher : public testing::MemberWatcher {
 public:
  explicit MemberWatcher(NodeServer& node)
      : testing::MemberWatcher(node.node().system()) {}
};

grpc::Status Members(NodeServer& via, const std::string& node,
                     v1::MembersReply* reply) {
  testing::ServiceClient client(via.address());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  v1::MembersRequest request;
  request.set_node(node);
  return client.stub().Members(&context, request, reply);
}

TEST(ClusterTest, NodesJoinThroughASeedAndEverySeesEveryOther) {
  std::unique_ptr<NodeServer> a = StartMember({});
  ASSERT_NE(a, nullptr);
  std::unique_ptr<NodeServer> b = StartMember({a->address()});
  std::unique_ptr<NodeServer> c = StartMember({a->address()});
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  std::unique_ptr<NodeServer> d = StartMember({b->address()});  // via b
  ASSERT_NE(d, nullptr);
  std::vector<NodeServer*> nodes = {a.get(), b.get(), c.get(), d.get()};
  for (NodeServer* watching : nodes) {
    MemberWatcher watcher(*watching);
    for (NodeServer* other : nodes) {
      EXPECT_TRUE(watcher.WaitFor(other->address(), v1::MEMBER_UP,
                                  other->incarnation()))
          << watching->address() << " never saw " << other->address();
    }
  }
  // Asked through b, d answers with all four, sorted, UP.
  v1::MembersReply reply;
  grpc::Status status = Members(*b, d->address(), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.node(), d->address());
  EXPECT_EQ(reply.cluster(), "t");
  ASSERT_EQ(reply.members_size(), 4);
  for (int i = 0; i < reply.members_size(); ++i) {
    EXPECT_EQ(reply.members(i).state(), v1::MEMBER_UP);
    if (i > 0) {
      EXPECT_LT(reply.members(i - 1).address(), reply.members(i).address());
    }
  }
}

TEST(ClusterTest, AMemberThatLeavesIsDownEverywhereAsLeft) {
  std::unique_ptr<NodeServer> a = StartMember({});
  ASSERT_NE(a, nullptr);
  std::unique_ptr<NodeServer> b = StartMember({a->address()});
  std::unique_ptr<NodeServer> c = StartMember({a->address()});
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  MemberWatcher on_a(*a);
  MemberWatcher on_b(*b);
  MemberWatcher on_c(*c);
  ASSERT_TRUE(on_a.WaitFor(c->address(), v1::MEMBER_UP));
  ASSERT_TRUE(on_b.WaitFor(c->address(), v1::MEMBER_UP));
  ASSERT_TRUE(on_c.WaitFor(a->address(), v1::MEMBER_UP));
  ASSERT_TRUE(on_c.WaitFor(b->address(), v1::MEMBER_UP));
  const std::string c_address = c->address();
  c->Shutdown(absl::Seconds(2));  // the leave waits up to 1 s for acks
  ASSERT_TRUE(on_a.WaitFor(c_address, v1::MEMBER_DOWN));
  ASSERT_TRUE(on_b.WaitFor(c_address, v1::MEMBER_DOWN));
  EXPECT_EQ(on_a.member(c_address).reason(), "left the cluster");
  EXPECT_EQ(on_b.member(c_address).reason(), "left the cluster");
}

TEST(ClusterTest, ARestartedNodeComesBackAsANewRun) {
  std::unique_ptr<NodeServer> a = StartMember({});
  ASSERT_NE(a, nullptr);
  std::unique_ptr<NodeServer> b = StartMember({a->address()});
  ASSERT_NE(b, nullptr);
  MemberWatcher on_a(*a);
  ASSERT_TRUE(on_a.WaitFor(b->address(), v1::MEMBER_UP, b->incarnation()));
  const std::string address = b->address();
  const uint64_t first_run = b->incarnation();
  b.reset();  // shut down
  ASSERT_TRUE(on_a.WaitFor(address, v1::MEMBER_DOWN, first_run));
  b = StartMember({a->address()}, address);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(b->incarnation(), first_run);
  ASSERT_TRUE(on_a.WaitFor(address, v1::MEMBER_UP, b->incarnation()));
}

// True once `done` holds for `node`'s member list (asked again every
// 50 ms, up to kWait): for what no event announces (a reason, an alias
// dropped).
template <typename Done>
bool AwaitMembers(NodeServer& node, Done done) {
  const absl::Time deadline = absl::Now() + kWait;
  while (absl::Now() < deadline) {
    v1::MembersReply reply;
    if (Members(node, "", &reply).ok() && done(reply)) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

// The same for the member `address`.
template <typename Done>
bool AwaitMember(NodeServer& node, const std::string& address, Done done) {
  return AwaitMembers(node, [&](const v1::MembersReply& reply) {
    for (const v1::Member& member : reply.members()) {
      if (member.address() == address && done(member)) {
        return true;
      }
    }
    return false;
  });
}

TEST(ClusterTest, ASeedThatIsNotUpYetIsRetriedUntilItAnswers) {
  testing::ReservedPort seed;
  ASSERT_FALSE(seed.address().empty());
  std::unique_ptr<NodeServer> b = StartMember({seed.address()});
  ASSERT_NE(b, nullptr);
  MemberWatcher on_b(*b);
  // b has tried and failed, and says so.
  ASSERT_TRUE(AwaitMember(*b, seed.address(), [](const v1::Member& member) {
    return member.state() == v1::MEMBER_JOINING &&
           absl::StartsWith(member.reason(), "not answering");
  }));
  seed.Release();
  std::unique_ptr<NodeServer> a = StartMember({}, seed.address());
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(on_b.WaitFor(seed.address(), v1::MEMBER_UP, a->incarnation()));
  MemberWatcher on_a(*a);
  EXPECT_TRUE(on_a.WaitFor(b->address(), v1::MEMBER_UP, b->incarnation()));
}

TEST(ClusterTest, ANodeOfAnotherClusterIsNotJoined) {
  std::unique_ptr<NodeServer> a = StartMember({});
  ASSERT_NE(a, nullptr);
  std::unique_ptr<NodeServer> x = StartMember({a->address()}, "", "other");
  ASSERT_NE(x, nullptr);
  ASSERT_TRUE(AwaitMember(*x, a->address(), [](const v1::Member& member) {
    return absl::StrContains(member.reason(), "it is in cluster 't'");
  })) << "x should say why it does not join a";
  v1::MembersReply reply;
  ASSERT_TRUE(Members(*a, "", &reply).ok());
  ASSERT_EQ(reply.members_size(), 1) << "a must not list x";
  EXPECT_EQ(reply.members(0).address(), a->address());
}

// Seeds spelled as aliases (localhost for 127.0.0.1), one of them this
// node itself: the node joins, and lists each member once, by the address
// it advertises.
TEST(ClusterTest, AliasSeedsAndItselfAsASeedAreKnownByTheirAddresses) {
  std::unique_ptr<NodeServer> a = StartMember({});
  ASSERT_NE(a, nullptr);
  testing::ReservedPort b_port;
  ASSERT_FALSE(b_port.address().empty());
  const std::string b_address = b_port.address();
  const std::string a_alias = absl::StrCat(
      "localhost:", a->address().substr(a->address().find(':') + 1));
  const std::string b_alias =
      absl::StrCat("localhost:", b_address.substr(b_address.find(':') + 1));
  b_port.Release();
  std::unique_ptr<NodeServer> b = StartMember({a_alias, b_alias}, b_address);
  ASSERT_NE(b, nullptr);
  MemberWatcher on_b(*b);
  ASSERT_TRUE(on_b.WaitFor(a->address(), v1::MEMBER_UP, a->incarnation()));
  // Both alias spellings were answered (by a, and by b itself) once they
  // are gone from the list.
  ASSERT_TRUE(AwaitMembers(*b, [&](const v1::MembersReply& reply) {
    return reply.members_size() == 2;
  })) << "the alias spellings stay listed";
  v1::MembersReply reply;
  ASSERT_TRUE(Members(*b, "", &reply).ok());
  ASSERT_EQ(reply.members_size(), 2);
  std::set<std::string> listed = {reply.members(0).address(),
                                  reply.members(1).address()};
  EXPECT_EQ(listed, (std::set<std::string>{a->address(), b_address}));
}

// Subscribing again (a restarted subscriber) gives the current members
// again.
TEST(ClusterTest, SubscribingAgainGivesTheCurrentMembersAgain) {
  std::unique_ptr<NodeServer> a = StartMember({});
  ASSERT_NE(a, nullptr);
  Inbox inbox(a->node().system());
  v1::SubscribeMembers subscribe;
  *subscribe.mutable_subscriber() = ToProto(inbox.ref().pid());
  for (int i = 0; i < 2; ++i) {
    inbox.Tell(ClusterActorOf(a->node().system()), subscribe);
    absl::StatusOr<v1::CurrentMembers> current =
        inbox.ReceiveAs<v1::CurrentMembers>(kWait);
    ASSERT_TRUE(current.ok())
        << "subscription " << i << ": " << current.status();
    ASSERT_EQ(current->members_size(), 1);
    EXPECT_EQ(current->members(0).address(), a->address());
  }
}

TEST(ClusterTest, MembersOfABadOrMissingNodeSaySo) {
  std::unique_ptr<NodeServer> a = StartMember({});
  ASSERT_NE(a, nullptr);
  v1::MembersReply reply;
  EXPECT_EQ(Members(*a, "no port", &reply).error_code(),
            grpc::INVALID_ARGUMENT);
  testing::ReservedPort nobody;
  grpc::Status status = Members(*a, nobody.address(), &reply);
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE) << status.error_message();
}

}  // namespace
}  // namespace troupe
