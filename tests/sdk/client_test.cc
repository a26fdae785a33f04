// troupe::Client against a real node on a free port: refs of the runtime's
// own type, the client's inbox as sender, watches, errors, and the same
// code working with a local ref and a remote one.
#include "sdk/client.h"

#include <future>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/system_messages.h"
#include "node/service/kinds.h"
#include "node/service/node_server.h"
#include "proto/kinds.pb.h"
#include "tests/testing/member_watcher.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

std::unique_ptr<NodeServer> StartNode(const std::string& secret = "") {
  NodeServerOptions options;
  options.listen = "127.0.0.1:0";
  options.link.secret = secret;
  auto node = NodeServer::Start(options);
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? std::move(*node) : nullptr;
}

ClientOptions Options(const std::string& node, const std::string& secret,
                      absl::Duration timeout = kWait) {
  ClientOptions options;
  options.node = node;
  options.secret = secret;
  options.call_timeout = timeout;
  return options;
}

std::unique_ptr<Client> ConnectTo(const NodeServer& node,
                                  const std::string& secret = "") {
  auto client = Client::Connect(Options(node.address(), secret));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

v1::CounterAdd Add(int64_t delta) {
  v1::CounterAdd add;
  add.set_delta(delta);
  return add;
}

// Written once against Requester and ActorRef: it cannot tell whether the
// counter is local or on a node across the network.
int64_t AddAndRead(Requester& teller, const ActorRef& counter) {
  for (int i = 1; i <= 10; ++i) {
    teller.Tell(counter, Add(i));
  }
  absl::StatusOr<MessagePtr> reply =
      teller.Ask(counter, v1::CounterGet(), kWait).get();
  EXPECT_TRUE(reply.ok()) << reply.status();
  const auto* value =
      reply.ok() ? As<google::protobuf::Int64Value>(**reply) : nullptr;
  return value == nullptr ? -1 : value->value();
}

TEST(ClientTest, SameCodeWorksWithALocalAndARemoteRef) {
  // Local: a counter made from the same kind, in this process's system.
  ActorSystem local;
  absl::StatusOr<ActorFactory> factory =
      KindRegistry::Global().Find("counter")->make(nullptr);
  ASSERT_TRUE(factory.ok());
  absl::StatusOr<ActorRef> near = local.Spawn(*factory);
  ASSERT_TRUE(near.ok());
  EXPECT_EQ(AddAndRead(local, *near), 55);

  // Remote: through a client, on a node.
  std::unique_ptr<NodeServer> node = StartNode();
  ASSERT_NE(node, nullptr);
  std::unique_ptr<Client> client = ConnectTo(*node);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<ActorRef> far = client->Spawn("counter");
  ASSERT_TRUE(far.ok()) << far.status();
  EXPECT_EQ(far->address(), node->address());
  EXPECT_EQ(AddAndRead(*client, *far), 55);
}

TEST(ClientTest, ActorsReplyToTheClientAsToAnActor) {
  std::unique_ptr<NodeServer> node = StartNode();
  ASSERT_NE(node, nullptr);
  std::unique_ptr<Client> client = ConnectTo(*node);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->self().address(), node->address());

  absl::StatusOr<ActorRef> echo = client->Spawn("echo", "echo");
  ASSERT_TRUE(echo.ok());
  client->Tell(*echo, Text("first"));
  absl::StatusOr<Inbox::Received> reply = client->Receive(kWait);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(IsText(*reply->message, "first"));
  EXPECT_EQ(reply->sender.id(), "echo");

  // The sender is a ref like any other: the client answers through it.
  client->Tell(reply->sender, Text("second"));
  reply = client->Receive(kWait);
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(IsText(*reply->message, "second"));

  // A delayed tell leaves after its delay, from the client's timer.
  const absl::Time sent = absl::Now();
  client->Tell(*echo, Text("third"), TellOptions{absl::Milliseconds(100)});
  reply = client->Receive(kWait);
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(IsText(*reply->message, "third"));
  EXPECT_GE(absl::Now() - sent, absl::Milliseconds(100));
}

TEST(ClientTest, RefsTheClientHoldsWorkInsideMessages) {
  std::unique_ptr<NodeServer> node = StartNode();
  ASSERT_NE(node, nullptr);
  std::unique_ptr<Client> client = ConnectTo(*node);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<ActorRef> topic = client->Spawn("topic");
  absl::StatusOr<ActorRef> counter = client->Spawn("counter");
  ASSERT_TRUE(topic.ok() && counter.ok());

  // The client subscribes its own inbox and the counter: refs in messages.
  for (const ActorRef& subscriber : {client->self(), *counter}) {
    v1::Subscribe subscribe;
    *subscribe.mutable_subscriber() = ToProto(subscriber.pid());
    ASSERT_TRUE(client->Ask(*topic, subscribe, kWait).get().ok());
  }
  v1::Publish publish;
  publish.mutable_message()->PackFrom(Add(4));
  client->Tell(*topic, publish);

  // The inbox got the CounterAdd; the counter applied it.
  absl::StatusOr<v1::CounterAdd> got = client->ReceiveAs<v1::CounterAdd>(kWait);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->delta(), 4);
  // The counter's copy comes from the topic, not from the client: no order
  // with the client's asks, so look until it has landed.
  const absl::Time deadline = absl::Now() + kWait;
  int64_t seen = 0;
  while (seen != 4 && absl::Now() < deadline) {
    absl::StatusOr<MessagePtr> value =
        client->Ask(*counter, v1::CounterGet(), kWait).get();
    ASSERT_TRUE(value.ok());
    seen = As<google::protobuf::Int64Value>(**value)->value();
  }
  EXPECT_EQ(seen, 4);
}

TEST(ClientTest, WatchDeliversTerminated) {
  std::unique_ptr<NodeServer> node = StartNode();
  ASSERT_NE(node, nullptr);
  std::unique_ptr<Client> client = ConnectTo(*node);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<ActorRef> echo = client->Spawn("echo");
  ASSERT_TRUE(echo.ok());
  client->Watch(*echo);
  // Watch and Stop are separate calls with no order between them: if the
  // stop wins, the watch reports NOT_FOUND instead of STOPPED.
  ASSERT_TRUE(client->Stop(*echo, /*graceful=*/true).ok());
  absl::StatusOr<Terminated> terminated = client->ReceiveAs<Terminated>(kWait);
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->ref().id(), echo->id());
  EXPECT_TRUE(terminated->reason() == v1::STOPPED ||
              terminated->reason() == v1::NOT_FOUND);

  // Stopping what is gone says so.
  EXPECT_EQ(client->Stop(*echo).code(), absl::StatusCode::kNotFound);
}

TEST(ClientTest, ErrorsAreStatusesAPersonCanActOn) {
  std::unique_ptr<NodeServer> node = StartNode("s3cret");
  ASSERT_NE(node, nullptr);

  auto bad_address = Client::Connect(Options("nonsense", ""));
  EXPECT_EQ(bad_address.status().code(), absl::StatusCode::kInvalidArgument);
  auto no_secret = Client::Connect(Options(node->address(), ""));
  EXPECT_EQ(no_secret.status().code(), absl::StatusCode::kUnauthenticated)
      << no_secret.status();

  std::unique_ptr<Client> client = ConnectTo(*node, "s3cret");
  ASSERT_NE(client, nullptr);
  absl::StatusOr<ActorRef> unknown = client->Spawn("no-such-kind");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<ActorRef> ghost =
      client->Ref("troupe://" + node->address() + "/ghost");
  ASSERT_TRUE(ghost.ok());
  EXPECT_EQ(client->Ask(*ghost, Text("?"), kWait).get().status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client->Lookup("ghost").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<v1::StatsReply> stats = client->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->unauthenticated_calls(), 1u);

  // A node that went away: the client says so instead of hanging.
  node->Shutdown(absl::ZeroDuration());
  absl::StatusOr<Inbox::Received> after = client->Receive(kWait);
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable)
      << after.status();
}

// One connection reaches the cluster: SpawnOn and LookupOn name another
// node, and the refs they give work through the connected node.
TEST(ClientTest, SpawnOnAndLookupOnAnotherNodeAsFutures) {
  std::unique_ptr<NodeServer> connected = StartNode();
  std::unique_ptr<NodeServer> other = StartNode();
  ASSERT_NE(connected, nullptr);
  ASSERT_NE(other, nullptr);
  std::unique_ptr<Client> client = ConnectTo(*connected);
  ASSERT_NE(client, nullptr);
  std::future<absl::StatusOr<ActorRef>> spawning =
      client->SpawnOn(other->address(), "counter", "c", nullptr, kWait);
  absl::StatusOr<ActorRef> counter = spawning.get();
  ASSERT_TRUE(counter.ok()) << counter.status();
  EXPECT_EQ(counter->address(), other->address());
  EXPECT_NE(counter->uid(), 0u);
  EXPECT_EQ(AddAndRead(*client, *counter), 55);
  absl::StatusOr<ActorRef> found =
      client->LookupOn(other->address(), "c", kWait).get();
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->uid(), 0u);
  EXPECT_EQ(AddAndRead(*client, *found), 110);
  EXPECT_EQ(client->SpawnOn(other->address(), "counter", "c", nullptr, kWait)
                .get()
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(
      client->LookupOn(other->address(), "nobody", kWait).get().status().code(),
      absl::StatusCode::kNotFound);
}

// A virtual actor through the client: the same identity, one count, from
// two clients of two members of one cluster.
TEST(ClientTest, AnIdentityIsOneActorFromEveryMember) {
  std::unique_ptr<NodeServer> a = StartNode();
  ASSERT_NE(a, nullptr);
  NodeServerOptions options;
  options.listen = "127.0.0.1:0";
  options.cluster.seeds = {a->address()};
  absl::StatusOr<std::unique_ptr<NodeServer>> b = NodeServer::Start(options);
  ASSERT_TRUE(b.ok()) << b.status();
  testing::MemberWatcher on_a(a->node().system());
  testing::MemberWatcher on_b((*b)->node().system());
  ASSERT_TRUE(on_a.WaitForUp(2));
  ASSERT_TRUE(on_b.WaitForUp(2));
  std::unique_ptr<Client> via_a = ConnectTo(*a);
  std::unique_ptr<Client> via_b = ConnectTo(**b);
  ASSERT_NE(via_a, nullptr);
  ASSERT_NE(via_b, nullptr);
  absl::StatusOr<ActorRef> from_a = via_a->Identity("counter", "visits");
  absl::StatusOr<ActorRef> from_b = via_b->Identity("counter", "visits");
  ASSERT_TRUE(from_a.ok()) << from_a.status();
  ASSERT_TRUE(from_b.ok()) << from_b.status();
  EXPECT_EQ(AddAndRead(*via_a, *from_a), 55);
  EXPECT_EQ(AddAndRead(*via_b, *from_b), 110);
  EXPECT_EQ(via_a->Identity("counter", "two words").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ClientTest, ConnectToNothingIsUnavailableInTime) {
  // A port that was just free: nothing listens there.
  std::string address;
  {
    std::unique_ptr<NodeServer> node = StartNode();
    ASSERT_NE(node, nullptr);
    address = node->address();
  }
  const absl::Time start = absl::Now();
  auto client = Client::Connect(Options(address, "", absl::Milliseconds(500)));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace troupe
