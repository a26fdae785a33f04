#include "node/cluster/cluster_wire.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "node/runtime/identity_resolver.h"
#include "node/runtime/pid.h"

namespace troupe {

v1::NameReply MakeNameReply(const std::string& name, const absl::Status& status,
                            const v1::Pid* ref) {
  v1::NameReply reply;
  reply.set_name(name);
  reply.set_code(static_cast<int32_t>(status.code()));
  reply.set_error(std::string(status.message()));
  if (ref != nullptr) {
    *reply.mutable_ref() = *ref;
  }
  return reply;
}

absl::StatusOr<v1::Pid> NameReplyRef(const absl::StatusOr<MessagePtr>& reply) {
  if (!reply.ok()) {
    return reply.status();
  }
  const auto* name = As<v1::NameReply>(**reply);
  if (name == nullptr) {
    return absl::InternalError("the cluster actor's answer is no NameReply");
  }
  if (name->code() != 0) {
    const bool known = name->code() > 0 && name->code() <= 16;
    return absl::Status(known ? static_cast<absl::StatusCode>(name->code())
                              : absl::StatusCode::kUnknown,
                        name->error());
  }
  return name->ref();
}

absl::Status ValidateIdentity(absl::string_view kind, absl::string_view key) {
  if (kind.empty() || kind.find(':') != absl::string_view::npos ||
      kind[0] == '!' || kind[0] == '@') {
    return absl::InvalidArgumentError(
        absl::StrCat("identity kind '", kind,
                     "' is empty, contains ':' or starts with '!' or '@'"));
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
