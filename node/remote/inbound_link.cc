#include "node/remote/inbound_link.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/any.pb.h"
#include "node/remote/endpoint.h"
#include "node/remote/frame_delivery.h"
#include "node/remote/grpc_frames.h"
#include "node/remote/remoting.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/envelope.h"
#include "node/runtime/system_messages.h"

namespace troupe {

InboundLink::InboundLink(Remoting* remoting) : remoting_(remoting) {
  if (remoting_ == nullptr || remoting_->closing()) {
    Close(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                       "this node is not accepting links (starting or "
                       "shutting down)"));
    return;
  }
  StartRead(&read_buffer_);
}

InboundLink::~InboundLink() = default;

void InboundLink::OnReadDone(bool ok) {
  if (!ok) {
    Close(grpc::Status::OK);  // the peer ended its side or went away
    return;
  }
  const bool parsed = ParseFrame(&read_buffer_, &read_frame_);
  if (registered_) {
    // Before the handshake the peer is unknown: its Hello starts the
    // record (PeerLiveness::Restart).
    const absl::Time now = remoting_->Now();
    peer_->Heard(now);
    MutexLock lock(&mu_);
    if (!answered_) {
      answered_ = true;
      peer_->NoteRoundTrip(now - hello_sent_);
    }
  }
  if (!registered_) {
    if (!parsed || !Handshake(read_frame_)) {
      Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         "the first frame of a NodeLink call must be a "
                         "Hello naming the caller's host:port"));
      return;
    }
  } else if (!parsed) {
    remoting_->ReportMalformed(
        peer_address_,
        absl::StrCat("skipped a frame of ", read_buffer_.Length(),
                     " bytes that does not parse"));
  } else {
    delivery_->Deliver(read_frame_);
    if (read_frame_.leave()) {
      remoting_->PeerDown(peer_address_, "it left the cluster",
                          /*left=*/true);
    }
  }
  MutexLock lock(&mu_);
  if (!finishing_) {
    StartRead(&read_buffer_);
  }
}

bool InboundLink::Handshake(const v1::Frame& frame) {
  if (!frame.has_hello() || !IsNodeAddress(frame.hello().address())) {
    return false;
  }
  peer_address_ = frame.hello().address();
  delivery_ = std::make_unique<FrameDelivery>(remoting_, peer_address_,
                                              frame.hello().incarnation());
  peer_ = remoting_->LivenessOf(peer_address_);
  registered_ = true;
  {
    // Before the link is registered: the detector's tick, from then on,
    // judges the handshake from this time.
    const absl::Time now = remoting_->Now();
    peer_->Restart(now);
    MutexLock lock(&mu_);
    hello_sent_ = now;
  }
  remoting_->AddInbound(this);
  v1::Frame reply;
  *reply.mutable_hello() = remoting_->hello();
  MutexLock lock(&mu_);
  TryWrite(reply);
  return true;
}

bool InboundLink::TryWrite(const v1::Frame& frame) {
  if (writing_ || finishing_) {
    return false;
  }
  SerializeFrame(frame, &write_buffer_);
  writing_ = true;
  wrote_since_tick_ = true;
  StartWrite(&write_buffer_);
  return true;
}

std::optional<std::string> InboundLink::Tick(absl::Time now, bool judge) {
  MutexLock lock(&mu_);
  if (finishing_) {
    return std::nullopt;
  }
  if (!answered_) {
    // The dialer speaks again only once our Hello has reached it: a round
    // trip, which on a long path is longer than the failure threshold.
    const absl::Duration timeout = remoting_->options().connect_timeout;
    if (judge && now - hello_sent_ > timeout) {
      return absl::StrCat("no frame after the handshake within ",
                          absl::FormatDuration(timeout),
                          " (--connect_timeout; the path is slow, or the "
                          "node is frozen)");
    }
  } else if (judge) {
    if (std::optional<std::string> why =
            peer_->Judge(now, remoting_->options())) {
      return why;
    }
  }
  if (!wrote_since_tick_) {
    v1::Frame heartbeat;
    heartbeat.set_heartbeat(true);
    TryWrite(heartbeat);
  }
  wrote_since_tick_ = false;
  return std::nullopt;
}

void InboundLink::SendLeave() {
  v1::Frame leave;
  leave.set_leave(true);
  MutexLock lock(&mu_);
  if (!TryWrite(leave) && !finishing_) {
    leave_pending_ = true;  // after the write in flight
  }
}

void InboundLink::Close(const grpc::Status& status) {
  MutexLock lock(&mu_);
  if (finishing_) {
    return;
  }
  finishing_ = true;
  finish_status_ = status;
  if (!writing_) {
    finished_ = true;
    Finish(status);
  }
}

void InboundLink::OnWriteDone(bool /*ok*/) {
  MutexLock lock(&mu_);
  writing_ = false;
  if (leave_pending_) {
    leave_pending_ = false;
    v1::Frame leave;
    leave.set_leave(true);
    TryWrite(leave);
  }
  if (finishing_ && !finished_) {
    finished_ = true;
    Finish(finish_status_);
  }
}

void InboundLink::OnDone() {
  if (registered_) {
    remoting_->RemoveInbound(this);
  }
  delivery_.reset();  // the peer's watches end with its link
  delete this;
}

}  // namespace troupe
