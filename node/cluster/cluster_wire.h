// The cluster on the wire, for nodes and clients alike (pure functions:
// thread-safe):
//   - the cluster actor's name, and the NameReply of its name requests
//     (README, "Cluster-wide names");
//   - identities' names (README, "Virtual actors"): an identity is a kind
//     and a key, "kind:key" in short; the ids that name it (its router,
//     @kind:key, which any node resolves; its host, @!kind:key, on the
//     member that runs it) and the names of its activations (kind:key#N).
//     What routes and activates is in identity.h.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/message.h"
#include "proto/cluster.pb.h"

namespace troupe {

// The cluster actor's name on every node (cluster.h): ask it a
// v1::MembersRequest, v1::RegisterName, v1::WhereIsName...
inline constexpr absl::string_view kClusterActorName = "troupe.cluster";

// A NameReply for `name`: `status`, and `ref` when given.
v1::NameReply MakeNameReply(const std::string& name, const absl::Status& status,
                            const v1::Pid* ref = nullptr);
// What an ask of a name request came to: the ref its NameReply carries, or
// the reply's error, or the ask's.
absl::StatusOr<v1::Pid> NameReplyRef(const absl::StatusOr<MessagePtr>& reply);

struct Identity {
  std::string kind;
  std::string key;
};

// INVALID_ARGUMENT unless `kind` is non-empty, without ':' and not
// starting with '!' or '@', and `key` is a valid actor name
// (ValidateActorName), together at most 200 bytes.
absl::Status ValidateIdentity(absl::string_view kind, absl::string_view key);

// The ids of the identity "kind:key"'s router and host.
std::string IdentityRouterId(absl::string_view identity);
std::string IdentityHostId(absl::string_view identity);

// The identity an activation is running (from its ctx.Self()), or nullopt
// for any other actor.
std::optional<Identity> IdentityOf(const ActorRef& activation);

}  // namespace troupe
