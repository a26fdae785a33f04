// The public ActorService against real nodes on free ports, through the
// generated gRPC stub, as a client in any language would call it: every RPC
// and the errors a client can meet.
#include "node/service/actor_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/service/node_server.h"
#include "proto/kinds.pb.h"
#include "proto/troupe.grpc.pb.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

using google::protobuf::Any;
using google::protobuf::Int64Value;
using google::protobuf::StringValue;

using testing::kCallTimeout;

template <typename M>
Any Pack(const M& message) {
  Any any;
  any.PackFrom(message);
  return any;
}

StringValue Str(const std::string& text) {
  StringValue value;
  value.set_value(text);
  return value;
}

class ActorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = StartNode();
    ASSERT_NE(node_, nullptr);
    stub_ = StubFor(node_->address());
    client_ = std::make_unique<testing::ServiceClient>(node_->address());
  }

  static std::unique_ptr<NodeServer> StartNode() {
    NodeServerOptions options;
    options.listen = "127.0.0.1:0";
    auto node = NodeServer::Start(options);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? std::move(*node) : nullptr;
  }

  static std::unique_ptr<v1::ActorService::Stub> StubFor(
      const std::string& address) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    return v1::ActorService::NewStub(grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args));
  }

  static void Bound(grpc::ClientContext* context) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  }

  // The calls every test makes, through the shared test client.
  grpc::Status Spawn(const std::string& kind, const std::string& name,
                     v1::Pid* pid, const Any* init = nullptr,
                     const std::string& node = "") {
    return client_->Spawn(kind, name, pid, init, node);
  }
  v1::Pid MustSpawn(const std::string& kind, const std::string& name,
                    const Any* init = nullptr) {
    return client_->MustSpawn(kind, name, init);
  }
  grpc::Status Tell(const v1::Pid& target, const Any& message) {
    return client_->Tell(target, message);
  }
  grpc::Status Ask(const v1::Pid& target, const Any& message, Any* reply,
                   absl::Duration timeout = absl::Seconds(5)) {
    return client_->Ask(target, message, reply, timeout);
  }
  int64_t CounterValue(const v1::Pid& counter) {
    return client_->CounterValue(counter);
  }

  std::unique_ptr<NodeServer> node_;
  std::unique_ptr<v1::ActorService::Stub> stub_;
  std::unique_ptr<testing::ServiceClient> client_;
};

TEST_F(ActorServiceTest, SpawnsAnEchoAndAsksIt) {
  v1::Pid echo = MustSpawn("echo", "e1");
  EXPECT_EQ(echo.address(), node_->address());
  EXPECT_EQ(echo.id(), "e1");
  EXPECT_EQ(echo.incarnation(), node_->incarnation());

  Any reply;
  grpc::Status status = Ask(echo, Pack(Str("hello")), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  StringValue text;
  ASSERT_TRUE(reply.UnpackTo(&text));
  EXPECT_EQ(text.value(), "hello");
}

TEST_F(ActorServiceTest, SpawnErrorsSayWhatIsWrong) {
  v1::Pid pid;
  grpc::Status unknown = Spawn("no-such-kind", "", &pid);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(absl::StrContains(unknown.error_message(),
                                "known kinds: counter, echo, kv, topic"))
      << unknown.error_message();

  const Any text_init = Pack(Str("five"));
  grpc::Status bad_init = Spawn("counter", "", &pid, &text_init);
  EXPECT_EQ(bad_init.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(
      absl::StrContains(bad_init.error_message(), "google.protobuf.Int64Value"))
      << bad_init.error_message();

  grpc::Status bad_name = Spawn("echo", "a/b", &pid);
  EXPECT_EQ(bad_name.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  MustSpawn("echo", "taken");
  grpc::Status taken = Spawn("echo", "taken", &pid);
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(ActorServiceTest, CounterKeepsItsStateAcrossTellsAndAsks) {
  Int64Value start;
  start.set_value(5);
  const Any init = Pack(start);
  v1::Pid counter = MustSpawn("counter", "c", &init);
  v1::CounterAdd add;
  add.set_delta(3);
  ASSERT_TRUE(Tell(counter, Pack(add)).ok());
  ASSERT_TRUE(Tell(counter, Pack(add)).ok());
  EXPECT_EQ(CounterValue(counter), 11);
}

TEST_F(ActorServiceTest, KeyValueStorePutsGetsAndDeletes) {
  v1::Pid kv = MustSpawn("kv", "store");
  v1::KvPut put;
  put.set_key("k");
  *put.mutable_value() = Pack(Str("v1"));
  Any reply;
  ASSERT_TRUE(Ask(kv, Pack(put), &reply).ok());
  v1::KvValue value;
  ASSERT_TRUE(reply.UnpackTo(&value));
  EXPECT_FALSE(value.found());  // nothing was there before

  v1::KvGet get;
  get.set_key("k");
  ASSERT_TRUE(Ask(kv, Pack(get), &reply).ok());
  ASSERT_TRUE(reply.UnpackTo(&value));
  ASSERT_TRUE(value.found());
  StringValue stored;
  ASSERT_TRUE(value.value().UnpackTo(&stored));
  EXPECT_EQ(stored.value(), "v1");

  v1::KvDelete remove;
  remove.set_key("k");
  ASSERT_TRUE(Ask(kv, Pack(remove), &reply).ok());
  ASSERT_TRUE(Ask(kv, Pack(get), &reply).ok());
  ASSERT_TRUE(reply.UnpackTo(&value));
  EXPECT_FALSE(value.found());
}

TEST_F(ActorServiceTest, LookupFindsByNameOrSaysNotFound) {
  v1::Pid echo = MustSpawn("echo", "findme");
  v1::LookupRequest request;
  request.set_name("findme");
  v1::Pid found;
  grpc::ClientContext context;
  Bound(&context);
  ASSERT_TRUE(stub_->Lookup(&context, request, &found).ok());
  EXPECT_EQ(found.id(), echo.id());
  EXPECT_EQ(found.incarnation(), echo.incarnation());

  request.set_name("nobody");
  grpc::ClientContext missing_context;
  Bound(&missing_context);
  grpc::Status missing = stub_->Lookup(&missing_context, request, &found);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(absl::StrContains(missing.error_message(), "nobody"));
}

TEST_F(ActorServiceTest, MalformedRequestsAreRefusedWithInvalidArgument) {
  v1::Pid echo = MustSpawn("echo", "e");

  Any unknown_type;
  unknown_type.set_type_url("type.googleapis.com/no.such.Type");
  grpc::Status status = Tell(echo, unknown_type);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "no.such.Type"));

  Any garbage;
  garbage.set_type_url("type.googleapis.com/google.protobuf.StringValue");
  garbage.set_value("\xff\xff\xff");
  EXPECT_EQ(Tell(echo, garbage).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::Pid bad = echo;
  bad.set_address("not an address");
  EXPECT_EQ(Tell(bad, Pack(Str("x"))).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::TellRequest no_target;
  *no_target.mutable_message() = Pack(Str("x"));
  v1::TellReply reply;
  grpc::ClientContext context;
  Bound(&context);
  EXPECT_EQ(stub_->Tell(&context, no_target, &reply).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // The node goes on serving.
  Any answer;
  EXPECT_TRUE(Ask(echo, Pack(Str("still here")), &answer).ok());
}

TEST_F(ActorServiceTest, OversizedMessageIsResourceExhausted) {
  v1::Pid echo = MustSpawn("echo", "e");
  grpc::Status status = Tell(echo, Pack(Str(std::string(8 << 20, 'x'))));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  Any answer;
  EXPECT_TRUE(Ask(echo, Pack(Str("still here")), &answer).ok());
}

TEST_F(ActorServiceTest, AskFailsFastForUnknownAndTimesOutForSilence) {
  v1::Pid echo = MustSpawn("echo", "e");
  v1::Pid ghost = echo;
  ghost.set_id("ghost");
  Any reply;
  const absl::Time start = absl::Now();
  grpc::Status unknown = Ask(ghost, Pack(Str("?")), &reply, absl::Seconds(5));
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));  // did not wait it out

  // A counter ignores text: silence until the timeout.
  v1::Pid counter = MustSpawn("counter", "quiet");
  grpc::Status silent =
      Ask(counter, Pack(Str("?")), &reply, absl::Milliseconds(200));
  EXPECT_EQ(silent.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(ActorServiceTest, TellAndStopOfADeadLocalActorAreNotFound) {
  v1::Pid echo = MustSpawn("echo", "short-lived");
  v1::StopRequest stop;
  *stop.mutable_target() = echo;
  v1::StopReply stopped;
  grpc::ClientContext context;
  Bound(&context);
  ASSERT_TRUE(stub_->Stop(&context, stop, &stopped).ok());

  // Stopping is asynchronous: wait for the Watch to report it.
  v1::WatchRequest watch;
  *watch.mutable_target() = echo;
  grpc::ClientContext watch_context;
  Bound(&watch_context);
  auto reader = stub_->Watch(&watch_context, watch);
  v1::Terminated terminated;
  ASSERT_TRUE(reader->Read(&terminated));
  ASSERT_TRUE(reader->Finish().ok());

  EXPECT_EQ(Tell(echo, Pack(Str("x"))).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext again;
  Bound(&again);
  EXPECT_EQ(stub_->Stop(&again, stop, &stopped).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ActorServiceTest, WatchStreamsOneTerminatedThenEnds) {
  v1::Pid echo = MustSpawn("echo", "watched");
  v1::WatchRequest watch;
  *watch.mutable_target() = echo;
  grpc::ClientContext watch_context;
  Bound(&watch_context);
  auto reader = stub_->Watch(&watch_context, watch);
  reader->WaitForInitialMetadata();  // the watch is in place

  // Graceful: a PoisonPill behind the messages already queued.
  v1::StopRequest stop;
  *stop.mutable_target() = echo;
  stop.set_graceful(true);
  v1::StopReply stopped;
  grpc::ClientContext context;
  Bound(&context);
  ASSERT_TRUE(stub_->Stop(&context, stop, &stopped).ok());

  v1::Terminated terminated;
  ASSERT_TRUE(reader->Read(&terminated));
  EXPECT_EQ(terminated.reason(), v1::STOPPED);
  EXPECT_EQ(terminated.ref().id(), "watched");
  EXPECT_FALSE(reader->Read(&terminated));
  EXPECT_TRUE(reader->Finish().ok());

  // Watching what does not exist says so at once.
  v1::Pid ghost = echo;
  ghost.set_id("ghost");
  *watch.mutable_target() = ghost;
  grpc::ClientContext ghost_context;
  Bound(&ghost_context);
  auto ghost_reader = stub_->Watch(&ghost_context, watch);
  ASSERT_TRUE(ghost_reader->Read(&terminated));
  EXPECT_EQ(terminated.reason(), v1::NOT_FOUND);
  EXPECT_TRUE(ghost_reader->Finish().ok());
}

TEST_F(ActorServiceTest, InboxReceivesRepliesAndTopicMessages) {
  v1::Pid echo = MustSpawn("echo", "e");
  v1::Pid topic = MustSpawn("topic", "news");
  grpc::ClientContext context;
  Bound(&context);
  auto stream = stub_->Inbox(&context);
  v1::InboxEvent event;
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.has_inbox());
  const v1::Pid inbox = event.inbox();
  EXPECT_EQ(inbox.address(), node_->address());

  // A tell on the stream has the inbox as sender: the echo answers it.
  v1::InboxRequest request;
  *request.mutable_tell()->mutable_target() = echo;
  *request.mutable_tell()->mutable_message() = Pack(Str("ping"));
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.has_delivery());
  StringValue text;
  ASSERT_TRUE(event.delivery().message().UnpackTo(&text));
  EXPECT_EQ(text.value(), "ping");
  EXPECT_EQ(event.delivery().sender().id(), "e");

  // The inbox's Pid works like any ref: subscribe it to a topic.
  v1::Subscribe subscribe;
  *subscribe.mutable_subscriber() = inbox;
  Any reply;
  ASSERT_TRUE(Ask(topic, Pack(subscribe), &reply).ok());
  v1::Publish publish;
  *publish.mutable_message() = Pack(Str("headline"));
  ASSERT_TRUE(Ask(topic, Pack(publish), &reply).ok());
  v1::TopicInfo info;
  ASSERT_TRUE(reply.UnpackTo(&info));
  EXPECT_EQ(info.delivered(), 1);
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.delivery().message().UnpackTo(&text));
  EXPECT_EQ(text.value(), "headline");

  // A bad tell on the stream is answered with an error; the stream goes on.
  v1::InboxRequest bad;
  *bad.mutable_tell()->mutable_target() = echo;
  bad.mutable_tell()->mutable_message()->set_type_url(
      "type.googleapis.com/x.Y");
  ASSERT_TRUE(stream->Write(bad));
  ASSERT_TRUE(stream->Read(&event));
  EXPECT_TRUE(absl::StrContains(event.error(), "x.Y")) << event.error();
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&event));
  EXPECT_TRUE(event.has_delivery());

  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ActorServiceTest, InboxAsksKeepOrderWithTellsAndReportErrors) {
  v1::Pid counter = MustSpawn("counter", "c");
  grpc::ClientContext context;
  Bound(&context);
  auto stream = stub_->Inbox(&context);
  v1::InboxEvent event;
  ASSERT_TRUE(stream->Read(&event));
  v1::CounterAdd add;
  add.set_delta(1);
  v1::InboxRequest tell;
  *tell.mutable_tell()->mutable_target() = counter;
  *tell.mutable_tell()->mutable_message() = Pack(add);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(stream->Write(tell));
  }
  v1::InboxRequest ask;
  ask.set_ask_id(7);
  *ask.mutable_ask()->mutable_target() = counter;
  *ask.mutable_ask()->mutable_message() = Pack(v1::CounterGet());
  ASSERT_TRUE(stream->Write(ask));
  // Each tell's reply (the counter answers its sender, the inbox) comes
  // first, then the ask's result, which has seen all ten.
  Int64Value value;
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(stream->Read(&event));
    ASSERT_TRUE(event.delivery().message().UnpackTo(&value));
    EXPECT_EQ(value.value(), i);
  }
  ASSERT_TRUE(stream->Read(&event));
  ASSERT_TRUE(event.has_ask_result());
  EXPECT_EQ(event.ask_result().ask_id(), 7u);
  EXPECT_EQ(event.ask_result().code(), 0);
  ASSERT_TRUE(event.ask_result().reply().UnpackTo(&value));
  EXPECT_EQ(value.value(), 10);

  v1::Pid ghost = counter;
  ghost.set_id("ghost");
  ask.set_ask_id(8);
  *ask.mutable_ask()->mutable_target() = ghost;
  ASSERT_TRUE(stream->Write(ask));
  ASSERT_TRUE(stream->Read(&event));
  EXPECT_EQ(event.ask_result().ask_id(), 8u);
  EXPECT_EQ(event.ask_result().code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(absl::StrContains(event.ask_result().error(), "ghost"));

  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Finish().ok());
}

// Once the client closes its side, what is queued for it still goes out,
// in order, and the call ends; what arrives later becomes dead letters:
// nothing vanishes. Watchers of the inbox hear that it stopped.
TEST_F(ActorServiceTest, InboxClosedByTheClientLosesNothingSilently) {
  v1::Pid echo = MustSpawn("echo", "e");
  auto dead_letters = [this] {
    v1::StatsReply stats;
    grpc::ClientContext context;
    Bound(&context);
    EXPECT_TRUE(stub_->Stats(&context, v1::StatsRequest(), &stats).ok());
    return stats.dead_letters();
  };
  const uint64_t dead_before = dead_letters();

  grpc::ClientContext context;
  Bound(&context);
  auto stream = stub_->Inbox(&context);
  v1::InboxEvent event;
  ASSERT_TRUE(stream->Read(&event));
  const v1::Pid inbox = event.inbox();

  v1::WatchRequest watch;
  *watch.mutable_target() = inbox;
  grpc::ClientContext watch_context;
  Bound(&watch_context);
  auto watcher = stub_->Watch(&watch_context, watch);
  watcher->WaitForInitialMetadata();

  // 50 tells, then the client closes its side at once.
  constexpr int kTells = 50;
  v1::InboxRequest request;
  *request.mutable_tell()->mutable_target() = echo;
  for (int i = 0; i < kTells; ++i) {
    *request.mutable_tell()->mutable_message() = Pack(Str(std::to_string(i)));
    ASSERT_TRUE(stream->Write(request));
  }
  ASSERT_TRUE(stream->WritesDone());
  int replies = 0;
  while (stream->Read(&event)) {
    StringValue text;
    ASSERT_TRUE(event.delivery().message().UnpackTo(&text));
    EXPECT_EQ(text.value(), std::to_string(replies));  // in order, no gaps
    ++replies;
  }
  EXPECT_TRUE(stream->Finish().ok());

  v1::Terminated terminated;
  ASSERT_TRUE(watcher->Read(&terminated));
  EXPECT_EQ(terminated.reason(), v1::STOPPED);
  EXPECT_EQ(terminated.ref().id(), inbox.id());
  EXPECT_TRUE(watcher->Finish().ok());

  // An ask behind the 50 tells: once answered, the echo has replied to all.
  Any answer;
  ASSERT_TRUE(Ask(echo, Pack(Str("done?")), &answer).ok());
  EXPECT_EQ(replies + static_cast<int>(dead_letters() - dead_before), kTells);
}

TEST_F(ActorServiceTest, TopicDropsSubscribersThatTerminate) {
  v1::Pid topic = MustSpawn("topic", "t");
  v1::Pid echo = MustSpawn("echo", "subscriber");
  v1::Subscribe subscribe;
  *subscribe.mutable_subscriber() = echo;
  Any reply;
  ASSERT_TRUE(Ask(topic, Pack(subscribe), &reply).ok());
  v1::TopicInfo info;
  ASSERT_TRUE(reply.UnpackTo(&info));
  EXPECT_EQ(info.subscribers(), 1);

  // Stop the subscriber and wait until it is gone.
  v1::WatchRequest watch;
  *watch.mutable_target() = echo;
  grpc::ClientContext watch_context;
  Bound(&watch_context);
  auto reader = stub_->Watch(&watch_context, watch);
  reader->WaitForInitialMetadata();
  v1::StopRequest stop;
  *stop.mutable_target() = echo;
  v1::StopReply stopped;
  grpc::ClientContext context;
  Bound(&context);
  ASSERT_TRUE(stub_->Stop(&context, stop, &stopped).ok());
  v1::Terminated terminated;
  ASSERT_TRUE(reader->Read(&terminated));

  // The topic's own watch fired before this ask reaches it (the topic
  // handles its Terminated first: system messages overtake).
  const absl::Time deadline = absl::Now() + kCallTimeout;
  int subscribers = 1;
  while (subscribers != 0 && absl::Now() < deadline) {
    v1::Publish publish;
    *publish.mutable_message() = Pack(Str("anyone?"));
    ASSERT_TRUE(Ask(topic, Pack(publish), &reply).ok());
    ASSERT_TRUE(reply.UnpackTo(&info));
    subscribers = info.subscribers();
  }
  EXPECT_EQ(subscribers, 0);
}

TEST_F(ActorServiceTest, StatsCountActorsMessagesAndKinds) {
  v1::Pid echo = MustSpawn("echo", "e");
  Any reply;
  ASSERT_TRUE(Ask(echo, Pack(Str("1")), &reply).ok());
  ASSERT_TRUE(Tell(echo, Pack(Str("2"))).ok());

  v1::StatsReply stats;
  grpc::ClientContext context;
  Bound(&context);
  ASSERT_TRUE(stub_->Stats(&context, v1::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.address(), node_->address());
  EXPECT_EQ(stats.incarnation(), node_->incarnation());
  EXPECT_GE(stats.actors_alive(), 2);  // the echo and the activator
  EXPECT_EQ(stats.messages_in(), 2u);
  EXPECT_EQ(stats.messages_out(), 1u);
  ASSERT_EQ(stats.kinds_size(), 4);
  EXPECT_EQ(stats.kinds(0), "counter");
}

// A client of node A reaches node B through A: spawn there, look up there,
// watch across the link.
TEST_F(ActorServiceTest, OneNodeServesTheCluster) {
  std::unique_ptr<NodeServer> b = StartNode();
  ASSERT_NE(b, nullptr);

  v1::Pid near = MustSpawn("echo", "near");
  EXPECT_EQ(near.address(), node_->address());
  v1::Pid remote;
  grpc::Status spawned =
      Spawn("counter", "far", &remote, nullptr, b->address());
  ASSERT_TRUE(spawned.ok()) << spawned.error_message();
  EXPECT_EQ(remote.address(), b->address());
  EXPECT_EQ(remote.incarnation(), b->incarnation());

  v1::LookupRequest lookup;
  lookup.set_name("far");
  lookup.set_node(b->address());
  v1::Pid found;
  grpc::ClientContext lookup_context;
  Bound(&lookup_context);
  ASSERT_TRUE(stub_->Lookup(&lookup_context, lookup, &found).ok());
  EXPECT_EQ(found.id(), "far");
  EXPECT_EQ(found.address(), b->address());

  lookup.set_name("nobody");
  grpc::ClientContext missing_context;
  Bound(&missing_context);
  EXPECT_EQ(stub_->Lookup(&missing_context, lookup, &found).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::CounterAdd add;
  add.set_delta(7);
  ASSERT_TRUE(Tell(remote, Pack(add)).ok());
  EXPECT_EQ(CounterValue(remote), 7);

  v1::WatchRequest watch;
  *watch.mutable_target() = remote;
  grpc::ClientContext watch_context;
  Bound(&watch_context);
  auto reader = stub_->Watch(&watch_context, watch);
  reader->WaitForInitialMetadata();
  // B goes away: the watch through A says NODE_DOWN.
  b->Shutdown(absl::Seconds(1));
  v1::Terminated terminated;
  ASSERT_TRUE(reader->Read(&terminated));
  EXPECT_EQ(terminated.reason(), v1::NODE_DOWN);
  EXPECT_TRUE(reader->Finish().ok());

  // An ask to an actor of a node that is gone fails fast, not at its timeout.
  Any reply;
  const absl::Time start = absl::Now();
  grpc::Status gone =
      Ask(remote, Pack(v1::CounterGet()), &reply, absl::Seconds(8));
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::UNAVAILABLE)
      << gone.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
}

}  // namespace
}  // namespace troupe
