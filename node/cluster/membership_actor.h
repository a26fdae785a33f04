// MembershipActor: what the cluster actor (kClusterActorName) of every
// membership provider shares (README, "Cluster"): the member table, the
// subscribers and their MemberUp/MemberDown events, the member list on
// request (MembersRequest), and the node's own leave (LeaveCluster, with
// the node's token). A provider derives from it and feeds the table what
// it learns of members, publishing the events the table returns: the
// embedded provider (embedded_membership.h) by contacting members and
// watching their cluster actors; an etcd provider by its store.
//
// Its state is its own (one message at a time, as any actor); the member
// list leaves it only as copies.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/cluster/cluster.h"
#include "node/cluster/identity_directory.h"
#include "node/cluster/member_table.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_ref.h"
#include "proto/cluster.pb.h"
#include "proto/troupe.pb.h"

namespace troupe {

// The Pid of the cluster actor of the node at `address` (run
// `incarnation`; 0: whichever run is there).
v1::Pid ClusterPid(absl::string_view address, uint64_t incarnation);

class MembershipActor : public Actor {
 public:
  // Makes the table (this node UP), then StartProvider.
  absl::Status Started(ActorContext& ctx) final;
  // The shared messages; the rest go to ReceiveProvider, and a Terminated
  // of neither a subscriber nor a named actor to OnWatchEnded.
  absl::Status Receive(ActorContext& ctx, const Message& message) final;

 protected:
  // `directory`: where identities are placed (told the UP members on
  // every change).
  MembershipActor(ClusterOptions options, std::string leave_token,
                  std::shared_ptr<IdentityDirectory> directory);

  virtual void StartProvider(ActorContext& ctx) = 0;
  virtual void ReceiveProvider(ActorContext& ctx, const Message& message) = 0;
  virtual void OnWatchEnded(ActorContext& ctx,
                            const v1::Terminated& terminated) = 0;
  // The node leaves (its entry is LEAVING already): tell the members, and
  // call LeaveDone once they have heard, or once `timeout` has passed.
  virtual void LeaveMembers(ActorContext& ctx, absl::Duration timeout) = 0;

  // After the UP members changed (the directory knows already).
  virtual void MembersChanged(ActorContext& /*ctx*/) {}

  // --- Cluster-wide names (README, "Cluster-wide names";
  // membership_names.cc). This node's cluster actor is the registrant of
  // the names of its own actors: it watches each named actor and gives the
  // name up when the actor ends. Where a name is kept is the provider's:
  // the member it hashes to (embedded), or a key under this node's lease
  // (etcd). ---

  // Keep `claim` where names are kept, then call NameClaimed with the
  // outcome and `reply_to` (null: nobody waits).
  virtual void ClaimName(ActorContext& ctx, const v1::NameClaim& claim,
                         ActorRef reply_to) = 0;
  // Give up `release` (its ref ended or was unregistered); `reply_to`
  // (null: nobody waits) gets a NameReply once it is given up there.
  virtual void ReleaseName(ActorContext& ctx, const v1::NameRelease& release,
                           ActorRef reply_to) = 0;
  // Answer `reply_to` with a NameReply for `name`.
  virtual void FindName(ActorContext& ctx, const std::string& name,
                        ActorRef reply_to) = 0;
  // A claim's outcome: an OK one is kept (and its actor watched), unless
  // the name was unregistered while it was claimed (then given up again);
  // an ALREADY_EXISTS for a name this node had means it was lost to
  // another (logged). `reply_to`, if any, gets `result`.
  void NameClaimed(ActorContext& ctx, const v1::NameReply& result,
                   const ActorRef& reply_to);
  // The names of this node's actors that it registered: name -> ref.
  const absl::flat_hash_map<std::string, v1::Pid>& names() const {
    return names_;
  }

  // Answers the node's leave request(s).
  void LeaveDone(ActorContext& ctx);
  // Logs each event and tells every subscriber.
  void Publish(ActorContext& ctx, const std::vector<MemberEvent>& events);

  // The node's secret: what its own LeaveCluster carries, and what a
  // provider's own messages may carry to tell them from anyone else's.
  const std::string& token() const { return leave_token_; }
  MemberTable& table() { return *table_; }
  const MemberTable& table() const { return *table_; }
  const ClusterOptions& options() const { return options_; }
  // The UP members' addresses, this node's among them, sorted.
  const std::vector<std::string>& up_addresses() const { return up_; }

 private:
  void Subscribe(ActorContext& ctx, const ActorRef& subscriber);

  // The UP members, to the directory.
  void PlaceOnMembers();
  // RegisterName, UnregisterName (membership_names.cc).
  void OnRegister(ActorContext& ctx, const v1::RegisterName& request);
  // The request goes to the cluster actor of `address` if it is a member
  // UP here; else FAILED_PRECONDITION for `name`.
  void ForwardToMember(ActorContext& ctx, const std::string& address,
                       const std::string& name);
  void OnUnregister(ActorContext& ctx, const v1::UnregisterName& request);
  // True when `ref` is an actor this node registered a name for.
  bool IsNamed(const ActorRef& ref) const;
  // A named actor of this node ended: its names are given up. False when
  // `terminated` is of no named actor.
  bool OnNamedEnded(ActorContext& ctx, const v1::Terminated& terminated);

  const ClusterOptions options_;
  const std::string leave_token_;
  const std::shared_ptr<IdentityDirectory> directory_;
  std::unique_ptr<MemberTable> table_;
  std::vector<std::string> up_;
  absl::flat_hash_map<std::string, v1::Pid> names_;
  // Names whose registration is being claimed (not yet in names_).
  absl::flat_hash_set<std::string> claiming_;
  absl::flat_hash_set<ActorRef> subscribers_;
  std::vector<ActorRef> leave_askers_;
};

}  // namespace troupe
