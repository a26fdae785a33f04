// The cluster's names on the wire, for nodes and clients alike: the
// cluster actor's, and identities' (README, "Virtual actors"): an identity
// is a kind and a key, "kind:key" in short; the ids that name it (its
// router, @kind:key, which any node resolves; its host, @!kind:key, on the
// member that runs it) and the names of its activations (kind:key#N). Pure
// functions: thread-safe. What routes and activates is in identity.h.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "node/runtime/actor_ref.h"

namespace troupe {

// The cluster actor's name on every node (cluster.h): ask it a
// v1::MembersRequest, v1::RegisterName, v1::WhereIsName...
inline constexpr absl::string_view kClusterActorName = "troupe.cluster";

struct Identity {
  std::string kind;
  std::string key;
};

// INVALID_ARGUMENT unless `kind` is non-empty without ':' and `key` is a
// valid actor name (ValidateActorName), together at most 200 bytes.
absl::Status ValidateIdentity(absl::string_view kind, absl::string_view key);

// The ids of the identity "kind:key"'s router and host.
std::string IdentityRouterId(absl::string_view identity);
std::string IdentityHostId(absl::string_view identity);

// The identity an activation is running (from its ctx.Self()), or nullopt
// for any other actor.
std::optional<Identity> IdentityOf(const ActorRef& activation);

}  // namespace troupe
