// The activator protocol: how one node asks another to spawn or look up an
// actor (SpawnOn, LookupOn, and ActorService calls that name another node).
// The request is a v1::SpawnRequest or v1::LookupRequest (naming its node),
// asked of the actor kActivatorName on that node; the answer is a v1::Pid
// or an AskFailure carrying the error (proto/troupe.proto). Every troupe
// node server runs an activator (node/service/activator.h). Pure functions:
// thread-safe.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/runtime/message.h"
#include "node/runtime/pid.h"
#include "node/runtime/system_messages.h"

namespace troupe {

// The id of every node's activator.
inline constexpr absl::string_view kActivatorName = "troupe.activator";

// A request to spawn `kind` named `name` ("" = generated) with `init`
// (packed into an Any; nullptr = none) on `node`.
v1::SpawnRequest SpawnRequestFor(absl::string_view node, absl::string_view kind,
                                 absl::string_view name, const Message* init);
// A request for the live actor named `name` on `node`.
v1::LookupRequest LookupRequestFor(absl::string_view node,
                                   absl::string_view name);
// The node a SpawnRequest or LookupRequest names; "" for anything else.
absl::string_view RequestNode(const Message& request);

// The activator that serves `request` for a node whose own address is
// `self`: the one of the node it names ("" = `self`), as a name-only Pid;
// INVALID_ARGUMENT when that is neither `self` nor host:port.
absl::StatusOr<Pid> ActivatorFor(const Message& request,
                                 absl::string_view self);

// What an ask of `node`'s activator came to: the Pid, or the error. The
// activator's own AskFailure code is checked, not trusted (0 or unknown
// becomes UNKNOWN). An ask that failed with NOT_FOUND means the node has
// no activator (not a node server): UNAVAILABLE, saying so. Any other ask
// error (node down, timeout, limits) is passed on with its code, the
// message naming the node.
absl::StatusOr<v1::Pid> ActivatorReply(absl::StatusOr<MessagePtr> reply,
                                       absl::string_view node);

// The same for an ask of any node-service actor named `actor` (the
// activator, troupe.operations): the answer for the caller to type-check,
// or the error, as above.
absl::StatusOr<MessagePtr> NodeActorReply(absl::StatusOr<MessagePtr> reply,
                                          absl::string_view node,
                                          absl::string_view actor);
// The AskFailure a node-service actor answers for `status` (not OK).
AskFailure FailureOf(const absl::Status& status);

}  // namespace troupe
