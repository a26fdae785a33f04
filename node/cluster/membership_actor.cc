#include "node/cluster/membership_actor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/logging.h"
#include "node/runtime/message.h"
#include "proto/cluster.pb.h"

namespace troupe {

v1::Pid ClusterPid(absl::string_view address, uint64_t incarnation) {
  v1::Pid pid;
  pid.set_address(std::string(address));
  pid.set_id(std::string(kClusterActorName));
  pid.set_incarnation(incarnation);
  return pid;
}

MembershipActor::MembershipActor(ClusterOptions options,
                                 std::string leave_token,
                                 std::shared_ptr<IdentityDirectory> directory)
    : options_(std::move(options)),
      leave_token_(std::move(leave_token)),
      directory_(std::move(directory)) {}

absl::Status MembershipActor::Started(ActorContext& ctx) {
  table_ = std::make_unique<MemberTable>(
      ctx.Self().address(), ctx.Self().pid().incarnation, absl::Now());
  PlaceOnMembers();
  StartProvider(ctx);
  return absl::OkStatus();
}

absl::Status MembershipActor::Receive(ActorContext& ctx,
                                      const Message& message) {
  if (const auto* terminated = As<v1::Terminated>(message)) {
    // One watch per actor: a subscriber may be named too.
    const bool subscriber = subscribers_.erase(ctx.Ref(terminated->ref())) > 0;
    const bool named = OnNamedEnded(ctx, *terminated);
    if (!subscriber && !named) {
      OnWatchEnded(ctx, *terminated);
    }
  } else if (const auto* subscribe = As<v1::SubscribeMembers>(message)) {
    Subscribe(ctx, ctx.Ref(subscribe->subscriber()));
  } else if (const auto* unsubscribe = As<v1::UnsubscribeMembers>(message)) {
    ActorRef subscriber = ctx.Ref(unsubscribe->subscriber());
    if (subscribers_.erase(subscriber) > 0 && !IsNamed(subscriber)) {
      ctx.Unwatch(subscriber);  // a named one stays watched
    }
  } else if (const auto* registration = As<v1::RegisterName>(message)) {
    OnRegister(ctx, *registration);
  } else if (const auto* unregister = As<v1::UnregisterName>(message)) {
    OnUnregister(ctx, *unregister);
  } else if (const auto* where = As<v1::WhereIsName>(message)) {
    FindName(ctx, where->name(), ctx.Sender());
  } else if (Is<v1::MembersRequest>(message)) {
    v1::MembersReply reply;
    reply.set_node(ctx.Self().address());
    reply.set_cluster(options_.name);
    for (v1::Member& member : table_->Snapshot()) {
      *reply.add_members() = std::move(member);
    }
    ctx.Reply(std::move(reply));
  } else if (const auto* leave = As<v1::LeaveCluster>(message)) {
    if (leave->token() == leave_token_) {  // only the node itself
      table_->LeaveSelf(absl::Now());
      PlaceOnMembers();  // identities are placed on the others now
      leave_askers_.push_back(ctx.Sender());
      LeaveMembers(ctx, absl::Milliseconds(leave->timeout_ms()));
    }
  } else {
    ReceiveProvider(ctx, message);
  }
  return absl::OkStatus();
}

void MembershipActor::LeaveDone(ActorContext& ctx) {
  for (const ActorRef& asker : leave_askers_) {
    ctx.Tell(asker, v1::LeaveCluster());
  }
  leave_askers_.clear();
}

// A subscriber that subscribes again (restarted, say) gets the current
// members again.
void MembershipActor::Subscribe(ActorContext& ctx, const ActorRef& subscriber) {
  if (subscribers_.insert(subscriber).second) {
    ctx.Watch(subscriber);
  }
  v1::CurrentMembers current;
  current.set_cluster(options_.name);
  for (v1::Member& member : table_->Snapshot()) {
    *current.add_members() = std::move(member);
  }
  ctx.Tell(subscriber, std::move(current));
}

void MembershipActor::PlaceOnMembers() {
  up_.clear();
  for (const v1::Member& member : table_->Up()) {
    up_.push_back(member.address());
  }
  std::sort(up_.begin(), up_.end());
  directory_->SetMembers(up_);
}

void MembershipActor::Publish(ActorContext& ctx,
                              const std::vector<MemberEvent>& events) {
  if (!events.empty()) {
    PlaceOnMembers();
    MembersChanged(ctx);
  }
  for (const MemberEvent& event : events) {
    Log(LogSeverity::kInfo, "cluster",
        absl::StrCat(
            "cluster: member ", event.member.address(), " ",
            event.up ? "up" : "down",
            event.up ? "" : absl::StrCat(" (", event.member.reason(), ")")));
    for (const ActorRef& subscriber : subscribers_) {
      if (event.up) {
        v1::MemberUp up;
        *up.mutable_member() = event.member;
        ctx.Tell(subscriber, std::move(up));
      } else {
        v1::MemberDown down;
        *down.mutable_member() = event.member;
        ctx.Tell(subscriber, std::move(down));
      }
    }
  }
}

}  // namespace troupe
