// MembershipActor's share of cluster-wide names (membership_actor.h): the
// registrant's side, the same for every provider.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/cluster/membership_actor.h"
#include "node/runtime/logging.h"
#include "node/runtime/pid.h"

namespace troupe {
namespace {

bool SamePid(const v1::Pid& a, const v1::Pid& b) {
  return FromProto(a) == FromProto(b);
}

}  // namespace

// A ref of another node is registered by that node's cluster actor (the
// request goes on, keeping its sender, who gets the answer).
void MembershipActor::OnRegister(ActorContext& ctx,
                                 const v1::RegisterName& request) {
  const std::string& name = request.name();
  if (absl::Status valid = ValidateActorName(name); !valid.ok()) {
    ctx.Reply(MakeNameReply(name, valid));
    return;
  }
  ActorRef ref = ctx.Ref(request.ref());
  if (!ref) {
    ctx.Reply(MakeNameReply(name, absl::InvalidArgumentError("no ref given")));
    return;
  }
  if (ref.address() != ctx.Self().address()) {
    ctx.Forward(ClusterPid(ref.address(), 0));
    return;
  }
  if (ref.process()->IsTerminated()) {
    ctx.Reply(MakeNameReply(
        name, absl::NotFoundError(absl::StrCat(
                  "no such actor: ", ref.pid().ToString(), " is not alive"))));
    return;
  }
  const v1::Pid pid = ToProto(ref.pid());
  if (auto it = names_.find(name); it != names_.end()) {
    ctx.Reply(SamePid(it->second, pid)
                  ? MakeNameReply(name, absl::OkStatus(), &pid)
                  : MakeNameReply(name,
                                  absl::AlreadyExistsError(absl::StrCat(
                                      "'", name, "' is registered to ",
                                      FromProto(it->second).ToString())),
                                  &it->second));
    return;
  }
  v1::NameClaim claim;
  claim.set_name(name);
  *claim.mutable_ref() = pid;
  ClaimName(ctx, claim, ctx.Sender());
}

void MembershipActor::OnUnregister(ActorContext& ctx,
                                   const v1::UnregisterName& request) {
  ActorRef ref = ctx.Ref(request.ref());
  if (ref && ref.address() != ctx.Self().address()) {
    ctx.Forward(ClusterPid(ref.address(), 0));
    return;
  }
  auto it = names_.find(request.name());
  if (it != names_.end() && ref && SamePid(it->second, ToProto(ref.pid()))) {
    v1::NameRelease release;
    release.set_name(request.name());
    *release.mutable_ref() = it->second;
    names_.erase(it);
    ReleaseName(ctx, release);
  }
  ctx.Reply(MakeNameReply(request.name(), absl::OkStatus()));
}

void MembershipActor::NameClaimed(ActorContext& ctx,
                                  const v1::NameReply& result,
                                  const ActorRef& reply_to) {
  if (result.code() == 0) {
    names_[result.name()] = result.ref();
    ctx.Watch(result.ref());  // a dead one: Terminated at once, given up
  } else if (auto it = names_.find(result.name());
             it != names_.end() &&
             result.code() ==
                 static_cast<int>(absl::StatusCode::kAlreadyExists) &&
             !SamePid(it->second, result.ref())) {
    Log(LogSeverity::kWarning,
        absl::StrCat("cluster: the name '", result.name(), "' of ",
                     FromProto(it->second).ToString(), " was lost to ",
                     FromProto(result.ref()).ToString(),
                     " (registered on both sides of a partition or a "
                     "membership change); register it again if needed"));
    names_.erase(it);
  }
  if (reply_to) {
    ctx.Tell(reply_to, result);
  }
}

bool MembershipActor::OnNamedEnded(ActorContext& ctx,
                                   const v1::Terminated& terminated) {
  std::vector<std::string> gone;
  for (const auto& [name, pid] : names_) {
    if (SamePid(pid, terminated.ref())) {
      gone.push_back(name);
    }
  }
  for (const std::string& name : gone) {
    v1::NameRelease release;
    release.set_name(name);
    *release.mutable_ref() = names_[name];
    names_.erase(name);
    ReleaseName(ctx, release);
  }
  return !gone.empty();
}

}  // namespace troupe
