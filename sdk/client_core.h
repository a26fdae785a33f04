// ClientCore: what a Client shares with its refs and calls in flight (the
// channel, the inbox stream, the queue Receive reads, the calls to cancel
// on close). Internal to the SDK.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "node/remote/cluster_auth.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/inbox.h"
#include "node/runtime/sync.h"
#include "node/runtime/teller.h"
#include "node/runtime/timer_scheduler.h"
#include "proto/troupe.grpc.pb.h"
#include "sdk/client.h"

namespace troupe {

// gRPC's status as absl's (same codes, same message).
absl::Status FromGrpc(const grpc::Status& status);

class ClientCore final : public std::enable_shared_from_this<ClientCore> {
 public:
  explicit ClientCore(ClientOptions options);
  // Close().
  ~ClientCore();

  // Opens the inbox stream and waits (call_timeout) for the inbox's Pid.
  absl::Status Open();
  // Cancels every call in flight and waits for them to end (the inbox
  // stream always, the others up to 10 s). Idempotent.
  void Close();

  const v1::Pid& inbox() const { return inbox_; }
  const ClientOptions& options() const { return options_; }
  v1::ActorService::Stub& stub() { return *stub_; }
  TimerScheduler& timers() { return timers_; }

  // A ref whose messages go through this client.
  ActorRef RefFor(const Pid& pid);
  // A client context with the secret and `timeout` as deadline.
  void Prepare(grpc::ClientContext* context, absl::Duration timeout) const;
  // A unary call with call_timeout, its status as absl's.
  template <typename Request, typename Reply>
  absl::Status Call(grpc::Status (v1::ActorService::Stub::*method)(
                        grpc::ClientContext*, const Request&, Reply*),
                    const Request& request, Reply* reply) {
    grpc::ClientContext context;
    Prepare(&context, options_.call_timeout);
    return FromGrpc((stub_.get()->*method)(&context, request, reply));
  }

  // Sends on the inbox stream (in order); dropped with a log line once the
  // stream is gone.
  // The envelope's sender (unset for nobody or the inbox) and method (a
  // typed call) go with it.
  void SendTell(const Pid& target, const Envelope& envelope);
  // An ask on the inbox stream, in order with the tells before it; `done`
  // gets the reply, or the error (UNAVAILABLE if the stream ends first).
  // A typed call's method goes with it.
  void Ask(const Pid& target, const Envelope& envelope, absl::Duration timeout,
           AskCallback done);
  // A Watch call; the Terminated (or NODE_DOWN when the call breaks) is
  // queued for Receive.
  void Watch(const ActorRef& ref);
  // Stop without waiting (a ref's system Stop).
  void StopAsync(const Pid& target);

  // Queues what Receive returns.
  void Deliver(Inbox::Received received);
  absl::StatusOr<Inbox::Received> Receive(absl::Duration timeout);

  // --- For the calls in flight. ---
  // Registers a call to cancel on Close; false once closing.
  bool CallStarted(grpc::ClientContext* context);
  void CallEnded(grpc::ClientContext* context);
  // The inbox stream's events.
  void OnInboxPid(const v1::Pid& pid);
  void OnInboxEnded(const grpc::Status& status);
  void OnAskResult(const v1::AskResult& result);
  // Completes ask `id` with `status` unless it has completed.
  void FailAsk(uint64_t id, const absl::Status& status);
  bool closing() const;

 private:
  class InboxStream;

  const ClientOptions options_;
  const ClusterAuth auth_;  // the secret and TLS the calls carry
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ActorService::Stub> stub_;
  TimerScheduler timers_;
  v1::Pid inbox_;                        // set by Open, then fixed
  std::unique_ptr<InboxStream> stream_;  // set by Open

  mutable Mutex mu_;
  CondVar changed_;
  std::deque<Inbox::Received> received_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(mu_);
  bool have_pid_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status stream_status_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool asks_open_ ABSL_GUARDED_BY(mu_) = true;  // until the stream ends
  uint64_t last_ask_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, AskCallback> asks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace troupe
