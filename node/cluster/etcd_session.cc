#include "node/cluster/etcd_session.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "node/cluster/etcd_client.h"
#include "node/cluster/etcd_membership.h"
#include "node/runtime/logging.h"
#include "node/runtime/teller.h"
#include "proto/cluster.pb.h"

namespace troupe {
namespace {

// The thread that talks to etcd for one node: register under a lease, keep
// it alive, read and watch the members, and tell the cluster actor what it
// learns (each message carrying the actor's token, so no other sender can
// pass for it). Its own thread, so the actor never blocks on etcd; each
// call is bounded by a third of the lease's TTL, so a renewal is never
// starved by a slow one.
class EtcdSession final : public EtcdSessionHandle {
 public:
  EtcdSession(const ClusterOptions& options, v1::Member self, ActorRef actor,
              std::string token, std::shared_ptr<EtcdStore> store,
              std::shared_ptr<IdentityDirectory> directory)
      : store_(std::move(store)),
        directory_(std::move(directory)),
        client_(options.etcd,
                std::clamp(options.lease_ttl / 3, absl::Milliseconds(200),
                           absl::Seconds(2))),
        prefix_(EtcdMembersPrefix(options.name)),
        ttl_(options.lease_ttl),
        self_(std::move(self)),
        actor_(std::move(actor)),
        token_(std::move(token)),
        thread_([this] { Run(); }),
        fence_thread_([this] { FenceWhenDue(); }) {}

  // Stops the session; a leave asked before is done first.
  ~EtcdSession() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
    fence_thread_.join();
    FenceClaims();  // renewals end here: so do the activations
  }

  // Registers this node LEAVING, then revokes its lease; the actor hears
  // EtcdLeft. Thread-safe.
  void Leave() override {
    absl::MutexLock lock(&mu_);
    leave_requested_ = true;
  }

 private:
  // Waits up to `wait` for a stop, a leave, a watch's end or this node's
  // key lost; true while the session should go on.
  bool Pause(absl::Duration wait) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(
        absl::Condition(
            +[](EtcdSession* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
              return s->stopping_ || s->leave_requested_ || s->watch_ended_ ||
                     s->own_key_lost_;
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

  template <typename M>
  void Tell(M message) {
    message.set_token(token_);
    AnonymousTell(actor_, std::move(message));
  }

  using Steady = std::chrono::steady_clock;

  // `lease` was granted or renewed by a call sent at `sent` (the monotonic
  // clock: a step of the wall clock cannot delay the fence): until `sent`
  // + TTL it cannot have expired, as etcd counts the TTL from when it
  // received the call. Claims may be made under it again (after a fence, a
  // renewal that succeeds gives them back), and the fence moves to a margin
  // before that.
  void HeldUntil(Steady::time_point sent, absl::Duration ttl, int64_t lease) {
    absl::MutexLock lock(&mu_);
    fence_at_ = sent + absl::ToChronoNanoseconds(ttl - margin_);
    store_->SetLease(lease);
  }

  // This node's claims go: the store has no lease, every activation stops.
  void FenceClaims() {
    store_->SetLease(0);
    directory_->Fence();
  }

  // The fence: at fence_at_, every activation here stops (another member
  // may claim its identity once the lease expires at etcd). Made under mu_,
  // so a renewal cannot slip between its decision and its act.
  void FenceWhenDue() {
    absl::MutexLock lock(&mu_);
    while (!stopping_) {
      const Steady::duration left = fence_at_ - Steady::now();
      if (left > Steady::duration::zero()) {
        mu_.AwaitWithTimeout(
            absl::Condition(&stopping_),
            std::min(absl::FromChrono(left), absl::Milliseconds(100)));
        continue;
      }
      fence_at_ = Steady::time_point::max();
      FenceClaims();
      Log(LogSeverity::kWarning, "cluster",
          absl::StrCat("cluster: this node could not renew its etcd lease "
                       "in time (etcd at ",
                       client_.endpoint(),
                       "): its virtual actors were stopped, as another "
                       "member may activate them once the lease expires"));
    }
  }

  // Renews `lease` once; 0 when etcd says it is gone (register again).
  // `*renewed` says whether it was.
  int64_t Renew(int64_t lease, bool* renewed) {
    const Steady::time_point sent = Steady::now();
    absl::StatusOr<absl::Duration> left = client_.KeepAlive(lease);
    *renewed = left.ok();
    if (left.ok()) {
      HeldUntil(sent, std::min(*left, ttl_), lease);
    }
    if (left.status().code() == absl::StatusCode::kNotFound) {
      FenceClaims();
      Log(LogSeverity::kWarning, "cluster",
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
    return lease;
  }

  // One session after another: lease and registration, members, watch,
  // then keep-alives until the lease is lost (register again), this node's
  // key is gone (write it again) or the watch ends (read again, after a
  // backoff when that keeps happening).
  void Run() {
    const absl::Duration max_backoff =
        std::max(ttl_ / 3, absl::Milliseconds(100));
    absl::Duration backoff = absl::Milliseconds(100);
    int64_t lease = 0;
    bool registered = false;
    for (;;) {
      if (LeaveIfAsked(lease) || !Pause(absl::ZeroDuration())) {
        return;  // a stop without a leave: the lease runs out by itself
      }
      {
        absl::MutexLock lock(&mu_);
        watch_ended_ = false;  // a new watch below
        if (own_key_lost_) {
          own_key_lost_ = false;
          registered = false;
        }
      }
      absl::Status step = absl::OkStatus();
      if (lease == 0) {
        const Steady::time_point sent = Steady::now();
        absl::StatusOr<int64_t> granted = client_.GrantLease(ttl_);
        step = granted.status();
        lease = granted.value_or(0);
        registered = false;
        if (lease != 0) {
          HeldUntil(sent, ttl_, lease);
          Tell(v1::EtcdLease());  // names are registered again under it
        }
      }
      if (step.ok() && !registered) {
        step = client_.Put(prefix_ + self_.address(), self_.SerializeAsString(),
                           lease);
        registered = step.ok();
      }
      int64_t revision = 0;
      absl::StatusOr<std::vector<EtcdKeyValue>> members =
          step.ok() ? client_.Range(prefix_, &revision)
                    : absl::StatusOr<std::vector<EtcdKeyValue>>(step);
      if (!members.ok()) {
        Trouble(members.status());
        if (lease != 0) {
          bool renewed = false;
          lease = Renew(lease, &renewed);  // not starved by the retries
        }
        Pause(backoff);
        backoff = std::min(backoff * 2, max_backoff);
        continue;
      }
      v1::EtcdMembers snapshot;
      for (const EtcdKeyValue& kv : *members) {
        v1::Member member;
        if (member.ParseFromString(kv.value)) {
          *snapshot.add_members() = std::move(member);
        }
      }
      Tell(std::move(snapshot));
      const absl::Time watching = absl::Now();
      {
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
        // A renewal that failed is tried again soon, not a third of the
        // TTL later: one slow call must not cost the lease.
        absl::Duration next = ttl_ / 3;
        while (Pause(next) && !Interrupted() && lease != 0) {
          bool renewed = false;
          lease = Renew(lease, &renewed);
          next =
              renewed ? ttl_ / 3 : std::min(ttl_ / 3, absl::Milliseconds(100));
        }
      }
      // A watch that ended at once (etcd refusing it) is not read again at
      // once.
      if (absl::Now() - watching < absl::Seconds(1)) {
        Pause(backoff);
        backoff = std::min(backoff * 2, max_backoff);
      } else {
        backoff = absl::Milliseconds(100);
      }
    }
  }

  // A watch's end, a leave or this node's key lost: the keep-alive loop
  // hands back to Run.
  bool Interrupted() {
    absl::MutexLock lock(&mu_);
    return watch_ended_ || leave_requested_ || own_key_lost_;
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
      // Its claims go with the lease: its activations end first (as long
      // as the lease surely lasts, at most a second).
      {
        absl::MutexLock lock(&mu_);
        fence_at_ = Steady::time_point::max();
        FenceClaims();
      }
      if (!directory_->AwaitNoActivations(
              std::min(absl::Seconds(1), ttl_ / 3))) {
        Log(LogSeverity::kWarning, "cluster",
            "cluster: an activation still runs as this node gives up its "
            "etcd lease (busy in one message)");
      }
      status = client_.RevokeLease(lease);
    }
    if (!status.ok()) {
      left.set_error(std::string(status.message()));
    }
    Tell(std::move(left));
    return true;
  }

  void OnEvent(bool deleted, const EtcdKeyValue& kv) {
    const std::string address =
        kv.key.substr(std::min(kv.key.size(), prefix_.size()));
    if (deleted) {
      if (address == self_.address()) {
        // Deleted by hand, or by another process's lease at this address:
        // written again (while this node does not leave).
        absl::MutexLock lock(&mu_);
        own_key_lost_ = true;
        return;
      }
      v1::EtcdMemberDeleted gone;
      gone.set_address(address);
      Tell(std::move(gone));
      return;
    }
    v1::EtcdMemberPut put;
    if (put.mutable_member()->ParseFromString(kv.value)) {
      Tell(std::move(put));
    }
  }

  const std::shared_ptr<EtcdStore> store_;
  const std::shared_ptr<IdentityDirectory> directory_;
  EtcdClient client_;
  const std::string prefix_;
  const absl::Duration ttl_;
  // Claims end this long before the lease could have expired at etcd: a
  // tenth of the TTL, at least 100 ms (an activation busy in one message
  // longer than this may still run when another member claims it).
  const absl::Duration margin_ = std::max(ttl_ / 10, absl::Milliseconds(100));
  const v1::Member self_;
  const ActorRef actor_;
  const std::string token_;
  LogLimiter log_{"cluster", 3, absl::Seconds(10)};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool leave_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool watch_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool own_key_lost_ ABSL_GUARDED_BY(mu_) = false;
  Steady::time_point fence_at_ ABSL_GUARDED_BY(mu_) = Steady::time_point::max();

  // Last: they start once the rest is ready.
  std::thread thread_;
  std::thread fence_thread_;
};

}  // namespace

std::unique_ptr<EtcdSessionHandle> StartEtcdSession(
    const ClusterOptions& options, v1::Member self, ActorRef actor,
    std::string token, std::shared_ptr<EtcdStore> store,
    std::shared_ptr<IdentityDirectory> directory) {
  return std::make_unique<EtcdSession>(options, std::move(self),
                                       std::move(actor), std::move(token),
                                       std::move(store), std::move(directory));
}

}  // namespace troupe
