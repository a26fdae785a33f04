// Spawn-by-kind and lookup-by-name on a node, for the public ActorService:
// done here for this node, and through the "troupe.node" actor every node
// server runs for requests that name another node (so one client connection
// reaches the whole cluster over the node links).
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"
#include "node/service/kinds.h"
#include "proto/troupe.pb.h"

namespace troupe {

// The id of the actor that serves other nodes' spawn and lookup requests.
inline constexpr absl::string_view kNodeActorName = "troupe.node";

// The node actor of the node at `node` (host:port).
ActorRef NodeActorOf(ActorSystem& system, absl::string_view node);

// Spawns `request.kind` on `system` (request.node is not looked at).
// NOT_FOUND listing the known kinds, INVALID_ARGUMENT for a bad name or
// init, ALREADY_EXISTS for a taken name. Thread-safe.
absl::StatusOr<ActorRef> SpawnKind(ActorSystem& system,
                                   const KindRegistry& kinds,
                                   const v1::SpawnRequest& request,
                                   const SpawnOptions& options);

// The live actor named `name` on `system`, or NOT_FOUND.
absl::StatusOr<ActorRef> LookupName(ActorSystem& system,
                                    absl::string_view name);

// Spawns the node actor on `system` (ALREADY_EXISTS if there is one); the
// actors it spawns get `options`.
absl::Status StartNodeActor(ActorSystem& system, const KindRegistry& kinds,
                            const SpawnOptions& options);

using PidCallback = std::function<void(absl::StatusOr<v1::Pid>)>;

// Runs `request` (a SpawnRequest or LookupRequest) on the node it names:
// here when it names no node or this one, else by asking that node's node
// actor, waiting up to `timeout` (UNAVAILABLE when the node is down).
// `done` is called once, maybe on another thread. Thread-safe.
void SpawnOrLookupOnNode(ActorSystem& system, const KindRegistry& kinds,
                         const SpawnOptions& options,
                         const google::protobuf::Message& request,
                         absl::Duration timeout, PidCallback done);

}  // namespace troupe
