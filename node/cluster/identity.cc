#include "node/cluster/identity.h"

#include "absl/strings/str_cat.h"
#include "node/cluster/cluster.h"
#include "node/cluster/identity_directory.h"
#include "node/runtime/pid.h"

namespace troupe {

absl::StatusOr<ActorRef> GetIdentity(ActorSystem& system,
                                     absl::string_view kind,
                                     absl::string_view key) {
  if (absl::Status valid = ValidateIdentity(kind, key); !valid.ok()) {
    return valid;
  }
  if (!system.Lookup(kClusterActorName).ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the node at ", system.address(),
        " runs no cluster: virtual actors need one (StartCluster)"));
  }
  return system.Resolve(
      Pid{system.address(), IdentityRouterId(absl::StrCat(kind, ":", key))});
}

}  // namespace troupe
