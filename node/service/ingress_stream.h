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
//     (or 64 MiB) wait: RESOURCE_EXHAUSTED (nothing is dropped silently);
//   - the node detaches its ingress (it is shutting down): UNAVAILABLE.
// The items sent before an end the actor chose (its Close, its stop) are
// written first; an end decided here (a cancel, a slow reader, the node
// going) drops what is still queued.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/message.h"
#include "node/runtime/sync.h"
#include "node/service/rpc_counters.h"

namespace troupe {

class StreamCore;

// The streams of an ingress that are open, so a node that detaches its
// ingress (shutting down) ends them: UNAVAILABLE. Thread-safe.
class OpenStreams {
 public:
  // False (the stream is not kept) once EndAll has run, until Reopen.
  bool Add(const std::shared_ptr<StreamCore>& stream);
  void Remove(const StreamCore* stream);
  // Ends every open stream with `status`, and refuses new ones.
  void EndAll(const absl::Status& status);
  void Reopen();

 private:
  Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<const StreamCore*, std::weak_ptr<StreamCore>> streams_
      ABSL_GUARDED_BY(mu_);
};

// The reactor of one such call: the method handler returns it; its
// Starter (kept by whoever finds the target) starts or fails it once.
// Deletes itself when gRPC is done with it.
class IngressStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  // A call of `method` that writes at most `max_queued` items ahead of the
  // caller; its end is counted as `call`. `system`, `open` and what `call`
  // names must outlive the call.
  IngressStream(ActorSystem& system,
                const google::protobuf::MethodDescriptor* method,
                size_t max_queued, std::shared_ptr<OpenStreams> open,
                const RpcCall& call);
  ~IngressStream() override;

  // Starts or fails the call; valid after the reactor is gone (then it
  // does nothing). Thread-safe.
  class Starter {
   public:
    // Sends `request` (a call of the method) to `target` with the reply
    // process as its sender, and watches `target` until the stream ends.
    void Start(const ActorRef& target, MessagePtr request) const;
    // Ends the call before it started (its target could not be found).
    void Fail(const absl::Status& status) const;

   private:
    friend class IngressStream;
    explicit Starter(std::shared_ptr<StreamCore> core)
        : core_(std::move(core)) {}
    std::shared_ptr<StreamCore> core_;
  };
  Starter starter() const { return Starter(core_); }

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  std::shared_ptr<StreamCore> core_;
  std::shared_ptr<OpenStreams> open_;
};

}  // namespace troupe
