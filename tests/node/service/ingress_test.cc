// The gRPC ingress: an actor service called with stock stubs (protoc's
// grpc_cpp_plugin, nothing of troupe's in the call), its actor named by
// metadata: by id, by ref, by kind plus key (activated on first call), on
// this node and on another one; every error a caller acts on; server
// streaming with its ends (done, cancelled, actor stopped).
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/cluster/identity.h"
#include "node/runtime/inbox.h"
#include "node/service/node_server.h"
#include "proto/kinds.grpc.pb.h"
#include "tests/node/typed/echo_actors.h"
#include "tests/node/typed/test_services.grpc.pb.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

using test::EchoReply;
using test::EchoRequest;
using testing::kTypedEchoKind;
using testing::Request;

constexpr absl::Duration kWait = testing::kTypedWait;

// A caller with nothing of troupe's: a channel, a stock stub, metadata.
class StubCaller {
 public:
  explicit StubCaller(const std::string& address)
      : stub_(test::Echo::NewStub(grpc::CreateChannel(
            address, grpc::InsecureChannelCredentials()))) {}

  // Prepares `context` with `headers` (pairs of key, value) and a deadline.
  static void Prepare(
      grpc::ClientContext* context,
      std::initializer_list<std::pair<std::string, std::string>> headers,
      absl::Duration deadline = kWait) {
    for (const auto& [key, value] : headers) {
      context->AddMetadata(key, value);
    }
    context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }

  grpc::Status Echo(
      std::initializer_list<std::pair<std::string, std::string>> headers,
      const EchoRequest& request, EchoReply* reply,
      absl::Duration deadline = kWait) {
    grpc::ClientContext context;
    Prepare(&context, headers, deadline);
    return stub_->Echo(&context, request, reply);
  }

  test::Echo::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<test::Echo::Stub> stub_;
};

class IngressTest : public ::testing::Test, protected testing::NodePair {
 protected:
  void SetUp() override {
    ASSERT_TRUE(StartNodes());
    home_caller_ = std::make_unique<StubCaller>(home->node().address());
    via_caller_ = std::make_unique<StubCaller>(via->node().address());
    v1::Pid pid = home_client->MustSpawn(kTypedEchoKind, "e1");
    ASSERT_FALSE(pid.id().empty());
    e1_text_ = absl::StrCat("troupe://", home->node().address(), "/e1");
  }

  ActorSystem& home_system() { return home->node().system(); }

  std::unique_ptr<StubCaller> home_caller_;
  std::unique_ptr<StubCaller> via_caller_;
  std::string e1_text_;
};

TEST_F(IngressTest, ByIdAndByRefOnThisNode) {
  EchoReply reply;
  grpc::Status status =
      home_caller_->Echo({{"troupe-actor", "e1"}}, Request("by id"), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.text(), "by id");
  status = home_caller_->Echo({{"troupe-actor", e1_text_}}, Request("by ref"),
                              &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.text(), "by ref");
}

TEST_F(IngressTest, ByRefToAnActorOnAnotherNode) {
  EchoReply reply;
  grpc::Status status = via_caller_->Echo({{"troupe-actor", e1_text_}},
                                          Request("across"), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.text(), "across");
  EXPECT_EQ(reply.node(), home->node().address());
}

TEST_F(IngressTest, ByKindAndKeyActivatesOnceAndReachesTheSameActor) {
  for (int i = 0; i < 3; ++i) {
    EchoReply reply;
    grpc::Status status = home_caller_->Echo(
        {{"troupe-kind", kTypedEchoKind}, {"troupe-key", "alice"}},
        Request("hi"), &reply);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  absl::StatusOr<ActorRef> alice =
      GetIdentity(home_system(), kTypedEchoKind, "alice");
  ASSERT_TRUE(alice.ok()) << alice.status();
  absl::StatusOr<MessagePtr> calls =
      home_system().Ask(*alice, Text("calls?"), kWait).get();
  ASSERT_TRUE(calls.ok()) << calls.status();
  EXPECT_EQ(TextOf(**calls), "3") << "one activation took every call";
}

TEST_F(IngressTest, ByKindAndKeyOnAnotherNode) {
  EchoReply reply;
  grpc::Status status =
      via_caller_->Echo({{"troupe-kind", kTypedEchoKind},
                         {"troupe-key", "bob"},
                         {"troupe-node", home->node().address()}},
                        Request("placed"), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.node(), home->node().address());
  EXPECT_TRUE(home_system().Lookup(absl::StrCat(kTypedEchoKind, ":bob")).ok());
  EXPECT_FALSE(
      via->node().system().Lookup(absl::StrCat(kTypedEchoKind, ":bob")).ok());
}

TEST_F(IngressTest, EachErrorHasItsCode) {
  EchoReply reply;
  struct Case {
    std::string what;
    std::initializer_list<std::pair<std::string, std::string>> headers;
    grpc::StatusCode code;
    std::string says;
  };
  const std::string dead_node = "troupe://127.0.0.1:1/x";
  const std::string gone =
      absl::StrCat("troupe://", home->node().address(), "/nobody");
  const Case cases[] = {
      {"no target", {}, grpc::INVALID_ARGUMENT, "troupe-actor"},
      {"half an identity",
       {{"troupe-kind", kTypedEchoKind}},
       grpc::INVALID_ARGUMENT,
       "troupe-key"},
      {"a malformed ref",
       {{"troupe-actor", "troupe://nohost/x"}},
       grpc::INVALID_ARGUMENT,
       "host:port"},
      {"an unknown id",
       {{"troupe-actor", "nobody"}},
       grpc::NOT_FOUND,
       "nobody"},
      {"an unknown actor of a live node",
       {{"troupe-actor", gone}},
       grpc::NOT_FOUND,
       "nobody"},
      {"an unknown kind",
       {{"troupe-kind", "no_such_kind"}, {"troupe-key", "k"}},
       grpc::NOT_FOUND,
       "typed_echo"},
      {"a kind that does not serve the service",
       {{"troupe-kind", "echo"}, {"troupe-key", "k"}},
       grpc::UNIMPLEMENTED,
       "troupe.test.Echo"},
      {"a kind of another node that does not serve the service",
       {{"troupe-kind", "echo"},
        {"troupe-key", "k"},
        {"troupe-node", via->node().address()}},
       grpc::UNIMPLEMENTED,
       "troupe.test.Echo"},
      {"a dead node", {{"troupe-actor", dead_node}}, grpc::UNAVAILABLE, ""},
  };
  for (const Case& c : cases) {
    grpc::Status status = home_caller_->Echo(c.headers, Request("x"), &reply);
    EXPECT_EQ(status.error_code(), c.code)
        << c.what << ": " << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), c.says))
        << c.what << ": " << status.error_message();
  }
}

TEST_F(IngressTest, TheActorsAnswersAndTheDeadline) {
  EchoReply reply;
  grpc::ClientContext missing;
  StubCaller::Prepare(&missing, {{"troupe-actor", "e1"}});
  grpc::Status status =
      home_caller_->stub().Missing(&missing, Request("?"), &reply);
  EXPECT_EQ(status.error_code(), grpc::UNIMPLEMENTED);
  EXPECT_TRUE(
      absl::StrContains(status.error_message(), "troupe.test.Echo.Missing"));

  grpc::ClientContext failed;
  StubCaller::Prepare(&failed, {{"troupe-actor", e1_text_}});
  status = via_caller_->stub().Fail(
      &failed,
      Request("no", static_cast<int>(absl::StatusCode::kAlreadyExists)),
      &reply);
  EXPECT_EQ(status.error_code(), grpc::ALREADY_EXISTS);
  EXPECT_EQ(status.error_message(), "failed on purpose: no");

  // Deferred waits on a gate nobody opens: the call's own deadline ends
  // it, through another node too.
  grpc::ClientContext late;
  StubCaller::Prepare(&late, {{"troupe-actor", e1_text_}},
                      absl::Milliseconds(300));
  status = via_caller_->stub().Deferred(&late, Request("late"), &reply);
  EXPECT_EQ(status.error_code(), grpc::DEADLINE_EXCEEDED)
      << status.error_message();
}

TEST_F(IngressTest, AStreamSendsEveryItemThenEnds) {
  grpc::ClientContext context;
  StubCaller::Prepare(&context, {{"troupe-actor", e1_text_}});
  test::Outer_Inner request;
  request.set_count(5);
  auto reader = via_caller_->stub().Count(&context, request);
  EchoReply item;
  std::string got;
  while (reader->Read(&item)) {
    absl::StrAppend(&got, item.text(), " ");
  }
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got, "1 2 3 4 5 ");
}

TEST_F(IngressTest, AStreamsErrorComesAfterItsItems) {
  grpc::ClientContext context;
  StubCaller::Prepare(&context, {{"troupe-actor", e1_text_}});
  test::Outer_Inner request;
  request.set_count(3);
  request.set_fail_code(static_cast<int>(absl::StatusCode::kDataLoss));
  auto reader = via_caller_->stub().Count(&context, request);
  EchoReply item;
  int items = 0;
  while (reader->Read(&item)) {
    ++items;
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(items, 3);
  EXPECT_EQ(status.error_code(), grpc::DATA_LOSS) << status.error_message();
  EXPECT_EQ(status.error_message(), "counted");
}

// A typed call told with an actor as its sender: the answer reaches that
// actor with no sender, so an echo does not send it back (before, answers
// named the caller as sender and an echo bounced them forever).
TEST_F(IngressTest, AnAnswerToAnActorHasNoSenderToBounceTo) {
  v1::Pid echo = home_client->MustSpawn("echo", "bouncer");
  v1::Pid typed = home_client->MustSpawn(kTypedEchoKind, "e3");
  v1::TellRequest tell;
  *tell.mutable_target() = typed;
  *tell.mutable_sender() = echo;
  tell.mutable_message()->PackFrom(Request("to the echo"));
  tell.set_method("troupe.test.Echo.Echo");
  grpc::ClientContext context;
  StubCaller::Prepare(&context, {});
  v1::TellReply told;
  ASSERT_TRUE(home_client->stub().Tell(&context, tell, &told).ok());
  // The typed actor has answered once it answers an ask after the call
  // (its mailbox keeps order); the echo has had the answer once it
  // answers an ask of its own.
  google::protobuf::Any answer;
  ASSERT_TRUE(
      home_client->Ask(typed, testing::PackText("calls?"), &answer).ok());
  ASSERT_TRUE(home_client->Ask(echo, testing::PackText("x"), &answer).ok());
  v1::StatsReply before;
  ASSERT_TRUE(home_client->Stats(&before).ok());
  ASSERT_TRUE(home_client->Ask(echo, testing::PackText("y"), &answer).ok());
  v1::StatsReply after;
  ASSERT_TRUE(home_client->Stats(&after).ok());
  // One ask in between: a couple of messages, not a loop's thousands.
  EXPECT_LT(after.messages_processed() - before.messages_processed(), 10u);
}

TEST_F(IngressTest, AnAskOrTellOfAStreamingMethodIsRefused) {
  v1::AskRequest ask;
  *ask.mutable_target() = home_client->MustSpawn(kTypedEchoKind, "e2");
  ask.mutable_message()->PackFrom(test::Outer_Inner());
  ask.set_method("troupe.test.Echo.Count");
  grpc::ClientContext context;
  StubCaller::Prepare(&context, {});
  v1::AskReply reply;
  grpc::Status status = home_client->stub().Ask(&context, ask, &reply);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "streams"));

  v1::TellRequest tell;
  *tell.mutable_target() = ask.target();
  *tell.mutable_message() = ask.message();
  tell.set_method(ask.method());
  grpc::ClientContext tell_context;
  StubCaller::Prepare(&tell_context, {});
  v1::TellReply told;
  status = home_client->stub().Tell(&tell_context, tell, &told);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT)
      << status.error_message();
}

// A stream to an identity on a node that never answers: the caller
// cancels (and gRPC is done with the call) while the activation is still
// waiting for that node; when the activation then fails, it must not touch
// the call any more (under ASan, a use after free before the fix).
TEST(IngressStreamTest, AStreamEndedBeforeItsTargetIsFoundIsLeftAlone) {
  // A port that takes connections and never speaks.
  const int silent = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(silent, 16), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length),
            0);
  const std::string nowhere =
      absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
  NodeServerOptions options;
  // Long enough that the cancel below always comes first, even on a
  // loaded machine under ASan.
  options.link.connect_timeout = absl::Seconds(3);
  std::unique_ptr<NodeServer> node = testing::StartTestNode(options);
  ASSERT_NE(node, nullptr);
  StubCaller caller(node->address());
  const std::initializer_list<std::pair<std::string, std::string>> identity = {
      {"troupe-kind", kTypedEchoKind},
      {"troupe-key", "k"},
      {"troupe-node", nowhere}};

  grpc::ClientContext context;
  StubCaller::Prepare(&context, identity, absl::Seconds(30));
  auto reader = caller.stub().Count(&context, test::Outer_Inner());
  // The node dialling the silent port means the activation has begun.
  pollfd dialled{silent, POLLIN, 0};
  ASSERT_EQ(poll(&dialled, 1, 10'000), 1);
  context.TryCancel();
  EchoReply item;
  EXPECT_FALSE(reader->Read(&item));
  EXPECT_EQ(reader->Finish().error_code(), grpc::CANCELLED);

  // A call to the same identity ends when the link attempt fails, and with
  // it the first call's activation (queued first).
  EchoReply reply;
  grpc::Status status =
      caller.Echo(identity, Request("x"), &reply, absl::Seconds(30));
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE) << status.error_message();
  close(silent);
}

TEST_F(IngressTest, ACancelledStreamTellsTheActor) {
  Inbox probe(home_system());
  grpc::ClientContext context;
  StubCaller::Prepare(&context, {{"troupe-actor", e1_text_}});
  auto reader = via_caller_->stub().Follow(
      &context, Request(probe.ref().pid().ToString()));
  EchoReply item;
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.text(), "first");
  home_system().Tell(*home_system().Lookup("e1"), Text("more"));
  ASSERT_TRUE(reader->Read(&item));
  EXPECT_EQ(item.text(), "more");
  context.TryCancel();
  EXPECT_FALSE(reader->Read(&item));
  EXPECT_EQ(reader->Finish().error_code(), grpc::CANCELLED);
  // The actor watched the stream's end: it hears of the cancel.
  absl::StatusOr<Inbox::Received> told = probe.Receive(kWait);
  ASSERT_TRUE(told.ok()) << told.status();
  EXPECT_EQ(TextOf(*told->message), "cancelled");
}

TEST_F(IngressTest, AStreamEndsAbortedWhenTheActorStops) {
  grpc::ClientContext context;
  StubCaller::Prepare(&context, {{"troupe-actor", e1_text_}});
  auto reader = via_caller_->stub().Follow(&context, Request(""));
  EchoReply item;
  ASSERT_TRUE(reader->Read(&item));
  home_system().Stop(*home_system().Lookup("e1"));
  EXPECT_FALSE(reader->Read(&item));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::ABORTED) << status.error_message();
}

TEST_F(IngressTest, TheStockCounterAndKvAreServices) {
  auto channel = grpc::CreateChannel(via->node().address(),
                                     grpc::InsecureChannelCredentials());
  auto counter = v1::Counter::NewStub(channel);
  const std::string home_node = home->node().address();
  for (int64_t expected : {5, 10}) {
    grpc::ClientContext context;
    StubCaller::Prepare(&context, {{"troupe-kind", "counter"},
                                   {"troupe-key", "visits"},
                                   {"troupe-node", home_node}});
    v1::CounterAdd add;
    add.set_delta(5);
    google::protobuf::Int64Value value;
    grpc::Status status = counter->Add(&context, add, &value);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(value.value(), expected);
  }
  auto kv = v1::Kv::NewStub(channel);
  grpc::ClientContext put_context;
  StubCaller::Prepare(&put_context,
                      {{"troupe-kind", "kv"}, {"troupe-key", "users"}});
  v1::KvPut put;
  put.set_key("ada");
  put.mutable_value()->PackFrom(Text("lovelace"));
  v1::KvValue before;
  ASSERT_TRUE(kv->Put(&put_context, put, &before).ok());
  EXPECT_FALSE(before.found());
  grpc::ClientContext get_context;
  StubCaller::Prepare(&get_context,
                      {{"troupe-kind", "kv"}, {"troupe-key", "users"}});
  v1::KvGet get;
  get.set_key("ada");
  v1::KvValue got;
  ASSERT_TRUE(kv->Get(&get_context, get, &got).ok());
  EXPECT_TRUE(got.found());
}

TEST_F(IngressTest, AServiceNoKindServesIsUnimplemented) {
  auto other = test::Other::NewStub(grpc::CreateChannel(
      home->node().address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  StubCaller::Prepare(&context, {{"troupe-actor", "e1"}});
  EchoReply reply;
  grpc::Status status = other->Ping(&context, Request("ping"), &reply);
  EXPECT_EQ(status.error_code(), grpc::UNIMPLEMENTED) << status.error_message();
}

// A node with small limits: a request over --max_message_bytes, and a
// stream whose caller cannot keep up with one item waiting.
TEST(IngressLimitsTest, OverTheLimitsIsResourceExhausted) {
  NodeServerOptions options;
  options.link.max_message_bytes = 1024;
  options.service.inbox_queue = 1;
  std::unique_ptr<NodeServer> node = testing::StartTestNode(options);
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->node().system().Spawn<testing::EchoImpl>("e").ok());
  StubCaller caller(node->address());
  EchoReply reply;
  grpc::Status status = caller.Echo({{"troupe-actor", "e"}},
                                    Request(std::string(4096, 'x')), &reply);
  EXPECT_EQ(status.error_code(), grpc::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "--max_message_bytes"))
      << status.error_message();

  grpc::ClientContext context;
  StubCaller::Prepare(&context, {{"troupe-actor", "e"}});
  test::Outer_Inner many;
  many.set_count(1000);  // sent in one go: more than one waits at once
  auto reader = caller.stub().Count(&context, many);
  EchoReply item;
  while (reader->Read(&item)) {
  }
  status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "read slower"))
      << status.error_message();
}

TEST(IngressAuthTest, AWrongSecretIsUnauthenticated) {
  NodeServerOptions options;
  options.link.secret = "s3cret";
  std::unique_ptr<NodeServer> node = testing::StartTestNode(options);
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->node().system().Spawn<testing::EchoImpl>("e").ok());
  StubCaller caller(node->address());
  EchoReply reply;
  grpc::Status status =
      caller.Echo({{"troupe-actor", "e"}}, Request("no secret"), &reply);
  EXPECT_EQ(status.error_code(), grpc::UNAUTHENTICATED);
  status = caller.Echo({{"troupe-actor", "e"}, {"x-troupe-secret", "wrong"}},
                       Request("wrong"), &reply);
  EXPECT_EQ(status.error_code(), grpc::UNAUTHENTICATED);
  status = caller.Echo({{"troupe-actor", "e"}, {"x-troupe-secret", "s3cret"}},
                       Request("right"), &reply);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.text(), "right");
}

}  // namespace
}  // namespace troupe
