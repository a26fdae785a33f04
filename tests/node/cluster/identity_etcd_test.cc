// Virtual actors with membership on etcd, against a real etcd started by
// the test: an identity is claimed in etcd (a key bound to its node's
// lease) before it runs; a claim another member holds wins over the
// rendezvous owner (messages go to the holder); when the owner leaves, its
// claims go with its lease and the identity runs elsewhere. A cluster-wide
// name is a key bound to the lease of its actor's node, and goes with it. Waits
// are on member events and replies, with a timeout.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/cluster/cluster.h"
#include "node/cluster/etcd_client.h"
#include "node/cluster/rendezvous.h"
#include "node/service/node_server.h"
#include "tests/testing/counting_identity.h"
#include "tests/testing/etcd_server.h"
#include "tests/testing/member_watcher.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

class IdentityEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::EtcdServer>> etcd =
        testing::EtcdServer::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
    client_ = std::make_unique<EtcdClient>(etcd_->endpoint());
    for (int i = 0; i < 3; ++i) {
      NodeServerOptions options;
      options.cluster.name = "e";
      options.cluster.etcd = etcd_->endpoint();
      options.cluster.activate = testing::CountingKind(log_);
      nodes_.push_back(testing::StartTestNode(options));
      ASSERT_NE(nodes_.back(), nullptr);
    }
    for (auto& node : nodes_) {
      testing::MemberWatcher watcher(node->node().system());
      ASSERT_TRUE(watcher.WaitForUp(3, kWait)) << node->address();
    }
  }

  std::string ClaimOf(const std::string& identity) {
    absl::StatusOr<std::optional<EtcdKeyValue>> claim =
        client_->Get("/troupe/e/identities/" + identity);
    EXPECT_TRUE(claim.ok()) << claim.status();
    return claim.ok() && claim->has_value() ? (*claim)->value : "";
  }

  std::shared_ptr<testing::Activations> log_ =
      std::make_shared<testing::Activations>();
  std::unique_ptr<testing::EtcdServer> etcd_;
  std::unique_ptr<EtcdClient> client_;
  std::vector<std::unique_ptr<NodeServer>> nodes_;
};

TEST_F(IdentityEtcdTest, AnIdentityIsClaimedBeforeItRunsAndRunsOnce) {
  int expected = 0;
  std::string runs_on;
  for (auto& node : nodes_) {
    absl::StatusOr<testing::Answer> answer =
        testing::Add(node->node().system(), "alice");
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->count, ++expected);
    runs_on = answer->node;
  }
  EXPECT_EQ(log_->started(), 1);
  EXPECT_EQ(ClaimOf("counter:alice").substr(0, runs_on.size() + 1),
            runs_on + "/");
}

// The claim, not the hash, decides: a key whose rendezvous owner is
// nodes_[0] but whose claim (written here, as a member that took it
// before a membership change would have) names nodes_[2] runs on
// nodes_[2].
TEST_F(IdentityEtcdTest, AClaimHeldByAnotherMemberWinsOverTheHash) {
  std::vector<std::string> members;
  for (auto& node : nodes_) {
    members.push_back(node->address());
  }
  std::string key;
  for (int i = 0; key.empty(); ++i) {
    const std::string candidate = absl::StrCat("k", i);
    if (RendezvousOwner(members, "counter:" + candidate) ==
        nodes_[0]->address()) {
      key = candidate;
    }
  }
  absl::StatusOr<int64_t> lease = client_->GrantLease(absl::Seconds(60));
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(client_
                  ->Put("/troupe/e/identities/counter:" + key,
                        absl::StrCat(nodes_[2]->address(), "/",
                                     absl::Hex(nodes_[2]->incarnation())),
                        *lease)
                  .ok());
  absl::StatusOr<testing::Answer> answer =
      testing::Add(nodes_[1]->node().system(), key);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->node, nodes_[2]->address());
  EXPECT_EQ(log_->started(), 1);
}

TEST_F(IdentityEtcdTest, WhenItsOwnerLeavesAnIdentityRunsElsewhere) {
  absl::StatusOr<testing::Answer> before =
      testing::Add(nodes_[0]->node().system(), "bob");
  ASSERT_TRUE(before.ok()) << before.status();
  NodeServer* owner = nullptr;
  NodeServer* survivor = nullptr;
  for (auto& node : nodes_) {
    (node->address() == before->node ? owner : survivor) = node.get();
  }
  ASSERT_NE(owner, nullptr);
  testing::MemberWatcher watcher(survivor->node().system());
  owner->Shutdown(absl::Seconds(2));
  ASSERT_TRUE(watcher.WaitFor(before->node, v1::MEMBER_DOWN, 0, kWait));
  absl::StatusOr<testing::Answer> after =
      testing::Add(survivor->node().system(), "bob");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(after->node, before->node);
  EXPECT_EQ(after->count, 1);
  EXPECT_EQ(ClaimOf("counter:bob").substr(0, after->node.size() + 1),
            after->node + "/");
}

class Idle : public Actor {
 public:
  absl::Status Receive(ActorContext&, const Message&) override {
    return absl::OkStatus();
  }
};

TEST_F(IdentityEtcdTest, ANameIsAKeyUnderItsNodesLeaseAndGoesWithIt) {
  ActorSystem& a = nodes_[0]->node().system();
  absl::StatusOr<ActorRef> named = nodes_[1]->node().system().Spawn<Idle>();
  absl::StatusOr<ActorRef> other = nodes_[2]->node().system().Spawn<Idle>();
  ASSERT_TRUE(named.ok() && other.ok());
  ASSERT_TRUE(RegisterName(a, "printer", *named, kWait).ok());
  for (auto& node : nodes_) {
    absl::StatusOr<ActorRef> found =
        WhereIs(node->node().system(), "printer", kWait);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->pid(), named->pid());
  }
  absl::StatusOr<std::optional<EtcdKeyValue>> key =
      client_->Get("/troupe/e/names/printer");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_NE((*key)->lease, 0);
  EXPECT_EQ(RegisterName(a, "printer", *other, kWait).code(),
            absl::StatusCode::kAlreadyExists);
  testing::MemberWatcher watcher(a);
  const std::string gone = nodes_[1]->address();
  nodes_[1]->Shutdown(absl::Seconds(2));
  ASSERT_TRUE(watcher.WaitFor(gone, v1::MEMBER_DOWN, 0, kWait));
  EXPECT_EQ(WhereIs(a, "printer", kWait).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(RegisterName(a, "printer", *other, kWait).ok());
}

}  // namespace
}  // namespace troupe
