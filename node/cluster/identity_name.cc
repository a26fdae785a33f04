#include "node/cluster/identity_name.h"

#include "absl/strings/str_cat.h"
#include "node/runtime/identity_resolver.h"
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

std::string IdentityRouterId(absl::string_view identity) {
  return absl::StrCat(std::string(1, kIdentityIdPrefix), identity);
}

std::string IdentityHostId(absl::string_view identity) {
  return absl::StrCat(std::string(1, kIdentityIdPrefix), "!", identity);
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
