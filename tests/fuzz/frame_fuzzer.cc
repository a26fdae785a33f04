// Fuzzes what a node does with the bytes a peer sends on a node link: the
// frame decoder (ParseFrame) and, for what parses, FrameDelivery — the same
// code an InboundLink runs — against a real node with a few actors. Any
// crash, sanitizer report or hang is a bug: a peer must never take a node
// down.
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "google/protobuf/stubs/logging.h"
#include "node/remote/frame_codec.h"
#include "node/remote/frame_delivery.h"
#include "node/remote/grpc_frames.h"
#include "node/remote/node.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/logging.h"

namespace {

// The node lives for the whole run (reachable from here, so not a leak);
// the peer is an address nobody answers at.
troupe::Node* TheNode() {
  static troupe::Node* const node = [] {
    troupe::SetMinLogSeverity(troupe::LogSeverity::kError);
    google::protobuf::SetLogHandler(nullptr);  // parse errors are expected
    auto started = troupe::Node::Start(troupe::NodeOptions());
    if (!started.ok()) {
      __builtin_trap();
    }
    troupe::ActorSystem& system = (*started)->system();
    // Targets for the fuzzer to find: an echo (replies go back to the peer)
    // and an actor that stops on "stop".
    (void)system.Spawn(troupe::FromBehavior([](troupe::ActorContext& ctx,
                                               const troupe::Message& m) {
                         ctx.Reply(troupe::CloneMessage(m));
                         return absl::OkStatus();
                       }),
                       "echo");
    (void)system.Spawn(troupe::FromBehavior([](troupe::ActorContext& ctx,
                                               const troupe::Message& m) {
                         if (troupe::IsText(m, "stop")) {
                           ctx.Stop();
                         }
                         return absl::OkStatus();
                       }),
                       "sink");
    return started->release();
  }();
  return node;
}

troupe::FrameDelivery& Delivery() {
  static troupe::FrameDelivery* const delivery =
      new troupe::FrameDelivery(&TheNode()->remoting(), "127.0.0.1:1", 1);
  return *delivery;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  troupe::FrameDelivery& delivery = Delivery();
  grpc::Slice slice(data, size);
  grpc::ByteBuffer buffer(&slice, 1);
  troupe::v1::Frame frame;
  if (troupe::ParseFrame(&buffer, &frame)) {
    static troupe::PeerCounters* const counters = new troupe::PeerCounters();
    delivery.Deliver(frame, *counters);
  }
  return 0;
}
