// The streaming calls of the ActorService: Watch (one Terminated, then the
// stream ends) and Inbox (a Pid on this node whose messages stream to the
// client, which may tell through the same stream). Each stands in the
// actor system as a reply process, so remote actors reach it too.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/teller.h"
#include "node/service/rpc_counters.h"
#include "proto/troupe.grpc.pb.h"

namespace troupe {

// Counters the service reports in Stats.
struct ServiceCounters {
  std::atomic<uint64_t> messages_in{0};   // tells and asks from clients
  std::atomic<uint64_t> messages_out{0};  // replies, deliveries, notices
  // Where a stream's end is counted by method and code (may be null).
  RpcCounters* rpcs = nullptr;
  void CountEnd(const char* method, grpc::StatusCode code) const {
    if (rpcs != nullptr) {
      rpcs->Count(method, code);
    }
  }
};

// Starts a Watch of `target` for one call; the reactor deletes itself when
// the call is done. `system` must outlive the call.
grpc::ServerWriteReactor<v1::Terminated>* StartWatch(
    ActorSystem& system, std::shared_ptr<ServiceCounters> counters,
    const ActorRef& target);

// How a tell from a client becomes a send; the Inbox uses it for the tells
// on its stream, with the inbox as the default sender.
using TellFn = std::function<absl::Status(const v1::TellRequest& request,
                                          const ActorRef& default_sender)>;

// How an ask from a client starts (see ActorService's Ask): an error when
// the request is refused, else `done` is called once with the outcome.
using AskFn = std::function<absl::Status(const v1::AskRequest& request,
                                         AskCallback done)>;

// Starts an Inbox for one call; the reactor deletes itself when the call is
// done. At most `max_queued` deliveries wait for the client; more become
// dead letters.
grpc::ServerBidiReactor<v1::InboxRequest, v1::InboxEvent>* StartInbox(
    ActorSystem& system, std::shared_ptr<ServiceCounters> counters, TellFn tell,
    AskFn ask, size_t max_queued);

}  // namespace troupe
