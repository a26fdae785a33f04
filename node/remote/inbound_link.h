// InboundLink: the server side of one NodeLink.Connect call, opened by a
// peer to send to this node. It checks the peer's Hello, answers with this
// node's, and delivers each later frame straight to the local mailboxes on
// the gRPC thread that read it (no hand-off). It keeps the peer's watches
// of local actors, sends heartbeats on the response stream, and declares
// the peer down when the call falls silent or the peer leaves.
//
// Bad input never ends the call: a frame that does not parse is logged and
// skipped; an envelope with a bad index is logged and skipped; a message of
// a type not linked into this node, or that does not parse, or for an
// actor that does not exist, becomes a dead letter (returned to its sender
// when it has one). Only a first frame that is not a Hello ends the call.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_callback.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "node/remote/liveness.h"
#include "node/remote/peer_counters.h"
#include "node/remote/round_trip.h"
#include "node/runtime/sync.h"
#include "proto/troupe.pb.h"

namespace troupe {

class FrameDelivery;
class Remoting;

class InboundLink final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // `remoting` null: the node is not ready (or is closing); the call is
  // refused with UNAVAILABLE. Deletes itself in OnDone.
  explicit InboundLink(Remoting* remoting);

  // The peer's advertised address; set once its Hello has been read
  // (before the link is registered with Remoting).
  const std::string& peer_address() const { return peer_address_; }

  // Sends a heartbeat if nothing was written since the last tick; when
  // `judge` and the handshake is overdue, or the peer has been silent for
  // too long on every call (its PeerLiveness, liveness.h), returns why it
  // should be declared down (the caller does it, outside its locks).
  std::optional<std::string> Tick(absl::Time now, bool judge);
  // Writes a leave frame (after the write in flight, if any). The call
  // stays open for reading: the peer, told, closes its writes after what
  // it already wrote.
  void SendLeave();
  // Ends the call with `status` (after a write in flight). Idempotent.
  void Close(const grpc::Status& status);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  ~InboundLink() override;
  // The first frame: a valid Hello, or the call ends.
  bool Handshake(const v1::Frame& frame);
  // Starts writing `frame` (stamped first by round_trip_) unless a write is
  // in flight or the call is ending; false when it did not.
  bool TryWrite(v1::Frame* frame) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Remoting* const remoting_;
  std::string peer_address_;  // set by the reading thread before Register
  std::unique_ptr<FrameDelivery> delivery_;  // set with peer_address_
  std::shared_ptr<PeerLiveness> peer_;       // set with peer_address_
  std::shared_ptr<PeerCounters> counters_;   // set with peer_address_
  bool registered_ = false;                  // read side only
  // This side of the call's round-trip measurement: heartbeats carry its
  // probes and echoes, the reading side reads them.
  RoundTrip round_trip_;
  grpc::ByteBuffer read_buffer_;
  v1::Frame read_frame_;

  mutable Mutex mu_;
  // The handshake, on this side: the Hello answered at hello_sent_; the
  // dialer's first frame after it (answered_) comes a round trip later at
  // the earliest. Until then the call is judged by the connect timeout,
  // not by the failure threshold; then by the peer's liveness, which
  // allows for that round trip.
  absl::Time hello_sent_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool answered_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ByteBuffer write_buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool leave_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool wrote_since_tick_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace troupe
