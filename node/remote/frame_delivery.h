// FrameDelivery: what a node does with the frames one peer sends it. User
// messages go to the local actors they name; STOP stops one; WATCH and
// UNWATCH keep the peer's watches of local actors (answered with TERMINATED
// when the actor ends); TERMINATED ends this node's watches of the peer's
// actors. Anything malformed (a bad index, an unknown type or control, a
// payload that does not parse) is reported and becomes a dead letter; the
// rest of the frame is still delivered. This is the code every byte from a
// peer reaches, so it is also what tests/fuzz/frame_fuzzer runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "node/remote/peer_counters.h"
#include "proto/troupe.pb.h"

namespace troupe {

class InboundWatches;
class Remoting;

class FrameDelivery {
 public:
  // `remoting` must outlive this.
  FrameDelivery(Remoting* remoting, std::string peer_address,
                uint64_t peer_incarnation);
  // Ends the peer's watches (unwatches their targets).
  ~FrameDelivery();
  FrameDelivery(const FrameDelivery&) = delete;
  FrameDelivery& operator=(const FrameDelivery&) = delete;

  // Delivers one frame's envelopes, counting each user message in
  // `counters` (the peer's record) before it is delivered. Frames of one
  // peer are delivered one at a time (not thread-safe).
  void Deliver(const v1::Frame& frame, PeerCounters& counters);

 private:
  Remoting* const remoting_;
  const std::string peer_address_;
  const uint64_t peer_incarnation_;
  // Shared with the stand-in watchers, which outlive a link.
  const std::shared_ptr<InboundWatches> watches_;
};

}  // namespace troupe
