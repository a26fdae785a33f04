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

InboundLink::InboundLink(Remoting* remoting)
    : remoting_(remoting),
      round_trip_(remoting != nullptr ? remoting->clock() : Clock::Real()) {
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
  const size_t bytes = read_buffer_.Length();
  const bool parsed = ParseFrame(&read_buffer_, &read_frame_);
  if (registered_) {
    counters_->Add(counters_->frames_received);
    counters_->Add(counters_->bytes_received, bytes);
    // Before the handshake the peer is unknown: its Hello starts the
    // record (PeerLiveness::Restart).
    const absl::Time now = remoting_->Now();
    peer_->Heard(now);
    if (parsed) {
      if (std::optional<absl::Duration> sample =
              round_trip_.Read(read_frame_, now)) {
        peer_->NoteRoundTrip(*sample);
      }
    }
    MutexLock lock(&mu_);
    if (!answered_) {
      answered_ = true;
      peer_->NoteHandshake(now - hello_sent_);
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
    remoting_->ReportMalformedFrame(peer_address_, bytes);
  } else {
    delivery_->Deliver(read_frame_, *counters_);
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
  counters_ = remoting_->CountersOf(peer_address_);
  counters_->linked.store(true, std::memory_order_relaxed);
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
  TryWrite(&reply);
  return true;
}

bool InboundLink::TryWrite(v1::Frame* frame) {
  if (writing_ || finishing_) {
    return false;
  }
  round_trip_.Stamp(frame);
  SerializeFrame(*frame, &write_buffer_);
  if (counters_ != nullptr) {
    counters_->Add(counters_->frames_sent);
    counters_->Add(counters_->bytes_sent, write_buffer_.Length());
  }
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
  if (answered_) {
    round_trip_.RequestProbe();
  }
  if (!wrote_since_tick_) {
    v1::Frame heartbeat;
    heartbeat.set_heartbeat(true);
    TryWrite(&heartbeat);
  }
  wrote_since_tick_ = false;
  return std::nullopt;
}

void InboundLink::SendLeave() {
  v1::Frame leave;
  leave.set_leave(true);
  MutexLock lock(&mu_);
  if (!TryWrite(&leave) && !finishing_) {
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
    TryWrite(&leave);
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
