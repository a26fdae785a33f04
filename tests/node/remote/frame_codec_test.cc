// FrameEncoder and FrameDecoder: what one writes the other reads back (refs
// and types named once per frame), the peer's limits hold, and nothing a
// peer can put in a frame makes the decoder misbehave. No gRPC: runs under
// TSan and ASan.
#include "node/remote/frame_codec.h"

#include <memory>
#include <string>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/runtime/envelope.h"
#include "node/runtime/message.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

// A process of the peer, as the encoder sees one: a name and nothing else.
class PeerProcess final : public Process {
 public:
  PeerProcess(std::string id, uint64_t uid)
      : Process(MakeNodeAddress("10.0.0.2:7420"), std::move(id), 42, uid) {}
  void SendUser(EnvelopePtr) override {}
  void SendSystem(SystemMessagePtr) override {}
  bool IsTerminated() const override { return false; }
};

TEST(FrameCodecTest, WhatTheEncoderWritesTheDecoderReads) {
  auto a = std::make_shared<PeerProcess>("a", 7);
  auto b = std::make_shared<PeerProcess>("b", 8);
  FrameEncoder encoder{LinkOptions()};
  encoder.Clear();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        encoder.AddUser(*a, *MakeEnvelope(Text("hi"), ActorRef(b))).ok());
  }
  google::protobuf::Int64Value number;
  number.set_value(5);
  ASSERT_TRUE(encoder.AddUser(*b, *MakeEnvelope(number, ActorRef())).ok());
  encoder.AddControl(v1::STOP, *b);
  v1::Pid watched;
  watched.set_address("10.0.0.1:7420");
  watched.set_id("w");
  encoder.AddTerminated(watched, v1::NODE_DOWN);
  const v1::Frame& frame = encoder.frame();
  EXPECT_EQ(frame.refs_size(), 3) << "a, b once each, and the named pid";
  EXPECT_EQ(frame.types_size(), 2) << "each type once";

  FrameDecoder decoder(frame);
  ASSERT_EQ(decoder.size(), 6);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<FrameDecoder::Decoded> hi = decoder.Decode(i);
    ASSERT_TRUE(hi.ok()) << hi.status();
    EXPECT_EQ(hi->control, v1::USER);
    EXPECT_EQ(hi->target->id(), "a");
    EXPECT_EQ(hi->target->uid(), 7u);
    ASSERT_NE(hi->sender, nullptr);
    EXPECT_EQ(hi->sender->id(), "b");
    EXPECT_TRUE(hi->problem.empty());
    EXPECT_EQ(TextOf(*hi->message), "hi");
  }
  absl::StatusOr<FrameDecoder::Decoded> five = decoder.Decode(3);
  ASSERT_TRUE(five.ok());
  EXPECT_EQ(five->sender, nullptr);
  EXPECT_EQ(As<google::protobuf::Int64Value>(*five->message)->value(), 5);
  absl::StatusOr<FrameDecoder::Decoded> stop = decoder.Decode(4);
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(stop->control, v1::STOP);
  EXPECT_EQ(stop->target->id(), "b");
  absl::StatusOr<FrameDecoder::Decoded> ended = decoder.Decode(5);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->control, v1::TERMINATED);
  EXPECT_EQ(ended->target->id(), "w");
  EXPECT_EQ(ended->reason, v1::NODE_DOWN);
}

TEST(FrameCodecTest, AMalformedEnvelopeIsReportedAndTheRestStillReads) {
  v1::Frame frame;
  frame.add_refs()->set_id("a");
  frame.add_types("google.protobuf.StringValue");
  frame.add_types("no.such.Type");
  v1::Envelope* bad_ref = frame.add_envelopes();
  bad_ref->set_ref(9);
  v1::Envelope* bad_type = frame.add_envelopes();
  bad_type->set_ref(1);
  bad_type->set_type(3);
  v1::Envelope* unknown = frame.add_envelopes();
  unknown->set_ref(1);
  unknown->set_type(2);
  unknown->set_payload("bytes");
  v1::Envelope* garbage = frame.add_envelopes();
  garbage->set_ref(1);
  garbage->set_type(1);
  garbage->set_payload("\xff\xff\xff");
  garbage->set_sender(77);  // out of range: dropped, not fatal
  v1::Envelope* good = frame.add_envelopes();
  good->set_ref(1);
  good->set_type(1);
  good->set_payload(Text("ok").SerializeAsString());

  FrameDecoder decoder(frame);
  EXPECT_EQ(decoder.Decode(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(decoder.Decode(1).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<FrameDecoder::Decoded> not_linked = decoder.Decode(2);
  ASSERT_TRUE(not_linked.ok());
  EXPECT_NE(not_linked->problem.find("not linked"), std::string::npos);
  const auto* any = As<google::protobuf::Any>(*not_linked->message);
  ASSERT_NE(any, nullptr) << "the bytes are kept for the dead letter";
  EXPECT_EQ(any->type_url(), "type.googleapis.com/no.such.Type");
  EXPECT_EQ(any->value(), "bytes");
  absl::StatusOr<FrameDecoder::Decoded> unparsable = decoder.Decode(3);
  ASSERT_TRUE(unparsable.ok());
  EXPECT_NE(unparsable->problem.find("does not parse"), std::string::npos);
  EXPECT_EQ(unparsable->sender, nullptr);
  absl::StatusOr<FrameDecoder::Decoded> ok = decoder.Decode(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(TextOf(*ok->message), "ok");
}

TEST(FrameCodecTest, ATypedCallCarriesItsMethodByName) {
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          "troupe.v1.ActorService.Ask");
  ASSERT_NE(method, nullptr);
  auto a = std::make_shared<PeerProcess>("a", 7);
  FrameEncoder encoder{LinkOptions()};
  encoder.Clear();
  for (int i = 0; i < 2; ++i) {
    EnvelopePtr call = MakeEnvelope(v1::AskRequest(), ActorRef());
    call->method = method;
    ASSERT_TRUE(encoder.AddUser(*a, *call).ok());
  }
  ASSERT_TRUE(
      encoder.AddUser(*a, *MakeEnvelope(Text("plain"), ActorRef())).ok());
  v1::Frame frame = encoder.frame();
  EXPECT_EQ(frame.types_size(), 3) << "AskRequest, the method, StringValue";

  FrameDecoder decoder(frame);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<FrameDecoder::Decoded> decoded = decoder.Decode(i);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->method, method);
    EXPECT_TRUE(decoded->problem.empty()) << decoded->problem;
  }
  absl::StatusOr<FrameDecoder::Decoded> plain = decoder.Decode(2);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->method, nullptr);

  // A method this process does not link is a problem (a dead letter); an
  // index the frame lacks is malformed.
  v1::Frame unknown = frame;
  unknown.set_types(frame.envelopes(0).method() - 1, "no.Such.Method");
  FrameDecoder unknown_decoder(unknown);
  absl::StatusOr<FrameDecoder::Decoded> not_linked = unknown_decoder.Decode(0);
  ASSERT_TRUE(not_linked.ok());
  EXPECT_NE(not_linked->problem.find("no.Such.Method"), std::string::npos);
  unknown.mutable_envelopes(1)->set_method(99);
  FrameDecoder bad_decoder(unknown);
  EXPECT_EQ(bad_decoder.Decode(1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FrameCodecTest, ThePeersLimitsHold) {
  auto a = std::make_shared<PeerProcess>("a", 1);
  LinkOptions options;
  options.max_message_bytes = 1 << 20;
  FrameEncoder encoder(options);
  // The peer takes messages of 1 KiB at most, frames of 200 KiB.
  encoder.SetPeerLimits(1024, 200 << 10);
  encoder.Clear();
  const absl::Status too_large = encoder.AddUser(
      *a, *MakeEnvelope(Text(std::string(2000, 'x')), ActorRef()));
  EXPECT_EQ(too_large.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(too_large.message().find("receiving node"), std::string::npos);
  while (!encoder.full()) {
    ASSERT_TRUE(encoder
                    .AddUser(*a, *MakeEnvelope(Text(std::string(1000, 'y')),
                                               ActorRef()))
                    .ok());
  }
  EXPECT_LT(encoder.frame().ByteSizeLong(), size_t{200 << 10})
      << "a full frame is still under the peer's frame limit";
}

}  // namespace
}  // namespace troupe
