// A peer that sends garbage: frames that do not parse, unknown message
// types, payloads that do not parse, bad indexes, unknown actors. The node
// logs, turns what it can into dead letters, and keeps serving the link.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/remote/node.h"
#include "node/remote/wire_codec.h"
#include "node/runtime/inbox.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
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

std::string Bytes(const v1::Frame& frame) { return frame.SerializeAsString(); }

TEST(BadInputTest, GarbageNeverEndsTheLinkOrTheNode) {
  NodeOptions options;
  options.system.threads = 2;
  auto a = Node::Start(options);
  auto b = Node::Start(options);
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
  add(1, 1, "whatever");                     // unknown type: dead letter
  add(1, 3, std::string("\xff\xff\xff", 3));  // does not parse: dead letter
  add(99, 2, Text("lost").SerializeAsString());  // bad index: skipped
  add(1, 99, Text("lost").SerializeAsString());  // bad type: skipped
  add(3, 2, Text("to nobody").SerializeAsString());  // dead letter
  add(1, 2, Text("still here").SerializeAsString())
      ->set_control(static_cast<v1::Control>(42));  // unknown: skipped
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
  auto answer =
      (*a)->system().Ask((*a)->system().Resolve(echo->pid()), Text("ok?"), kWait)
          .get();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(IsText(**answer, "ok?"));
}

TEST(BadInputTest, ALinkMustStartWithAHello) {
  NodeOptions options;
  options.system.threads = 1;
  auto b = Node::Start(options);
  ASSERT_TRUE(b.ok());
  RawLink link((*b)->address(), {std::string("not a hello at all", 18)});
  // The call is refused (it ends), the node keeps serving.
  link.AwaitWritten();
  auto a = Node::Start(options);
  ASSERT_TRUE(a.ok());
  auto echo = (*b)->system().Spawn(Echo(), "echo");
  ASSERT_TRUE(echo.ok());
  auto answer =
      (*a)->system().Ask((*a)->system().Resolve(echo->pid()), Text("ok?"), kWait)
          .get();
  ASSERT_TRUE(answer.ok()) << answer.status();
}

}  // namespace
}  // namespace troupe
