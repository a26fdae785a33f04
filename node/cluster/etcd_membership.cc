#include "node/cluster/etcd_membership.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "node/cluster/etcd_client.h"
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

// The thread that talks to etcd for one node: register under a lease, keep
// it alive, read and watch the members, and tell the cluster actor what it
// learns. Its own thread, so the actor never blocks on etcd.
class EtcdSession {
 public:
  EtcdSession(const ClusterOptions& options, v1::Member self, ActorRef actor)
      : client_(options.etcd),
        prefix_(EtcdMembersPrefix(options.name)),
        ttl_(options.lease_ttl),
        self_(std::move(self)),
        actor_(std::move(actor)),
        thread_([this] { Run(); }) {}

  ~EtcdSession() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

  // Registers this node LEAVING, then revokes its lease; the actor hears
  // EtcdLeft. Thread-safe.
  void Leave() {
    absl::MutexLock lock(&mu_);
    leave_requested_ = true;
  }

 private:
  // Waits up to `wait` for a stop, a leave or a watch's end; true while the
  // session should go on.
  bool Pause(absl::Duration wait) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(
        absl::Condition(
            +[](EtcdSession* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
              return s->stopping_ || s->leave_requested_ || s->watch_ended_;
            },
            this),
        wait);
    return !stopping_;
  }

  void Trouble(const absl::Status& status) {
    log_.Log(LogSeverity::kWarning,
             absl::StrCat("cluster: etcd at ", client_.endpoint(), ": ",
                          status.message(), "; trying again"));
  }

  // One session after another: lease, registration, members, watch, then
  // keep-alives until the lease is lost (register again) or the watch ends
  // (read again).
  void Run() {
    absl::Duration backoff = absl::Milliseconds(100);
    int64_t lease = 0;
    while (Pause(absl::ZeroDuration())) {
      if (LeaveIfAsked(lease)) {
        return;
      }
      {
        absl::MutexLock lock(&mu_);
        watch_ended_ = false;  // a new watch below
      }
      if (lease == 0) {
        absl::StatusOr<int64_t> granted = client_.GrantLease(ttl_);
        v1::Member registered = self_;
        absl::Status put =
            granted.ok() ? client_.Put(prefix_ + self_.address(),
                                       registered.SerializeAsString(), *granted)
                         : granted.status();
        if (!put.ok()) {
          Trouble(put);
          Pause(backoff);
          backoff = std::min(backoff * 2, ttl_);
          continue;
        }
        lease = *granted;
      }
      int64_t revision = 0;
      absl::StatusOr<std::vector<EtcdKeyValue>> members =
          client_.Range(prefix_, &revision);
      if (!members.ok()) {
        Trouble(members.status());
        Pause(backoff);
        backoff = std::min(backoff * 2, ttl_);
        continue;
      }
      backoff = absl::Milliseconds(100);
      v1::EtcdMembers snapshot;
      for (const EtcdKeyValue& kv : *members) {
        v1::Member member;
        if (member.ParseFromString(kv.value)) {
          *snapshot.add_members() = std::move(member);
        }
      }
      AnonymousTell(actor_, std::move(snapshot));
      EtcdWatch watch(
          client_, prefix_, revision + 1,
          [this](bool deleted, const EtcdKeyValue& kv) {
            OnEvent(deleted, kv);
          },
          [this](absl::Status why) {
            Trouble(why);
            absl::MutexLock lock(&mu_);
            watch_ended_ = true;
          });
      lease = KeepAlive(lease);
    }
    // Stopping without a leave: the lease runs out by itself (a node that
    // stops without leaving is DOWN after the TTL).
  }

  // Renews `lease` every third of the TTL until the watch ends, the node
  // stops or leaves, or etcd says the lease is gone; returns the lease to
  // go on with (0: register again).
  int64_t KeepAlive(int64_t lease) {
    while (Pause(ttl_ / 3)) {
      {
        absl::MutexLock lock(&mu_);
        if (watch_ended_ || leave_requested_) {
          return lease;
        }
      }
      absl::StatusOr<absl::Duration> left = client_.KeepAlive(lease);
      if (left.status().code() == absl::StatusCode::kNotFound) {
        Log(LogSeverity::kWarning,
            absl::StrCat("cluster: this node's etcd lease expired (etcd at ",
                         client_.endpoint(),
                         " did not hear from it within the lease's TTL, ",
                         absl::FormatDuration(ttl_),
                         "): the members saw it DOWN; registering again"));
        return 0;
      }
      if (!left.ok()) {
        Trouble(left.status());
      }
    }
    return lease;
  }

  // True once the leave is done (or there was none to do and it was asked).
  bool LeaveIfAsked(int64_t lease) {
    {
      absl::MutexLock lock(&mu_);
      if (!leave_requested_) {
        return false;
      }
    }
    v1::EtcdLeft left;
    v1::Member leaving = self_;
    leaving.set_state(v1::MEMBER_LEAVING);
    absl::Status status = lease == 0
                              ? absl::UnavailableError("not registered")
                              : client_.Put(prefix_ + self_.address(),
                                            leaving.SerializeAsString(), lease);
    if (status.ok()) {
      status = client_.RevokeLease(lease);
    }
    if (!status.ok()) {
      left.set_error(std::string(status.message()));
    }
    AnonymousTell(actor_, std::move(left));
    return true;
  }

  void OnEvent(bool deleted, const EtcdKeyValue& kv) {
    if (deleted) {
      v1::EtcdMemberDeleted gone;
      gone.set_address(kv.key.substr(std::min(kv.key.size(), prefix_.size())));
      AnonymousTell(actor_, std::move(gone));
      return;
    }
    v1::EtcdMemberPut put;
    if (put.mutable_member()->ParseFromString(kv.value)) {
      AnonymousTell(actor_, std::move(put));
    }
  }

  EtcdClient client_;
  const std::string prefix_;
  const absl::Duration ttl_;
  const v1::Member self_;
  const ActorRef actor_;
  LogLimiter log_{3, absl::Seconds(10)};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool leave_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool watch_ended_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;  // last: starts once the rest is ready
};

class EtcdMembership final : public MembershipActor {
 public:
  EtcdMembership(ClusterOptions options, std::string leave_token)
      : MembershipActor(std::move(options), std::move(leave_token)) {}

  void Stopped(ActorContext& /*ctx*/) override { session_.reset(); }

 private:
  void StartProvider(ActorContext& ctx) override {
    v1::Member self = *table().Find(table().self_address());
    session_ =
        std::make_unique<EtcdSession>(options(), std::move(self), ctx.Self());
  }

  void ReceiveProvider(ActorContext& ctx, const Message& message) override {
    if (const auto* members = As<v1::EtcdMembers>(message)) {
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
    } else if (const auto* put = As<v1::EtcdMemberPut>(message)) {
      Registered(ctx, put->member());
    } else if (const auto* deleted = As<v1::EtcdMemberDeleted>(message)) {
      Gone(ctx, deleted->address());
    } else if (const auto* left = As<v1::EtcdLeft>(message)) {
      if (!left->error().empty()) {
        Log(LogSeverity::kWarning,
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

  void LeaveMembers(ActorContext& /*ctx*/,
                    absl::Duration /*timeout*/) override {
    session_->Leave();
  }

  std::unique_ptr<EtcdSession> session_;
};

}  // namespace

std::unique_ptr<Actor> NewEtcdMembership(ClusterOptions options,
                                         std::string leave_token) {
  return std::make_unique<EtcdMembership>(std::move(options),
                                          std::move(leave_token));
}

}  // namespace troupe
