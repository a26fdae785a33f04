// Membership on etcd (node/cluster/etcd_membership.h) against a real etcd
// started by the test: nodes that name etcd see each other UP with no
// seeds; a node that leaves is DOWN everywhere as "left the cluster"; a
// troupe_node killed with SIGKILL is DOWN everywhere once its lease
// expires, and UP again, as a new run, when started again. The waits are
// on member events, with a timeout.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "node/service/node_server.h"
#include "proto/troupe.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/etcd_server.h"
#include "tests/testing/member_watcher.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

class ClusterEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::EtcdServer>> etcd =
        testing::EtcdServer::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
  }

  std::unique_ptr<NodeServer> StartMember() {
    NodeServerOptions options;
    options.cluster.name = "e";
    options.cluster.etcd = etcd_->endpoint();
    return testing::StartTestNode(options);
  }

  std::unique_ptr<testing::EtcdServer> etcd_;
};

TEST_F(ClusterEtcdTest, MembersRegisterAndSeeEachOtherAndLeave) {
  std::vector<std::unique_ptr<NodeServer>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(StartMember());
    ASSERT_NE(nodes.back(), nullptr);
  }
  std::vector<std::unique_ptr<testing::MemberWatcher>> views;
  for (auto& node : nodes) {
    views.push_back(
        std::make_unique<testing::MemberWatcher>(node->node().system()));
    for (auto& other : nodes) {
      EXPECT_TRUE(views.back()->WaitFor(other->address(), v1::MEMBER_UP,
                                        other->incarnation(), kWait))
          << node->address() << " never saw " << other->address();
    }
  }
  const std::string leaver = nodes[2]->address();
  nodes[2]->Shutdown(absl::Seconds(2));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(views[i]->WaitFor(leaver, v1::MEMBER_DOWN, 0, kWait));
    EXPECT_EQ(views[i]->member(leaver).reason(), "left the cluster");
  }
}

TEST_F(ClusterEtcdTest, AKilledNodeIsDownOnceItsLeaseExpiresAndUpWhenBack) {
  std::unique_ptr<NodeServer> a = StartMember();
  ASSERT_NE(a, nullptr);
  testing::MemberWatcher on_a(a->node().system());
  const std::vector<std::string> args = {"--listen=127.0.0.1:0", "--cluster=e",
                                         "--etcd=" + etcd_->endpoint()};
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> b =
      testing::ChildProcess::Start("node/troupe_node", args);
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<testing::NodeReady> ready = testing::ReadNodeReady(**b, kWait);
  ASSERT_TRUE(ready.ok()) << ready.status();
  const std::string address = ready->address;
  const uint64_t first_run = ready->incarnation;
  ASSERT_TRUE(on_a.WaitFor(address, v1::MEMBER_UP, first_run, kWait));

  (*b)->Signal(SIGKILL);
  ASSERT_TRUE(on_a.WaitFor(address, v1::MEMBER_DOWN, first_run, kWait));
  EXPECT_TRUE(absl::StrContains(on_a.member(address).reason(), "lease"))
      << on_a.member(address).reason();

  std::vector<std::string> again = args;
  again[0] = "--listen=" + address;
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> b2 =
      testing::ChildProcess::Start("node/troupe_node", again);
  ASSERT_TRUE(b2.ok()) << b2.status();
  absl::StatusOr<testing::NodeReady> again_ready =
      testing::ReadNodeReady(**b2, kWait);
  ASSERT_TRUE(again_ready.ok()) << again_ready.status();
  EXPECT_TRUE(
      on_a.WaitFor(address, v1::MEMBER_UP, again_ready->incarnation, kWait));
}

// A frozen node (SIGSTOP longer than its lease's TTL) is DOWN for the
// others once its lease expires; thawed, it finds its lease gone, registers
// again, and is UP again, the same run, with no step by hand.
TEST_F(ClusterEtcdTest, AFrozenNodeIsDownAfterItsLeaseAndUpAgainWhenThawed) {
  std::unique_ptr<NodeServer> a = StartMember();
  ASSERT_NE(a, nullptr);
  testing::MemberWatcher on_a(a->node().system());
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> b =
      testing::ChildProcess::Start("node/troupe_node",
                                   {"--listen=127.0.0.1:0", "--cluster=e",
                                    "--etcd=" + etcd_->endpoint()});
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<testing::NodeReady> ready = testing::ReadNodeReady(**b, kWait);
  ASSERT_TRUE(ready.ok()) << ready.status();
  ASSERT_TRUE(
      on_a.WaitFor(ready->address, v1::MEMBER_UP, ready->incarnation, kWait));
  (*b)->Signal(SIGSTOP);
  ASSERT_TRUE(
      on_a.WaitFor(ready->address, v1::MEMBER_DOWN, ready->incarnation, kWait));
  (*b)->Signal(SIGCONT);
  EXPECT_TRUE(
      on_a.WaitFor(ready->address, v1::MEMBER_UP, ready->incarnation, kWait));
}

TEST(ClusterEtcdOptionsTest, ANodeNamingABadEtcdDoesNotStart) {
  NodeServerOptions options;
  options.cluster.etcd = "no port";
  EXPECT_EQ(NodeServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.cluster.etcd = "127.0.0.1:2379";
  options.cluster.lease_ttl = absl::Milliseconds(500);
  EXPECT_EQ(NodeServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace troupe
