// The activator: spawn-by-kind and lookup-by-name on a node. The public
// ActorService runs requests for this node here, and every node server runs
// the activator actor (kActivatorName) that answers other nodes' requests
// (the activator protocol: node/runtime/activator_protocol.h), so one client
// connection, or one actor's ctx.SpawnOn, reaches the whole cluster over
// the node links.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/runtime/activator_protocol.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"
#include "node/service/kinds.h"
#include "proto/troupe.pb.h"

namespace troupe {

// Spawns `request.kind` on `system` (request.node is not looked at).
// NOT_FOUND listing the known kinds, INVALID_ARGUMENT for a bad name or
// init, ALREADY_EXISTS for a taken name (unless request.existing_ok: then
// the live actor of that name), UNIMPLEMENTED for a kind that does not
// serve request.service. Thread-safe.
absl::StatusOr<ActorRef> SpawnKind(ActorSystem& system,
                                   const KindRegistry& kinds,
                                   const v1::SpawnRequest& request,
                                   const SpawnOptions& options);

// The live actor named `name` on `system`, or NOT_FOUND.
absl::StatusOr<ActorRef> LookupName(ActorSystem& system,
                                    absl::string_view name);

// Spawns the activator actor on `system` (ALREADY_EXISTS if there is one);
// the actors it spawns get `options`. `kinds` must outlive `system`.
absl::Status StartActivator(ActorSystem& system, const KindRegistry& kinds,
                            const SpawnOptions& options);

using PidCallback = std::function<void(absl::StatusOr<v1::Pid>)>;

// Runs `request` (a v1::SpawnRequest or v1::LookupRequest; INVALID_ARGUMENT
// for anything else) on the node it names: here when it names no node or
// this one, else by asking that node's activator, waiting up to `timeout`
// (errors: ActivatorReply). `done` is called once, maybe on another thread.
// A spawn answers the new actor's exact Pid, a lookup a name-only one.
// Thread-safe.
void Activate(ActorSystem& system, const KindRegistry& kinds,
              const SpawnOptions& options, const Message& request,
              absl::Duration timeout, PidCallback done);

}  // namespace troupe
