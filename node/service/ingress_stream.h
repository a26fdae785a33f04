// IngressStream: one server-streaming call of an actor service over gRPC.
// The call's end in the cluster is a reply process (id "$stream-..."), the
// sender of the request the actor gets, and so the caller() of its
// ServerStream: items the actor sends to it are written to the gRPC
// stream in order; a CallStatus ends it.
//
// How a stream ends (README, "Streaming calls"):
//   - the actor closes it: the call ends with the actor's status (OK or
//     its error);
//   - the actor stops or fails with the stream open: ABORTED (its
//     ServerStream was let go), or, for an actor on a node that goes down,
//     UNAVAILABLE (the stream watches the actor);
//   - the request never reached an actor: its dead letter's status
//     (NOT_FOUND, UNAVAILABLE, RESOURCE_EXHAUSTED...);
//   - the caller cancels, or its deadline passes: the call ends there, the
//     reply process is gone (the actor's later items are dead letters), and
//     whoever watches it (the actor, through stream.caller()) gets
//     Terminated;
//   - the caller reads slower than the actor writes, and `max_queued` items
//     wait: RESOURCE_EXHAUSTED (nothing is dropped silently).
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <memory>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/message.h"

namespace troupe {

class StreamCore;

// The reactor of one such call: the method handler returns it, then calls
// Start (or Fail) once. Deletes itself when gRPC is done with it.
class IngressStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  // A call of `method` that writes at most `max_queued` items ahead of the
  // caller. `system` must outlive the call.
  IngressStream(ActorSystem& system,
                const google::protobuf::MethodDescriptor* method,
                size_t max_queued);
  ~IngressStream() override;

  // Sends `request` (a call of the method) to `target` with the reply
  // process as its sender, and watches `target` until the stream ends.
  // Thread-safe.
  void Start(const ActorRef& target, MessagePtr request);
  // Ends the call before it started (its target could not be found).
  void Fail(const absl::Status& status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  std::shared_ptr<StreamCore> core_;
};

}  // namespace troupe
