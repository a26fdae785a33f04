#include "node/cluster/etcd_membership.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/etcd_session.h"
#include "node/cluster/etcd_store.h"
#include "node/cluster/identity_directory.h"
#include "node/cluster/membership_actor.h"
#include "node/runtime/logging.h"
#include "node/runtime/message.h"
#include "node/runtime/teller.h"
#include "proto/cluster.pb.h"

namespace troupe {

std::string EtcdMembersPrefix(const std::string& cluster) {
  return absl::StrCat("/troupe/", cluster, "/members/");
}

namespace {

class EtcdMembership final : public MembershipActor {
 public:
  EtcdMembership(ClusterOptions options, std::string leave_token,
                 std::shared_ptr<IdentityDirectory> directory,
                 std::shared_ptr<EtcdStore> store)
      : MembershipActor(std::move(options), std::move(leave_token), directory),
        directory_(std::move(directory)),
        store_(std::move(store)) {}

  // The session fences; the store's thread ends (before the system does).
  void Stopped(ActorContext& /*ctx*/) override {
    session_.reset();
    store_->Close();
  }

 private:
  void StartProvider(ActorContext& ctx) override {
    v1::Member self = *table().Find(table().self_address());
    session_ = StartEtcdSession(options(), std::move(self), ctx.Self(), token(),
                                store_, directory_);
    ctx.Tell(ctx.Self(), v1::ClusterRetry(),
             TellOptions{options().gossip_interval, options().gossip_interval});
  }

  // Only the session's own messages count (they carry the node's token).
  template <typename M>
  const M* FromSession(const Message& message) const {
    const M* typed = As<M>(message);
    return typed != nullptr && typed->token() == token() ? typed : nullptr;
  }

  void ReceiveProvider(ActorContext& ctx, const Message& message) override {
    if (const auto* members = FromSession<v1::EtcdMembers>(message)) {
      absl::flat_hash_set<std::string> registered;
      for (const v1::Member& member : members->members()) {
        registered.insert(member.address());
        Registered(ctx, member);
      }
      for (const v1::Member& member : table().Snapshot()) {
        if (!registered.contains(member.address())) {
          Gone(ctx, member.address());
        }
      }
    } else if (const auto* put = FromSession<v1::EtcdMemberPut>(message)) {
      Registered(ctx, put->member());
    } else if (const auto* deleted =
                   FromSession<v1::EtcdMemberDeleted>(message)) {
      Gone(ctx, deleted->address());
    } else if (const auto* claimed =
                   FromSession<v1::EtcdNameClaimed>(message)) {
      ActorRef reply_to;
      if (auto it = waiting_.find(claimed->request()); it != waiting_.end()) {
        reply_to = std::move(it->second);
        waiting_.erase(it);
      }
      NameClaimed(ctx, claimed->result(), reply_to);
    } else if (FromSession<v1::EtcdLease>(message) != nullptr ||
               Is<v1::ClusterRetry>(message)) {
      // A new lease (the names went with the last), or the periodic
      // claim again: a claim that failed (etcd unreachable) is mended
      // within gossip_interval (an idempotent transaction per name).
      for (const auto& [name, pid] : names()) {
        v1::NameClaim claim;
        claim.set_name(name);
        *claim.mutable_ref() = pid;
        ClaimName(ctx, claim, ActorRef());
      }
    } else if (const auto* left = FromSession<v1::EtcdLeft>(message)) {
      left_ = true;
      if (!left->error().empty()) {
        Log(LogSeverity::kWarning, "cluster",
            absl::StrCat("cluster: could not tell etcd this node leaves (",
                         left->error(),
                         "); the members see it DOWN once its lease expires"));
      }
      LeaveDone(ctx);
    }
  }

  void Registered(ActorContext& ctx, const v1::Member& member) {
    if (member.address() == table().self_address()) {
      return;
    }
    if (member.state() == v1::MEMBER_LEAVING &&
        !table().IsUp(member.address())) {
      return;  // not up here: it leaves before it is seen
    }
    Publish(ctx, table().HeardFrom(member.address(), member.incarnation(),
                                   absl::Now()));
    if (member.state() == v1::MEMBER_LEAVING) {
      table().Leaving(member.address(), member.incarnation(), absl::Now());
    }
  }

  void Gone(ActorContext& ctx, const std::string& address) {
    const v1::Member* known = table().Find(address);
    if (known == nullptr || address == table().self_address()) {
      return;
    }
    Publish(ctx, table().Down(address, known->incarnation(),
                              "its etcd registration ended (its lease "
                              "expired: it stopped renewing it)",
                              absl::Now()));
  }

  // Watches are of subscribers only.
  void OnWatchEnded(ActorContext& /*ctx*/,
                    const v1::Terminated& /*terminated*/) override {}

  // The session writes the leave to etcd (bounded by its calls' timeout;
  // the node's LocalCluster::Leave waits at most its own); a second leave
  // after the first is answered at once.
  void LeaveMembers(ActorContext& ctx, absl::Duration /*timeout*/) override {
    if (left_) {
      LeaveDone(ctx);
      return;
    }
    session_->Leave();
  }

  // --- Cluster-wide names on etcd: keys of the store (etcd_store.h). ---

  void ClaimName(ActorContext& ctx, const v1::NameClaim& claim,
                 ActorRef reply_to) override {
    uint64_t request = 0;
    if (reply_to) {
      request = ++requests_;
      waiting_[request] = std::move(reply_to);
    }
    store_->ClaimName(claim, [request, actor = ctx.Self(),
                              token = token()](v1::NameReply result) {
      v1::EtcdNameClaimed claimed;
      claimed.set_request(request);
      claimed.set_token(token);
      *claimed.mutable_result() = std::move(result);
      AnonymousTell(actor, std::move(claimed));
    });
  }

  void ReleaseName(ActorContext& /*ctx*/, const v1::NameRelease& release,
                   ActorRef reply_to) override {
    store_->ReleaseName(release, [reply_to](v1::NameReply result) {
      if (reply_to) {
        AnonymousTell(reply_to, std::move(result));
      }
    });
  }

  void FindName(ActorContext& /*ctx*/, const std::string& name,
                ActorRef reply_to) override {
    store_->FindName(name, [reply_to](v1::NameReply result) {
      AnonymousTell(reply_to, std::move(result));
    });
  }

  const std::shared_ptr<IdentityDirectory> directory_;
  const std::shared_ptr<EtcdStore> store_;
  absl::flat_hash_map<uint64_t, ActorRef> waiting_;
  uint64_t requests_ = 0;
  std::unique_ptr<EtcdSessionHandle> session_;
  bool left_ = false;
};

}  // namespace

std::unique_ptr<Actor> NewEtcdMembership(
    ClusterOptions options, std::string leave_token,
    std::shared_ptr<IdentityDirectory> directory,
    std::shared_ptr<EtcdStore> store) {
  return std::make_unique<EtcdMembership>(
      std::move(options), std::move(leave_token), std::move(directory),
      std::move(store));
}

}  // namespace troupe
