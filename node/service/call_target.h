// CallTarget: which actor a typed call made over gRPC goes to, read from
// the call's metadata (README, "Typed actors over gRPC"):
//
//   troupe-actor: troupe://host:port/id   an actor anywhere in the cluster
//   troupe-actor: id                      an actor of the node called
//   troupe-kind: K  +  troupe-key: KEY    the virtual actor (K, KEY) of the
//                                         cluster (node/cluster/identity.h):
//                                         its one activation, on the member
//                                         that owns the key, made on first
//                                         use and passivated when idle
//   troupe-node: host:port                with kind and key: an actor named
//                                         "K:KEY" pinned to that node
//                                         instead (get-or-spawn)
//
// The kind is checked on the node called first: it must serve the call's
// service. The pinned rule: when no live actor has the name "K:KEY" on
// that node, one of kind K is spawned there with that name (no init), once
// that node has checked that K serves the service (SpawnRequest.service);
// calls racing to activate it reach the same actor
// (SpawnRequest.existing_ok). It lives until stopped.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"
#include "node/service/kinds.h"

namespace troupe {

// The metadata keys (gRPC metadata keys are lower case).
inline constexpr char kActorHeader[] = "troupe-actor";
inline constexpr char kKindHeader[] = "troupe-kind";
inline constexpr char kKeyHeader[] = "troupe-key";
inline constexpr char kNodeHeader[] = "troupe-node";

struct CallTarget {
  // Set for troupe-actor: the ref's text or a bare id.
  std::string actor;
  // Set for an identity.
  std::string kind;
  std::string key;
  std::string node;  // "" = the node called
};

// Reads the target from `metadata`; INVALID_ARGUMENT naming the headers a
// call must carry when it has neither form, both, or half an identity.
absl::StatusOr<CallTarget> ParseCallTarget(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata);

// The identity's actor name: "kind:key".
std::string IdentityName(const CallTarget& target);

// Finds the actor `target` names for a call of `service`, activating an
// identity; `done` gets its ref (at once, on this thread, for troupe-actor
// and for an identity of this node; later, maybe on another thread and
// after the call has ended, for an identity on another node). Errors:
// INVALID_ARGUMENT (a malformed ref or name), NOT_FOUND (no such actor on
// this node; an unknown kind, listing the known ones), UNIMPLEMENTED (a
// kind that does not serve `service`), and an activation's errors on
// another node (UNAVAILABLE, DEADLINE_EXCEEDED after `timeout`).
// Thread-safe.
void ResolveCallTarget(ActorSystem& system, const KindRegistry& kinds,
                       const SpawnOptions& options,
                       const google::protobuf::ServiceDescriptor* service,
                       const CallTarget& target, absl::Duration timeout,
                       std::function<void(absl::StatusOr<ActorRef>)> done);

}  // namespace troupe
