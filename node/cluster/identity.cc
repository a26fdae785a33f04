#include "node/cluster/identity.h"

#include "absl/strings/str_cat.h"
#include "node/cluster/cluster.h"
#include "node/cluster/identity_directory.h"
#include "node/runtime/pid.h"

namespace troupe {

absl::Status ValidateIdentity(absl::string_view kind, absl::string_view key) {
  if (kind.empty() || kind.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("identity kind '", kind, "' is empty or contains ':'"));
  }
  if (kind.size() + key.size() > 200) {
    return absl::InvalidArgumentError(
        "identity kind and key are longer than 200 bytes together");
  }
  if (absl::Status key_ok = ValidateActorName(key); !key_ok.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("identity key: ", key_ok.message()));
  }
  return ValidateActorName(kind);
}

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

std::optional<Identity> IdentityOf(const ActorRef& activation) {
  if (!activation) {
    return std::nullopt;
  }
  const std::string id = activation.pid().id;
  const size_t colon = id.find(':');
  const size_t hash = id.rfind('#');
  if (colon == absl::string_view::npos || hash == absl::string_view::npos ||
      hash < colon) {
    return std::nullopt;
  }
  return Identity{std::string(id.substr(0, colon)),
                  std::string(id.substr(colon + 1, hash - colon - 1))};
}

}  // namespace troupe
