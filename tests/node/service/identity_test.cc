// Identity, end to end through the public service (issue 14, A, B and G):
// an actor is its uid, so a Pid of a stopped actor never reaches a later
// actor of the same name; a name-only Pid (text, Lookup) reaches whichever
// actor has the name now; Stop returns once the name is free. Each case
// runs locally (a client of the actor's node) and across nodes (a client
// of another node).
#include <memory>
#include <string>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
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

Any CounterInit(int64_t value) {
  google::protobuf::Int64Value init;
  init.set_value(value);
  return Pack(init);
}

Any CounterAdd(int64_t delta) {
  v1::CounterAdd add;
  add.set_delta(delta);
  return Pack(add);
}

// The parameter: whether calls go through another node than the actors'.
class IdentityTest : public ::testing::TestWithParam<bool>,
                     protected testing::NodePair {
 protected:
  void SetUp() override { ASSERT_TRUE(StartNodes()); }

  // The client the test's calls go through: home's own, or via's.
  ServiceClient& client() { return client_of(GetParam()); }
  // Spawns on home, through the client under test.
  v1::Pid SpawnOnHome(const std::string& kind, const std::string& name,
                      const Any* init = nullptr) {
    return client().MustSpawn(kind, name, init, home->address());
  }
};

TEST_P(IdentityTest, SpawnHandsOutAPidWithTheActorsUid) {
  v1::Pid a = SpawnOnHome("echo", "a");
  v1::Pid b = SpawnOnHome("echo", "");
  EXPECT_NE(a.uid(), 0u);
  EXPECT_NE(b.uid(), 0u);
  EXPECT_NE(a.uid(), b.uid());
  EXPECT_EQ(a.address(), home->address());
  EXPECT_EQ(a.incarnation(), home->incarnation());
}

TEST_P(IdentityTest, AStaleRefNeverReachesTheSuccessorOfItsName) {
  const Any first_init = CounterInit(0);
  v1::Pid old_counter = SpawnOnHome("counter", "c", &first_init);
  ASSERT_TRUE(client().Stop(old_counter).ok());
  const Any init = CounterInit(100);
  v1::Pid counter = SpawnOnHome("counter", "c", &init);
  ASSERT_NE(counter.uid(), old_counter.uid());

  // A tell through the old Pid changes nothing (the node of the actor
  // refuses it with NOT_FOUND; another node cannot know, and accepts it).
  (void)client().Tell(old_counter, CounterAdd(1000));
  // An ask through it is NOT_FOUND, naming why.
  Any reply;
  grpc::Status asked =
      client().Ask(old_counter, Pack(v1::CounterGet()), &reply);
  EXPECT_EQ(asked.error_code(), grpc::StatusCode::NOT_FOUND)
      << asked.error_message();
  // The tell above was sent before the ask on the same path (FIFO), so had
  // it reached the new counter, the value would show it now.
  EXPECT_EQ(client().CounterValue(counter), 100);

  // A watch of the old Pid is about the old actor: NOT_FOUND at once,
  // while the new one lives on.
  auto watch = client().Watch(old_counter);
  v1::Terminated terminated;
  ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
  EXPECT_EQ(terminated.reason(), v1::NOT_FOUND);
  EXPECT_EQ(terminated.ref().uid(), old_counter.uid());
  EXPECT_EQ(client().CounterValue(counter), 100);
}

TEST_P(IdentityTest, ANameOnlyRefReachesWhoeverHasTheNameNow) {
  v1::Pid old_counter = SpawnOnHome("counter", "c");
  ASSERT_TRUE(client().Stop(old_counter).ok());
  const Any init = CounterInit(100);
  v1::Pid counter = SpawnOnHome("counter", "c", &init);

  // Lookup by name answers a name-only Pid.
  v1::Pid found;
  ASSERT_TRUE(client().Lookup("c", &found, home->address()).ok());
  EXPECT_EQ(found.uid(), 0u);
  EXPECT_EQ(found.id(), "c");
  v1::Pid by_name = old_counter;  // as text troupe://host:port/c reads
  by_name.set_uid(0);
  ASSERT_TRUE(client().Tell(found, CounterAdd(1)).ok());
  ASSERT_TRUE(client().Tell(by_name, CounterAdd(10)).ok());
  EXPECT_EQ(client().CounterValue(found), 111);
  EXPECT_EQ(client().CounterValue(counter), 111);
}

TEST_P(IdentityTest, StopReturnsOnceTheNameIsFree) {
  // Stop, then at once Lookup and Spawn the same name: the name is free
  // every time (before, Lookup still found the stopped actor and Spawn got
  // ALREADY_EXISTS in up to half of the tries).
  for (int i = 0; i < 100; ++i) {
    v1::Pid echo = SpawnOnHome("echo", "reused");
    ASSERT_TRUE(client().Stop(echo, /*graceful=*/i % 2 == 1).ok());
    v1::Pid found;
    grpc::Status lookup = client().Lookup("reused", &found, home->address());
    ASSERT_EQ(lookup.error_code(), grpc::StatusCode::NOT_FOUND)
        << "try " << i << ": the stopped actor is still found";
  }
  v1::Pid last = SpawnOnHome("echo", "reused");
  EXPECT_NE(last.uid(), 0u);
}

TEST_P(IdentityTest, AnInboxIsNotStoppedLikeAnActor) {
  auto inbox = home_client->Inbox();
  grpc::Status stopped = home_client->Stop(inbox->pid());
  EXPECT_EQ(stopped.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << stopped.error_message();
}

TEST_P(IdentityTest, StoppingWhatIsNotAliveSaysNotFound) {
  v1::Pid echo = SpawnOnHome("echo", "once");
  ASSERT_TRUE(client().Stop(echo).ok());
  grpc::Status again = client().Stop(echo);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::NOT_FOUND)
      << again.error_message();
}

// Another spelling of a node's address (a hostname for its IP, the bound
// address for the advertised one) is an alias of the same node: the same
// actor, the same watch table, local delivery when it is the node called,
// one link from another node. The node is bound to `canonical` and refs
// spell it `alias`; the first parameter swaps which of 127.0.0.1 and
// localhost is which (a node listening on localhost advertises it), the
// second says whether calls go to the node itself or through another.
class AliasTest : public ::testing::TestWithParam<std::tuple<bool, bool>>,
                  protected testing::NodePair {
 protected:
  void SetUp() override {
    const bool by_name = std::get<0>(GetParam());
    NodeServerOptions options;
    options.listen = by_name ? "localhost:0" : "127.0.0.1:0";
    ASSERT_TRUE(StartNodes(options));
    const std::string port =
        home->address().substr(home->address().rfind(':') + 1);
    alias_ = absl::StrCat(by_name ? "127.0.0.1" : "localhost", ":", port);
    ASSERT_NE(alias_, home->address());
  }

  bool through_via() const { return std::get<1>(GetParam()); }
  ServiceClient& client() { return client_of(through_via()); }
  NodeServer& called() { return through_via() ? *via : *home; }
  v1::Pid Aliased(v1::Pid pid) const {
    pid.set_address(alias_);
    return pid;
  }
  // The links `node` reports, by state.
  int Links(ServiceClient& of, const std::string& state) {
    v1::StatsReply stats;
    EXPECT_TRUE(of.Stats(&stats).ok());
    int count = 0;
    for (const v1::LinkStats& link : stats.links()) {
      count += link.state() == state;
    }
    return count;
  }

  std::string alias_;
};

TEST_P(AliasTest, AWatchThroughAnAliasFiresExactlyOnce) {
  v1::Pid echo = home_client->MustSpawn("echo", "e");
  auto watch = client().Watch(Aliased(echo));
  watch->WaitInPlace();
  ASSERT_TRUE(client().Stop(echo).ok());  // by the canonical spelling
  v1::Terminated terminated;
  ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
  EXPECT_EQ(terminated.reason(), v1::STOPPED);
  EXPECT_EQ(terminated.ref().id(), "e");
  EXPECT_FALSE(watch->Next(&terminated));  // exactly once
  EXPECT_TRUE(watch->Finish().ok());
}

TEST_P(AliasTest, AWatchOfTheCanonicalSpellingFiresWhenStoppedThroughAnAlias) {
  v1::Pid echo = home_client->MustSpawn("echo", "e");
  auto watch = client().Watch(echo);
  watch->WaitInPlace();
  ASSERT_TRUE(client().Stop(Aliased(echo)).ok());
  v1::Terminated terminated;
  ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
  EXPECT_EQ(terminated.reason(), v1::STOPPED);
}

TEST_P(AliasTest, AnAskThroughAnAliasReachesTheActorOrSaysNotFound) {
  v1::Pid echo = home_client->MustSpawn("echo", "e");
  Any reply;
  ASSERT_TRUE(client().Ask(Aliased(echo), PackText("hi"), &reply).ok());
  ASSERT_TRUE(home_client->Stop(echo).ok());
  grpc::Status asked = client().Ask(Aliased(echo), PackText("hi"), &reply);
  EXPECT_EQ(asked.error_code(), grpc::StatusCode::NOT_FOUND)
      << asked.error_message() << " / " << reply.type_url();
}

TEST_P(AliasTest, OneLinkPerNodeWhateverTheSpelling) {
  v1::Pid echo = home_client->MustSpawn("echo", "e");
  Any reply;
  // Both spellings, through the client under test.
  ASSERT_TRUE(client().Ask(echo, PackText("a"), &reply).ok());
  ASSERT_TRUE(client().Ask(Aliased(echo), PackText("b"), &reply).ok());
  ASSERT_TRUE(client().Ask(echo, PackText("c"), &reply).ok());
  // The node called has no link up to itself, and at most one to home.
  EXPECT_EQ(Links(client(), "up"), through_via() ? 1 : 0);
  // Spawn and Lookup naming the node by its alias answer with its
  // canonical address.
  v1::Pid spawned = client().MustSpawn("echo", "", nullptr, alias_);
  EXPECT_EQ(spawned.address(), home->address());
  v1::Pid found;
  ASSERT_TRUE(client().Lookup("e", &found, alias_).ok());
  EXPECT_EQ(found.address(), home->address());
  EXPECT_EQ(Links(client(), "up"), through_via() ? 1 : 0);
}

INSTANTIATE_TEST_SUITE_P(
    SpellingsAndPaths, AliasTest,
    ::testing::Combine(::testing::Bool(), ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<bool, bool>>& info) {
      return absl::StrCat(
          std::get<0>(info.param) ? "BoundToLocalhost" : "BoundTo127001",
          std::get<1>(info.param) ? "ThroughAnotherNode" : "OnTheNodeItself");
    });

INSTANTIATE_TEST_SUITE_P(LocallyAndAcrossNodes, IdentityTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ThroughAnotherNode"
                                             : "OnTheActorsNode";
                         });

}  // namespace
}  // namespace troupe
