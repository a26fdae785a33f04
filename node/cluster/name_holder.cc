#include "node/cluster/name_holder.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/cluster_wire.h"
#include "node/runtime/system_messages.h"

namespace troupe {

std::string NameTaken(const std::string& name, const v1::Pid& holder) {
  return absl::StrCat("'", name, "' is registered to ",
                      FromProto(holder).ToString());
}

bool NameHolder::Live(const v1::Pid& pid) const {
  const v1::Member* member = table_.Find(pid.address());
  return member != nullptr && member->state() == v1::MEMBER_UP &&
         (pid.incarnation() == 0 || member->incarnation() == pid.incarnation());
}

v1::NameReply NameHolder::Hold(const v1::NameClaim& claim) {
  if (!Live(claim.ref())) {
    return MakeNameReply(claim.name(),
                         absl::UnavailableError(absl::StrCat(
                             "the actor's node ", claim.ref().address(),
                             " is not up at the member holding the name (",
                             table_.self_address(), ") yet")));
  }
  auto [it, added] = held_.try_emplace(claim.name(), claim.ref());
  if (added || FromProto(it->second) == FromProto(claim.ref()) ||
      !Live(it->second)) {
    it->second = claim.ref();
    return MakeNameReply(claim.name(), absl::OkStatus(), &claim.ref());
  }
  return MakeNameReply(
      claim.name(),
      absl::AlreadyExistsError(NameTaken(claim.name(), it->second)),
      &it->second);
}

void NameHolder::Release(const v1::NameRelease& release) {
  auto it = held_.find(release.name());
  if (it != held_.end() && FromProto(it->second) == FromProto(release.ref())) {
    held_.erase(it);
  }
}

v1::NameReply NameHolder::Find(const std::string& name) const {
  auto it = held_.find(name);
  if (it == held_.end() || !Live(it->second)) {
    return MakeNameReply(name, absl::NotFoundError(absl::StrCat(
                                   "no actor is registered as '", name,
                                   "' in cluster '", cluster_, "'")));
  }
  return MakeNameReply(name, absl::OkStatus(), &it->second);
}

void NameHolder::Prune(
    const std::function<bool(const std::string& name)>& mine) {
  absl::erase_if(held_, [&](const auto& entry) {
    return !Live(entry.second) || !mine(entry.first);
  });
}

}  // namespace troupe
