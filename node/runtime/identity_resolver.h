// IdentityResolver: the runtime's hook for virtual actors (README,
// "Virtual actors"). Ids that begin with kIdentityIdPrefix name an
// identity, not an actor: a node's cluster (node/cluster) installs a
// resolver, and a local id of that form that no live actor has is resolved
// by it (to a process that routes to the identity's activation, making it
// when needed). Without a resolver such ids are dead letters, as any
// unknown id.
#pragma once

#include "absl/strings/string_view.h"
#include "node/runtime/actor_ref.h"

namespace troupe {

// The first character of an identity's ids; actor names may not begin with
// it (ValidateActorName).
inline constexpr char kIdentityIdPrefix = '@';

class IdentityResolver {
 public:
  virtual ~IdentityResolver() = default;
  // A ref for the local id `id` (which begins with kIdentityIdPrefix), or
  // a null ref when `id` names no identity (a dead letter then).
  // Thread-safe; called on the paths that resolve refs (sends from other
  // nodes among them), so it must not block.
  virtual ActorRef ResolveIdentity(absl::string_view id) = 0;
};

}  // namespace troupe
