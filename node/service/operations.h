// Operations: ActorService.ListActors and Inspect for any node of the
// cluster (README "Operations"). The node called answers for itself
// directly; for another node it asks that node's troupe.operations actor
// (which every node server runs) over the node link, as Members does.
#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/runtime/actor_system.h"
#include "proto/operations.pb.h"

namespace troupe {

// The id of every node server's operations actor.
inline constexpr absl::string_view kOperationsName = "troupe.operations";

// Page sizes: 0 asks for kDefaultPageSize; more than kMaxPageSize is
// INVALID_ARGUMENT (a reply must stay well under the message limit: a
// listed actor takes ~60 bytes).
inline constexpr uint32_t kDefaultPageSize = 1000;
inline constexpr uint32_t kMaxPageSize = 10000;

// This node's answer to `request` (its node field is not looked at).
// INVALID_ARGUMENT for a page size over kMaxPageSize or a bad token.
// Thread-safe.
absl::StatusOr<v1::ListActorsReply> ListActorsHere(
    const ActorSystem& system, const v1::ListActorsRequest& request);
// This node's answer for the actor `id`; NOT_FOUND when none is alive.
absl::StatusOr<v1::InspectReply> InspectHere(const ActorSystem& system,
                                             absl::string_view id);

// Spawns the operations actor on `system` (ALREADY_EXISTS if there is
// one).
absl::Status StartOperations(ActorSystem& system);

template <typename Reply>
using OperationsCallback = std::function<void(absl::StatusOr<Reply>)>;

// Runs `request` on the node it names (its `node` field; "" = this one),
// waiting up to `timeout` for another node (UNAVAILABLE when it is down,
// unreachable or has no operations actor; DEADLINE_EXCEEDED). `done` is
// called once, maybe on another thread. Thread-safe.
void ListActorsOn(ActorSystem& system, const v1::ListActorsRequest& request,
                  absl::Duration timeout,
                  OperationsCallback<v1::ListActorsReply> done);
// The same for Inspect: the node is the ref's (troupe://host:port/id; an
// id alone: this node). INVALID_ARGUMENT for a ref that does not parse.
void InspectOn(ActorSystem& system, const v1::InspectRequest& request,
               absl::Duration timeout,
               OperationsCallback<v1::InspectReply> done);

}  // namespace troupe
