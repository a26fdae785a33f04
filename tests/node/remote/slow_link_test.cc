// Links over a long path (issue 14, H): nodes behind DelayProxy, with a
// round trip of 300 ms between them, and of 800 ms (where even the Hello's
// own round trip is longer than the 600 ms failure threshold). A link
// comes up (its handshake has its own timeout), stays up, and comes back
// by itself after a partition is healed.
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "node/remote/link_options.h"
#include "node/service/node_server.h"
#include "proto/troupe.grpc.pb.h"
#include "tests/testing/delay_proxy.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

using google::protobuf::Any;
using testing::DelayProxy;
using testing::PackText;
using testing::ServiceClient;

// A node behind its own proxy: peers reach it only through the proxy (it
// advertises the proxy's address); the test's client calls it directly.
struct ProxiedNode {
  std::unique_ptr<DelayProxy> proxy;
  std::unique_ptr<NodeServer> server;
  std::unique_ptr<ServiceClient> client;

  static ProxiedNode Start(absl::Duration one_way) {
    ProxiedNode node;
    absl::StatusOr<std::unique_ptr<DelayProxy>> proxy =
        DelayProxy::Start(one_way);
    EXPECT_TRUE(proxy.ok()) << proxy.status();
    if (!proxy.ok()) {
      return node;
    }
    node.proxy = *std::move(proxy);
    NodeServerOptions options;
    options.listen = "127.0.0.1:0";
    options.advertise = absl::StrCat("127.0.0.1:", node.proxy->port());
    node.server = testing::StartTestNode(options);
    if (node.server == nullptr) {
      return node;
    }
    const int port = node.server->node().bound_port();
    node.proxy->set_upstream(port);
    node.client =
        std::make_unique<ServiceClient>(absl::StrCat("127.0.0.1:", port));
    return node;
  }
  const std::string& address() const { return server->address(); }
};

// A and B, each behind a proxy with no delay, linked: an echo spawned on B
// through A has answered one ask from A.
void StartLinkedPair(ProxiedNode* a, ProxiedNode* b, v1::Pid* echo) {
  *a = ProxiedNode::Start(absl::ZeroDuration());
  *b = ProxiedNode::Start(absl::ZeroDuration());
  ASSERT_NE(a->client, nullptr);
  ASSERT_NE(b->client, nullptr);
  *echo = a->client->MustSpawn("echo", "e", nullptr, b->address());
  Any reply;
  ASSERT_TRUE(a->client->Ask(*echo, PackText("hi"), &reply).ok());
}

// The parameter: the one-way delay in milliseconds.
class SlowLinkTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    a_ = ProxiedNode::Start(absl::Milliseconds(GetParam()));
    b_ = ProxiedNode::Start(absl::Milliseconds(GetParam()));
    ASSERT_NE(a_.client, nullptr);
    ASSERT_NE(b_.client, nullptr);
  }

  // Links as a first call does: spawns an echo on B through A.
  v1::Pid SpawnOnBThroughA(const std::string& name) {
    return a_.client->MustSpawn("echo", name, nullptr, b_.address());
  }
  uint64_t DownsOfAsLinkToB() {
    v1::StatsReply stats;
    EXPECT_TRUE(a_.client->Stats(&stats).ok());
    for (const v1::LinkStats& link : stats.links()) {
      if (link.address() == b_.address()) {
        return link.downs();
      }
    }
    ADD_FAILURE() << "A has no link to B";
    return 0;
  }

  ProxiedNode a_;
  ProxiedNode b_;
};

TEST_P(SlowLinkTest, ALinkComesUpAndStaysUp) {
  // The first call links A to B: TCP, HTTP/2 and the Hello take several
  // round trips, longer than the 600 ms failure threshold.
  v1::Pid echo = SpawnOnBThroughA("e");
  ASSERT_FALSE(echo.id().empty());
  v1::Pid untouched = SpawnOnBThroughA("untouched");
  auto watch = a_.client->Watch(untouched, absl::Seconds(60));
  watch->WaitInPlace();
  // Traffic for ten round trips: every ask is answered, the link never
  // goes down.
  for (int i = 0; i < 10; ++i) {
    Any reply;
    grpc::Status asked = a_.client->Ask(echo, PackText("hi"), &reply);
    ASSERT_TRUE(asked.ok()) << "ask " << i << ": " << asked.error_message();
  }
  EXPECT_EQ(DownsOfAsLinkToB(), 0u);
  ASSERT_TRUE(b_.client->Stop(untouched).ok());
  v1::Terminated terminated;
  ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
  EXPECT_EQ(terminated.reason(), v1::STOPPED);  // not a false NODE_DOWN
}

TEST_P(SlowLinkTest, ALinkComesBackAfterAPartitionIsHealed) {
  v1::Pid echo = SpawnOnBThroughA("e");
  v1::Pid untouched = SpawnOnBThroughA("untouched");
  auto watch = a_.client->Watch(untouched, absl::Seconds(60));
  watch->WaitInPlace();

  // Cut both ways until A has declared B down.
  a_.proxy->Partition(true);
  b_.proxy->Partition(true);
  v1::Terminated terminated;
  ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
  EXPECT_EQ(terminated.reason(), v1::NODE_DOWN);
  a_.proxy->Partition(false);
  b_.proxy->Partition(false);

  // Healed: asks work again with no restart. Each attempt is bounded; the
  // wait ends at the first answer (or fails after many attempts).
  grpc::Status asked;
  int attempts = 0;
  do {
    Any reply;
    asked = a_.client->Ask(echo, PackText("back?"), &reply, absl::Seconds(3));
    ++attempts;
  } while (!asked.ok() && attempts < 20);
  EXPECT_TRUE(asked.ok()) << attempts
                          << " attempts; last: " << asked.error_message();
  std::printf(
      "slow link (%d ms round trip): answered again after the partition at "
      "attempt %d\n",
      2 * GetParam(), attempts);
}

// While the path is cut, every ask to a live actor of the far node fails
// with UNAVAILABLE (its node cannot be reached) or DEADLINE_EXCEEDED,
// never NOT_FOUND; a spawn or lookup through the near node says the same,
// not that the far node has no troupe.activator actor. Before, up to 37 % of
// such asks said NOT_FOUND, racing the ask's own watch.
TEST(PartitionTest, AsksToLiveActorsAcrossAPartitionNeverSayNotFound) {
  ProxiedNode a;
  ProxiedNode b;
  v1::Pid echo;
  ASSERT_NO_FATAL_FAILURE(StartLinkedPair(&a, &b, &echo));
  a.proxy->Partition(true);
  b.proxy->Partition(true);

  constexpr int kThreads = 8;
  constexpr int kAsksEach = 10;
  std::vector<std::thread> askers;
  absl::Mutex mu;
  std::map<grpc::StatusCode, int> codes;
  std::vector<std::string> not_found;
  for (int t = 0; t < kThreads; ++t) {
    askers.emplace_back([&, t] {
      for (int i = 0; i < kAsksEach; ++i) {
        Any answer;
        grpc::Status status;
        v1::Pid pid;
        if (i % 5 == 4) {  // some spawns and lookups through A on B
          status = t % 2 == 0
                       ? a.client->Spawn("echo", "", &pid, nullptr, b.address())
                       : a.client->Lookup("e", &pid, b.address());
        } else {
          status =
              a.client->Ask(echo, PackText("hi"), &answer, absl::Seconds(2));
        }
        absl::MutexLock lock(&mu);
        ++codes[status.error_code()];
        if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
            absl::StrContains(status.error_message(),
                              "troupe.activator actor")) {
          not_found.push_back(status.error_message());
        }
      }
    });
  }
  for (std::thread& asker : askers) {
    asker.join();
  }
  a.proxy->Partition(false);
  b.proxy->Partition(false);
  std::string summary;
  for (const auto& [code, count] : codes) {
    absl::StrAppend(&summary, " code ", static_cast<int>(code), ": ", count);
  }
  std::printf("partition: %d calls to a live actor's node:%s\n",
              kThreads * kAsksEach, summary.c_str());
  EXPECT_TRUE(not_found.empty())
      << not_found.size() << " said NOT_FOUND or blamed troupe.activator, e.g. "
      << not_found.front();
  for (const auto& [code, count] : codes) {
    EXPECT_TRUE(code == grpc::StatusCode::OK ||
                code == grpc::StatusCode::UNAVAILABLE ||
                code == grpc::StatusCode::DEADLINE_EXCEEDED)
        << count << " calls ended with code " << static_cast<int>(code);
  }
}

// A path that grows slow after the handshake (congestion, a new route, a
// fault; the CI false down of cluster_latency_test): the failure detector
// allows for the round trip its calls measure all the time (round_trip.h),
// not the handshake's. A's measured round trip to B (LinkStats) follows
// the path, and its allowance holds it. Before, only the handshake's ~1 ms
// was known. The delay rises 10 ms a step, so that no gap between
// heartbeats grows by much.
TEST(SlowerPathTest,
     TheDetectorAllowsForTheRoundTripMeasuredSinceTheHandshake) {
  ProxiedNode a;
  ProxiedNode b;
  v1::Pid echo;
  ASSERT_NO_FATAL_FAILURE(StartLinkedPair(&a, &b, &echo));
  const auto link_to_b = [&]() {
    v1::StatsReply stats;
    EXPECT_TRUE(a.client->Stats(&stats).ok());
    for (const v1::LinkStats& link : stats.links()) {
      if (link.address() == b.address()) {
        return link;
      }
    }
    ADD_FAILURE() << "A has no link to B";
    return v1::LinkStats();
  };
  const double threshold =
      absl::ToDoubleSeconds(LinkOptions().failure_threshold);
  const double at_handshake = link_to_b().allowed_silence_seconds();

  constexpr int kOneWayMs = 150;
  for (int ms = 10; ms <= kOneWayMs; ms += 10) {
    a.proxy->set_one_way(absl::Milliseconds(ms));
    b.proxy->set_one_way(absl::Milliseconds(ms));
    absl::SleepFor(absl::Milliseconds(200));  // the pace of the slowdown
  }
  // Until the measured round trip is most of the new one (SRTT converges
  // from below within about a second of echoes), or 30 s.
  const double path = 2 * kOneWayMs / 1000.0;
  v1::LinkStats link;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((link = link_to_b()).round_trip_seconds() < 0.8 * path &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  std::printf(
      "slower path: A's allowance for B %.0f ms at the handshake; at a %d ms "
      "round trip, measured %.0f ms, allowance %.0f ms\n",
      at_handshake * 1000, 2 * kOneWayMs, link.round_trip_seconds() * 1000,
      link.allowed_silence_seconds() * 1000);
  EXPECT_GE(link.round_trip_seconds(), 0.8 * path);
  EXPECT_LT(link.round_trip_seconds(), 10 * path) << "not a path's";
  EXPECT_GE(link.allowed_silence_seconds(),
            threshold + link.round_trip_seconds());
  EXPECT_EQ(link_to_b().downs(), 0u);
  Any reply;
  ASSERT_TRUE(a.client->Ask(echo, PackText("still there"), &reply).ok());
}

// A node that advertises another address than the one it is bound to (here
// its proxy's): a ref naming the bound address is the same node. Its own
// service serves it locally, with no link to itself; another node that
// dials the bound address hears the advertised one in the Hello and uses
// its one link to it. A watch through the bound spelling fires once.
TEST(AdvertisedAddressTest, TheBoundAddressIsAnAliasOfTheAdvertisedOne) {
  ProxiedNode home = ProxiedNode::Start(absl::ZeroDuration());
  ASSERT_NE(home.client, nullptr);
  std::unique_ptr<NodeServer> other = testing::StartTestNode();
  ASSERT_NE(other, nullptr);
  ServiceClient other_client(other->address());
  const std::string bound =
      absl::StrCat("127.0.0.1:", home.server->node().bound_port());
  ASSERT_NE(bound, home.address());
  for (ServiceClient* client : {home.client.get(), &other_client}) {
    v1::Pid echo = home.client->MustSpawn("echo", "");
    v1::Pid by_bound = echo;
    by_bound.set_address(bound);
    Any reply;
    ASSERT_TRUE(client->Ask(by_bound, PackText("hi"), &reply).ok());
    auto watch = client->Watch(by_bound);
    watch->WaitInPlace();
    ASSERT_TRUE(home.client->Stop(echo).ok());
    v1::Terminated terminated;
    ASSERT_TRUE(watch->Next(&terminated)) << watch->Finish().error_message();
    EXPECT_EQ(terminated.reason(), v1::STOPPED);
    EXPECT_FALSE(watch->Next(&terminated));
  }
  v1::StatsReply stats;
  ASSERT_TRUE(home.client->Stats(&stats).ok());
  for (const v1::LinkStats& link : stats.links()) {
    if (link.address() == bound || link.address() == home.address()) {
      EXPECT_NE(link.state(), "up") << "home has a link to itself";
    }
  }
  ASSERT_TRUE(other_client.Stats(&stats).ok());
  int up = 0;
  for (const v1::LinkStats& link : stats.links()) {
    up += link.state() == "up";
  }
  EXPECT_EQ(up, 1);
}

INSTANTIATE_TEST_SUITE_P(RoundTrips, SlowLinkTest, ::testing::Values(150, 400),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("OneWay", info.param, "ms");
                         });

}  // namespace
}  // namespace troupe
