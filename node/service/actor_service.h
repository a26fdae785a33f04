// ActorService: the public gRPC API of a node (proto/troupe.proto), for
// clients in any language. Spawn and Lookup run here or, when they name
// another node, on that node through the node links; Tell, Ask, Stop and
// Watch reach actors anywhere in the cluster through their refs.
#pragma once

#include <memory>

#include "absl/time/time.h"
#include "node/remote/node.h"
#include "node/service/kinds.h"
#include "proto/troupe.grpc.pb.h"

namespace troupe {

class RpcCounters;

struct ActorServiceOptions {
  // Ask's timeout when the request gives none.
  absl::Duration default_ask_timeout = absl::Seconds(5);
  // How long Spawn and Lookup on another node may take.
  absl::Duration forward_timeout = absl::Seconds(5);
  // Deliveries an Inbox stream holds for a slow client before the rest
  // become dead letters.
  size_t inbox_queue = 10'000;
  // Mailbox bound of the actors Spawn makes (0 = unbounded): messages
  // beyond it become dead letters, counted.
  size_t mailbox_capacity = 0;
  // Caller runs for typed unary calls (gRPC ingress): an actor of this node
  // that is idle when a call reaches it handles the call on the gRPC thread
  // that received it, which then sends the reply itself, instead of handing
  // it to a dispatcher worker (Dispatcher::CallerRuns; that thread begins
  // no further message after Dispatcher::kCallerRunSlice). At 16 calls in
  // flight on 2 cores, typed calls reach 84-87 % of a plain gRPC echo's
  // calls/s with it, 67-85 % without (README, "Typed actors", "Measured",
  // service_bench). Turn it off when actors called over gRPC may take more
  // than a few milliseconds per message, or block: gRPC's threads also
  // serve the node's links and must not be held (DESIGN.md, "never block in
  // a reaction").
  bool caller_runs = true;
  // Where finished calls are counted by method and code (the metrics'
  // troupe_rpc_calls_total); null = not counted. Must outlive the service.
  RpcCounters* rpc_counters = nullptr;
};

// Creates the service; Attach it to its node once the node has started
// (calls before that fail with UNAVAILABLE). `kinds` must outlive it.
std::unique_ptr<v1::ActorService::CallbackService> NewActorService(
    const KindRegistry* kinds, ActorServiceOptions options = {});

// Gives the service its node (null detaches it). Thread-safe.
void AttachActorService(v1::ActorService::CallbackService* service, Node* node);

}  // namespace troupe
