// The transport under a link, as a small interface: the link's writer and
// state machine see calls to a peer, not gRPC. OutboundCall is the gRPC
// implementation (NodeLink.Connect on a channel); tests use an in-memory
// one (tests/node/remote:in_memory_link), so the writer, the state machine,
// remote watch and liveness run without gRPC, and under ThreadSanitizer.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "proto/troupe.pb.h"

namespace troupe {

// One call from this node to a peer.
class LinkCall {
 public:
  virtual ~LinkCall() = default;
  // Writes `frame`; returns its size in bytes, serialized. One write at a
  // time: the caller holds its writer's token until
  // LinkCallEvents::OnCallWriteDone. 0, writing nothing, once the call has
  // ended or its writes are closed.
  virtual size_t Write(const v1::Frame& frame) = 0;
  // Closes the writes after the one in flight (later writes fail); the
  // peer ends the call once it has read everything. Thread-safe,
  // idempotent.
  virtual void CloseWrites() = 0;
  // Ends the call now (OnCallDone follows). Thread-safe, idempotent.
  virtual void Cancel() = 0;
};

// What a call reports to its link, on the transport's threads (a write's
// completion and a read may be reported at the same time).
class LinkCallEvents {
 public:
  // A write finished; `ok` false when the call broke.
  virtual void OnCallWriteDone(LinkCall* call, bool ok) = 0;
  // The peer sent `frame`, of `bytes` serialized (its Hello first, then
  // heartbeats or a leave).
  virtual void OnCallFrame(LinkCall* call, const v1::Frame& frame,
                           size_t bytes) = 0;
  // The peer sent `bytes` that do not parse as a frame; the call reads on.
  virtual void OnCallMalformed(LinkCall* call, size_t bytes) = 0;
  // The call ended, once, after its last event; `status` OK when the peer
  // ended it.
  virtual void OnCallDone(LinkCall* call, const absl::Status& status) = 0;

 protected:
  ~LinkCallEvents() = default;
};

// Makes calls to one peer.
class LinkDialer {
 public:
  virtual ~LinkDialer() = default;
  // Starts a call whose first write is `hello` (its writer's token is held
  // for it: OnCallWriteDone follows). `events` is told of the call's life
  // until OnCallDone. Thread-safe.
  virtual std::shared_ptr<LinkCall> Dial(std::shared_ptr<LinkCallEvents> events,
                                         const v1::Frame& hello) = 0;
};

}  // namespace troupe
