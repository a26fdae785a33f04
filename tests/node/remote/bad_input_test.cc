// A peer that sends garbage: frames that do not parse, unknown message
// types, payloads that do not parse, bad indexes, unknown actors. The node
// logs, turns what it can into dead letters, and keeps serving the link.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "node/remote/frame_codec.h"
#include "node/remote/grpc_frames.h"
#include "node/remote/node.h"
#include "node/runtime/inbox.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
#include "proto/troupe.grpc.pb.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using ::troupe::testing::Echo;
using ::troupe::testing::kWait;

// A raw NodeLink client: writes the given byte strings in order, then
// keeps the call open until destroyed.
class RawLink final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  RawLink(const std::string& address, std::vector<std::string> writes)
      : writes_(std::move(writes)) {
    channel_ = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
    stub_->PrepareBidiStreamingCall(&context_, "/troupe.v1.NodeLink/Connect",
                                    grpc::StubOptions(), this);
    AddHold();
    StartRead(&read_);
    WriteNext();
    StartCall();
  }
  ~RawLink() override {
    context_.TryCancel();
    done_.WaitForNotificationWithTimeout(kWait);
  }

  // True once every write was accepted by the transport.
  bool AwaitWritten() { return written_.WaitForNotificationWithTimeout(kWait); }

  bool ended() { return done_.HasBeenNotified(); }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      return;
    }
    WriteNext();
  }
  void OnReadDone(bool ok) override {
    if (ok) {
      StartRead(&read_);
    } else {
      RemoveHold();
    }
  }
  void OnDone(const grpc::Status& /*status*/) override { done_.Notify(); }

 private:
  void WriteNext() {
    if (next_ == writes_.size()) {
      written_.Notify();
      return;
    }
    grpc::Slice slice(writes_[next_]);
    ++next_;
    buffer_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&buffer_);
  }

  std::vector<std::string> writes_;
  size_t next_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  grpc::ClientContext context_;
  grpc::ByteBuffer buffer_;
  grpc::ByteBuffer read_;
  Notification written_;
  Notification done_;
};

// The server side of a raw peer: answers each call of a node's link with
// the byte strings set by Answer, in order (a Hello first, then whatever
// the test wants), then keeps the call open, reading, until destroyed.
class RawPeer {
 public:
  RawPeer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~RawPeer() { server_->Shutdown(std::chrono::system_clock::now()); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  static constexpr uint64_t kIncarnation = 78;
  // What later calls are answered with.
  void Answer(std::vector<std::string> writes) {
    service_.Answer(std::move(writes));
  }

 private:
  class Call final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Call(std::vector<std::string> writes)
        : writes_(std::move(writes)) {
      StartRead(&read_);
      WriteNext();
    }
    void OnWriteDone(bool ok) override {
      if (ok) {
        WriteNext();
      }
    }
    void OnReadDone(bool ok) override {
      if (ok) {
        StartRead(&read_);
      } else {
        Finish(grpc::Status::OK);
      }
    }
    void OnDone() override { delete this; }

   private:
    void WriteNext() {
      if (next_ == writes_.size()) {
        return;
      }
      grpc::Slice slice(writes_[next_++]);
      buffer_ = grpc::ByteBuffer(&slice, 1);
      StartWrite(&buffer_);
    }
    const std::vector<std::string> writes_;
    size_t next_ = 0;
    grpc::ByteBuffer buffer_;
    grpc::ByteBuffer read_;
  };
  class Service final : public grpc::CallbackGenericService {
   public:
    void Answer(std::vector<std::string> writes) {
      MutexLock lock(&mu_);
      writes_ = std::move(writes);
    }
    grpc::ServerGenericBidiReactor* CreateReactor(
        grpc::GenericCallbackServerContext* /*context*/) override {
      MutexLock lock(&mu_);
      return new Call(writes_);
    }

   private:
    Mutex mu_;
    std::vector<std::string> writes_ ABSL_GUARDED_BY(mu_);
  };

  Service service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// The server side of a peer that only counts: it answers a node's link
// with a Hello, a heartbeat after each frame it reads (so it is never
// silent while the node writes), and counts the TERMINATEDs it is sent.
class CountingPeer final : public v1::NodeLink::CallbackService {
 public:
  CountingPeer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  // Cuts the node's call to it (that call never ends by itself).
  ~CountingPeer() override {
    server_->Shutdown(std::chrono::system_clock::now());
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  static constexpr uint64_t kIncarnation = 77;

  bool AwaitTerminated(size_t n) {
    MutexLock lock(&mu_);
    want_ = n;
    return mu_.AwaitWithTimeout(absl::Condition(this, &CountingPeer::Enough),
                                kWait);
  }
  size_t terminated() {
    MutexLock lock(&mu_);
    return terminated_;
  }

  grpc::ServerBidiReactor<v1::Frame, v1::Frame>* Connect(
      grpc::CallbackServerContext* /*context*/) override {
    return new Call(this);
  }

 private:
  class Call final : public grpc::ServerBidiReactor<v1::Frame, v1::Frame> {
   public:
    explicit Call(CountingPeer* peer) : peer_(peer) {
      out_.mutable_hello()->set_address(peer->address());
      out_.mutable_hello()->set_incarnation(kIncarnation);
      writing_ = true;
      StartWrite(&out_);
      StartRead(&in_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      size_t count = 0;
      for (const v1::Envelope& envelope : in_.envelopes()) {
        count += envelope.control() == v1::TERMINATED ? 1 : 0;
      }
      peer_->Count(count);
      if (!writing_.exchange(true)) {
        out_.Clear();
        out_.set_heartbeat(true);
        StartWrite(&out_);
      }
      StartRead(&in_);
    }
    void OnWriteDone(bool /*ok*/) override { writing_ = false; }
    void OnDone() override { delete this; }

   private:
    CountingPeer* const peer_;
    v1::Frame in_;
    v1::Frame out_;
    std::atomic<bool> writing_{false};
  };

  void Count(size_t n) {
    MutexLock lock(&mu_);
    terminated_ += n;
  }
  bool Enough() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return terminated_ >= want_;
  }

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  Mutex mu_;
  size_t terminated_ ABSL_GUARDED_BY(mu_) = 0;
  size_t want_ ABSL_GUARDED_BY(mu_) = 0;
};

std::string Bytes(const v1::Frame& frame) { return frame.SerializeAsString(); }

absl::StatusOr<std::unique_ptr<Node>> StartNode() {
  NodeOptions options;
  options.system.threads = 2;
  return Node::Start(options);
}

// `from` asks the echo at `echo` and gets its answer.
void ExpectServes(Node& from, const Pid& echo) {
  auto answer =
      from.system().Ask(from.system().Resolve(echo), Text("ok?"), kWait).get();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(IsText(**answer, "ok?"));
}

TEST(BadInputTest, GarbageNeverEndsTheLinkOrTheNode) {
  auto a = StartNode();
  auto b = StartNode();
  ASSERT_TRUE(a.ok() && b.ok());
  auto echo = (*b)->system().Spawn(Echo(), "echo");
  ASSERT_TRUE(echo.ok());
  // Replies and dead letters come back to an inbox on A, over B's own
  // link to A: the raw link below speaks for A.
  Inbox inbox((*a)->system());

  v1::Frame hello;
  hello.mutable_hello()->set_address((*a)->address());
  hello.mutable_hello()->set_incarnation((*a)->incarnation());

  // One frame with: an unknown type, a payload that does not parse, a bad
  // ref index, an unknown actor, an unknown control, and finally a good
  // message, all from the inbox.
  v1::Frame frame;
  *frame.add_refs() = ToProto(echo->pid());
  *frame.add_refs() = ToProto(inbox.ref().pid());
  *frame.add_refs() = ToProto(Pid{(*b)->address(), "nobody-here", 0});
  frame.add_types("no.such.Type");
  frame.add_types("google.protobuf.StringValue");
  frame.add_types("troupe.v1.Pid");
  auto add = [&](uint32_t ref, uint32_t type, std::string payload) {
    v1::Envelope* envelope = frame.add_envelopes();
    envelope->set_ref(ref);
    envelope->set_sender(2);
    envelope->set_type(type);
    envelope->set_payload(std::move(payload));
    return envelope;
  };
  add(1, 1, "whatever");                         // unknown type: dead letter
  add(1, 3, std::string("\xff\xff\xff", 3));     // does not parse: dead letter
  add(99, 2, Text("lost").SerializeAsString());  // bad index: skipped
  add(1, 99, Text("lost").SerializeAsString());  // bad type: skipped
  add(3, 2, Text("to nobody").SerializeAsString());  // dead letter
  add(1, 2, Text("still here").SerializeAsString())
      ->set_control(static_cast<v1::Control>(42));    // unknown: skipped
  add(1, 2, Text("still here").SerializeAsString());  // delivered

  RawLink link((*b)->address(),
               {Bytes(hello), std::string("\x0a\xff\xff garbage", 11),
                std::string(100000, '\x07'), Bytes(frame)});
  ASSERT_TRUE(link.AwaitWritten());

  int dead_letters = 0;
  bool echoed = false;
  while (!echoed) {
    auto received = inbox.Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    if (const auto* letter = As<DeadLetter>(*received->message)) {
      ++dead_letters;
      if (dead_letters == 1) {
        EXPECT_EQ(letter->message().type_url(),
                  "type.googleapis.com/no.such.Type");
        EXPECT_EQ(letter->message().value(), "whatever");
      }
    } else {
      EXPECT_TRUE(IsText(*received->message, "still here"));
      echoed = true;
    }
  }
  EXPECT_EQ(dead_letters, 3);
  EXPECT_FALSE(link.ended());
  EXPECT_GE((*b)->remoting().stats().malformed, 4u);

  // The node goes on serving others.
  ExpectServes(**a, echo->pid());
}

// Garbage on the node's own link to a peer (the peer's side of the call):
// each frame is skipped, counted as malformed, and logged within the same
// one-a-second limit as garbage on the peer's link to the node; the link
// stays up. Before, these were logged without a limit and not counted.
TEST(BadInputTest, GarbageOnTheNodesOwnLinkIsCountedAndSkipped) {
  auto a = StartNode();
  ASSERT_TRUE(a.ok());
  RawPeer peer;
  v1::Frame hello;
  hello.mutable_hello()->set_address(peer.address());
  hello.mutable_hello()->set_incarnation(RawPeer::kIncarnation);
  peer.Answer({Bytes(hello), std::string("\x0a\xff\xff garbage", 11),
               std::string(1000, '\x07'), std::string("\x0a\xff", 2)});
  const uint64_t before = (*a)->remoting().stats().malformed;
  (*a)->system().Tell((*a)->system().Resolve(Pid{peer.address(), "x", 0}),
                      Text("hello"));
  const absl::Time deadline = absl::Now() + kWait;
  while ((*a)->remoting().stats().malformed < before + 3 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ((*a)->remoting().stats().malformed, before + 3);
  bool found = false;
  for (const EndpointStats& link : (*a)->remoting().stats().peers) {
    if (link.address == peer.address()) {
      found = true;
      EXPECT_EQ(link.downs, 0u);
      EXPECT_EQ(link.frames_received, 4u) << "the Hello and three skipped";
    }
  }
  EXPECT_TRUE(found);
}

TEST(BadInputTest, ALinkMustStartWithAHello) {
  auto b = StartNode();
  ASSERT_TRUE(b.ok());
  RawLink link((*b)->address(), {std::string("not a hello at all", 18)});
  // The call is refused (it ends), the node keeps serving.
  link.AwaitWritten();
  auto a = StartNode();
  ASSERT_TRUE(a.ok());
  auto echo = (*b)->system().Spawn(Echo(), "echo");
  ASSERT_TRUE(echo.ok());
  ExpectServes(**a, echo->pid());
}

// A peer watching 100,000 actors B never had, and refs that are not refs
// at all: every watch is answered with one TERMINATED (on B's own link to
// the peer), and the link and the node go on.
TEST(BadInputTest, HundredThousandWatchesOfUnknownIdsAreEachAnswered) {
  auto a = StartNode();
  auto b = StartNode();
  ASSERT_TRUE(a.ok() && b.ok());
  CountingPeer peer;

  v1::Frame hello;
  hello.mutable_hello()->set_address(peer.address());
  hello.mutable_hello()->set_incarnation(CountingPeer::kIncarnation);
  std::vector<std::string> writes = {Bytes(hello)};
  constexpr int kFrames = 10;
  constexpr int kPerFrame = 10000;
  for (int f = 0; f < kFrames; ++f) {
    v1::Frame frame;
    for (int i = 0; i < kPerFrame; ++i) {
      *frame.add_refs() =
          ToProto(Pid{(*b)->address(), absl::StrCat("nobody-", f, "-", i), 0});
      v1::Envelope* watch = frame.add_envelopes();
      watch->set_ref(i + 1);
      watch->set_control(v1::WATCH);
    }
    writes.push_back(Bytes(frame));
  }
  // Refs that name no node or no actor: each watch of them ends at once.
  v1::Frame bad;
  for (const auto& [address, id] :
       std::vector<std::pair<std::string, std::string>>{
           {"", "x"},
           {"no-port", "x"},
           {"127.0.0.1:0", "x"},
           {"127.0.0.1:99999", "x"},
           {(*b)->address(), ""}}) {
    v1::Pid* pid = bad.add_refs();
    pid->set_address(address);
    pid->set_id(id);
    v1::Envelope* watch = bad.add_envelopes();
    watch->set_ref(bad.refs_size());
    watch->set_control(v1::WATCH);
  }
  writes.push_back(Bytes(bad));
  constexpr size_t kWatches = kFrames * kPerFrame + 5;

  RawLink link((*b)->address(), std::move(writes));
  ASSERT_TRUE(link.AwaitWritten());
  ASSERT_TRUE(peer.AwaitTerminated(kWatches)) << peer.terminated();
  EXPECT_EQ(peer.terminated(), kWatches);
  EXPECT_FALSE(link.ended());
  EXPECT_EQ((*b)->system().stats().actors_alive, 0);

  auto echo = (*b)->system().Spawn(Echo(), "echo");
  ASSERT_TRUE(echo.ok());
  ExpectServes(**a, echo->pid());
}

}  // namespace
}  // namespace troupe
