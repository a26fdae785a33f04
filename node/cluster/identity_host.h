// IdentityHost: the owner's end of one identity on one node (see
// identity_directory.h): its activation, made when a message comes and
// there is none, retired when idle or stopped, fenced when this node's
// etcd lease is or may be gone. Private to the cluster library.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "node/cluster/identity_directory.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/process.h"

namespace troupe {

// An identity never ends, so a watch of it (an ask's among them) is not
// passed to an activation, whose end is not the identity's; a watcher on
// another node still hears NODE_DOWN when its link to the ref's node is
// declared down. Only a stop reaches an activation (and retires it).
inline bool ReachesActivation(const SystemMessage& message) {
  return message.kind == SystemKind::kStop;
}

class IdentityHost final : public Process,
                           public std::enable_shared_from_this<IdentityHost> {
 public:
  IdentityHost(std::shared_ptr<IdentityDirectory> directory,
               std::string identity);
  ~IdentityHost() override;

  // To the activation (made first when there is none); waits in the host
  // while it is being made or retired.
  void SendUser(EnvelopePtr envelope) override ABSL_LOCKS_EXCLUDED(mu_);
  // A stop retires the activation (as an idle one is); nothing else is
  // passed on (an identity never ends: identity_directory.cc, IgnoredBy).
  void SendSystem(SystemMessagePtr message) override ABSL_LOCKS_EXCLUDED(mu_);
  bool IsTerminated() const override { return false; }

  // From the activation: it runs (Started, or restarted): what waited goes
  // to it. A fence since it was begun stops it instead.
  void Attach(const ActorRef& cell) ABSL_LOCKS_EXCLUDED(mu_);
  // It has been idle: a PoisonPill, if it is the current one; true if so.
  bool Retire(uint64_t uid) ABSL_LOCKS_EXCLUDED(mu_);
  // It ended: its claim is given up, and the next one is made if messages
  // wait.
  void Ended(uint64_t uid) ABSL_LOCKS_EXCLUDED(mu_);
  // This node's claims are gone: the activation stops now.
  void Fence() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class State {
    kIdle,        // no activation here
    kActivating,  // claiming, or spawned and not yet started
    kActive,      // cell_ runs
    kRetiring,    // cell_ was told to stop; new messages wait
    kElsewhere,   // another member holds the claim: sent to holder_
  };

  void Begin() ABSL_LOCKS_EXCLUDED(mu_);
  void Claimed(absl::Status status, std::string holder, uint64_t fence)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Activate() ABSL_LOCKS_EXCLUDED(mu_);
  // PoisonPill to cell_ (kRetiring).
  void RetireLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What waited becomes dead letters saying why; the claim is given up.
  void Fail(DeadLetterReason reason, const std::string& why)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<IdentityDirectory> directory_;
  const std::string identity_;

  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kIdle;
  bool claimed_ ABSL_GUARDED_BY(mu_) = false;
  // The fence number when the current claim or activation was begun.
  uint64_t begun_at_fence_ ABSL_GUARDED_BY(mu_) = 0;
  ActorRef cell_ ABSL_GUARDED_BY(mu_);
  ActorRef holder_ ABSL_GUARDED_BY(mu_);
  uint64_t held_in_view_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<EnvelopePtr> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace troupe
