// IdentityDirectory: a node's side of virtual actors (identity.h, README
// "Virtual actors"), installed as its system's IdentityResolver. Two
// processes per identity that is in use on the node:
//
//   router  @kind:key   what GetIdentity returns: each message goes to the
//                       host of the member that owns the key in this
//                       node's view (rendezvous.h), here or on that node.
//   host    @!kind:key  the owner's end: sends to its activation (an actor
//                       named kind:key#N, spawned from the kind), making
//                       it first when there is none. Messages that come
//                       while it is being made or passivated wait in the
//                       host, and go to it in order once it runs.
//
// A router sends to a host, and a host does not route by the hash: it
// activates, or, when etcd says another member holds the identity, sends
// to that member's host (which holds the claim, so members with different
// views never pass a message back and forth). While ownership moves, a
// sender's messages may reach the activation by two paths, so their order
// is kept only while it stays put.
//
// Passivation: an activation without a message for `passivate_after` asks
// its host to retire it; the host sends it a PoisonPill (what was queued
// before is handled) and keeps what comes after until it has stopped, then
// makes the next activation. A Stop sent on the identity's ref retires it
// the same way. Messages sent to an activation's own ctx.Self() bypass the
// host and become dead letters once it is gone.
//
// The fence (etcd): when this node's lease is or may be gone, Fence stops
// every activation at once, and a claim or activation that was under way
// when it came is dropped (the fence's number changed); claims fail until
// the store holds a lease again.
//
// Thread-safe; nothing here blocks (claims are asynchronous).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/cluster/identity.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/identity_resolver.h"
#include "node/runtime/logging.h"

namespace troupe {

class IdentityHost;
class IdentityRouter;

// How a host gets the right to activate an identity. Embedded: no claims
// (always granted). etcd: a key bound to the node's lease (etcd_store.h).
class IdentityClaims {
 public:
  virtual ~IdentityClaims() = default;
  // `done` once, maybe on another thread: OK (this node holds it),
  // ALREADY_EXISTS with the holder's address, or why not (UNAVAILABLE
  // without a lease, or etcd's error).
  using Done = std::function<void(absl::Status, std::string holder)>;
  virtual void Claim(const std::string& identity, Done done) = 0;
  // Gives up this node's claim (after its activation stopped).
  virtual void Release(const std::string& identity) = 0;
};

class IdentityDirectory final
    : public IdentityResolver,
      public std::enable_shared_from_this<IdentityDirectory> {
 public:
  // `claims` null: embedded (no claims). `system` must outlive it.
  IdentityDirectory(ActorSystem& system, ActivationFactory activate,
                    absl::Duration passivate_after,
                    std::unique_ptr<IdentityClaims> claims);
  ~IdentityDirectory() override;

  ActorRef ResolveIdentity(absl::string_view id) override;

  // The members that are UP in this node's view (the cluster actor, on
  // every change): where identities are placed from now on.
  void SetMembers(std::vector<std::string> up);
  // The member that owns `identity` ("kind:key") in this view, and the
  // view's number (it changes with every SetMembers).
  std::string OwnerOf(absl::string_view identity, uint64_t* view) const;

  // The view's number alone (no lock).
  uint64_t View() const { return view_number_.load(std::memory_order_acquire); }

  // Stops every activation here at once and forgets every claim (this
  // node's etcd lease is or may be gone: another member may claim them).
  void Fence();
  // How many fences there have been: a claim or activation begun before
  // the latest one is dropped.
  uint64_t FenceNumber() const {
    return fences_.load(std::memory_order_acquire);
  }
  // Until no activation runs here, or `timeout` (a leave waits for the
  // fenced ones to end before it gives up the lease); true if none runs.
  bool AwaitNoActivations(absl::Duration timeout);
  // An activation started / ended here (hosts call these).
  void ActivationStarted();
  void ActivationEnded();
  // A host or router of `identity` is gone: its slot goes if nobody took
  // it meanwhile.
  void ForgetHost(const std::string& identity);
  void ForgetRouter(const std::string& identity);

  ActorSystem& system() { return system_; }
  IdentityClaims* claims() { return claims_.get(); }
  absl::Duration passivate_after() const { return passivate_after_; }
  absl::StatusOr<ActorFactory> Activation(absl::string_view kind) const {
    return activate_(kind);
  }
  std::shared_ptr<IdentityHost> Host(const std::string& identity);
  // Activations starting and ending, logged at most 100 lines per 10 s.
  LogLimiter& log() { return log_; }
  // A name no other activation here has had: kind:key#N.
  std::string NextCellName(const std::string& identity);

 private:
  ActorSystem& system_;
  const ActivationFactory activate_;
  const absl::Duration passivate_after_;
  const std::unique_ptr<IdentityClaims> claims_;
  LogLimiter log_{"cluster", 100, absl::Seconds(10)};

  std::atomic<uint64_t> view_number_{1};
  std::atomic<uint64_t> fences_{0};

  mutable absl::Mutex mu_;
  std::vector<std::string> up_ ABSL_GUARDED_BY(mu_);
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t cells_made_ ABSL_GUARDED_BY(mu_) = 0;
  // Only processes someone holds are kept (a ref, a cell, a claim under
  // way), and a held one is always the one returned: one host per identity.
  absl::flat_hash_map<std::string, std::weak_ptr<IdentityRouter>> routers_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::weak_ptr<IdentityHost>> hosts_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace troupe
