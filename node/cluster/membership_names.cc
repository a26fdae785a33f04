// MembershipActor's share of cluster-wide names (membership_actor.h): the
// registrant's side, the same for every provider.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/cluster/membership_actor.h"
#include "node/cluster/name_holder.h"
#include "node/runtime/logging.h"
#include "node/runtime/pid.h"

namespace troupe {
namespace {

bool SamePid(const v1::Pid& a, const v1::Pid& b) {
  return FromProto(a) == FromProto(b);
}

}  // namespace

// A ref of another node is registered by that node's cluster actor (the
// request goes on, keeping its sender, who gets the answer): only to a
// member UP here. Registering a name again for the same actor claims it
// again (it mends a holder that lost it).
void MembershipActor::OnRegister(ActorContext& ctx,
                                 const v1::RegisterName& request) {
  const std::string& name = request.name();
  if (absl::Status valid = ValidateActorName(name); !valid.ok()) {
    ctx.Reply(MakeNameReply(name, valid));
    return;
  }
  if (!request.has_ref()) {
    ctx.Reply(MakeNameReply(name, absl::InvalidArgumentError("no ref given")));
    return;
  }
  ActorRef ref = ctx.Ref(request.ref());
  if (ref.address() != ctx.Self().address()) {
    ForwardToMember(ctx, ref.address(), name);
    return;
  }
  if (ref.process()->IsTerminated()) {
    ctx.Reply(MakeNameReply(
        name, absl::NotFoundError(absl::StrCat(
                  "no such actor: ", ref.pid().ToString(), " is not alive"))));
    return;
  }
  const v1::Pid pid = ToProto(ref.pid());
  if (auto it = names_.find(name);
      it != names_.end() && !SamePid(it->second, pid)) {
    ctx.Reply(MakeNameReply(
        name, absl::AlreadyExistsError(NameTaken(name, it->second)),
        &it->second));
    return;
  }
  v1::NameClaim claim;
  claim.set_name(name);
  *claim.mutable_ref() = pid;
  claiming_.insert(name);
  ClaimName(ctx, claim, ctx.Sender());
}

void MembershipActor::ForwardToMember(ActorContext& ctx,
                                      const std::string& address,
                                      const std::string& name) {
  if (!table_->IsUp(address)) {
    ctx.Reply(MakeNameReply(
        name, absl::FailedPreconditionError(absl::StrCat(
                  "the actor's node ", address, " is not a member up at ",
                  ctx.Self().address()))));
    return;
  }
  ctx.Forward(ClusterPid(address, 0));
}

void MembershipActor::OnUnregister(ActorContext& ctx,
                                   const v1::UnregisterName& request) {
  if (!request.has_ref()) {
    ctx.Reply(MakeNameReply(request.name(),
                            absl::InvalidArgumentError("no ref given")));
    return;
  }
  ActorRef ref = ctx.Ref(request.ref());
  if (ref.address() != ctx.Self().address()) {
    ForwardToMember(ctx, ref.address(), request.name());
    return;
  }
  claiming_.erase(request.name());  // a claim under way is given up again
  auto it = names_.find(request.name());
  if (it == names_.end() || !SamePid(it->second, ToProto(ref.pid()))) {
    ctx.Reply(MakeNameReply(request.name(), absl::OkStatus()));
    return;
  }
  v1::NameRelease release;
  release.set_name(request.name());
  *release.mutable_ref() = it->second;
  names_.erase(it);
  ReleaseName(ctx, release, ctx.Sender());
}

void MembershipActor::NameClaimed(ActorContext& ctx,
                                  const v1::NameReply& result,
                                  const ActorRef& reply_to) {
  const bool registering = claiming_.erase(result.name()) > 0;
  auto it = names_.find(result.name());
  if (result.code() == 0) {
    if (registering || it != names_.end()) {
      names_[result.name()] = result.ref();
      ctx.Watch(result.ref());  // a dead one: Terminated at once, given up
    } else {                    // unregistered while it was claimed
      v1::NameRelease release;
      release.set_name(result.name());
      *release.mutable_ref() = result.ref();
      ReleaseName(ctx, release, ActorRef());
    }
  } else if (it != names_.end() &&
             result.code() ==
                 static_cast<int>(absl::StatusCode::kAlreadyExists) &&
             !SamePid(it->second, result.ref())) {
    Log(LogSeverity::kWarning, "cluster",
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

bool MembershipActor::IsNamed(const ActorRef& ref) const {
  const v1::Pid pid = ToProto(ref.pid());
  for (const auto& [name, named] : names_) {
    if (SamePid(named, pid)) {
      return true;
    }
  }
  return false;
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
    ReleaseName(ctx, release, ActorRef());
  }
  return !gone.empty();
}

}  // namespace troupe
