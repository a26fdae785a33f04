// The cluster: every node server runs a cluster actor (kClusterActorName)
// that keeps the node's member list (MemberTable) and tells subscribers of
// MemberUp and MemberDown (README, "Cluster").
//
// Membership comes from a provider behind one cluster actor
// (membership_actor.h: the table, subscribers, the member list, the leave):
// embedded, the default, or etcd (etcd_membership.h, when ClusterOptions
// names etcd). The embedded one's rules:
//
// Embedded membership (no external service; embedded_membership.cc): a
// node contacts its seeds, retrying each with backoff until it answers;
// every answer carries the answering node's UP members, which the node
// contacts in turn, so every member links to every other (a full mesh, as
// Erlang's distribution). A member is UP once it has answered this node's
// own contact, and DOWN
// when this node's link failure detector declares its node down (a watch
// on its cluster actor: Terminated NODE_DOWN), when it left, or when a
// newer run of it joined. Each node decides for itself from its own links:
// there is no agreement on a view, and a partition leaves each side with
// its own (README, "What embedded mode does not promise"). DOWN members
// are contacted again with backoff, so a healed partition or a restarted
// node comes back UP with no manual step.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/cluster/identity.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/message.h"
#include "proto/troupe.pb.h"

namespace troupe {

struct ClusterOptions {
  // The cluster's name: a node answers contacts from nodes of its own
  // cluster only, and refuses to join a seed of another (logged, retried
  // at max_backoff in case the seed is restarted in the right one).
  std::string name = "troupe";
  // host:port of the nodes to join through. A node with no seeds is a
  // cluster of one until another node names it. Seeds are never forgotten.
  std::vector<std::string> seeds;
  // How long one contact (an ask of the other node's cluster actor) may
  // take; it includes making the link.
  absl::Duration contact_timeout = absl::Seconds(2);
  // Retry delays after failed contacts: min_backoff, doubling, at most
  // max_backoff (a healed partition is seen within about max_backoff).
  absl::Duration min_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // Every this often the node exchanges views with one UP member picked at
  // random (anti-entropy: news a push missed still spreads), and forgets
  // long-gone members.
  absl::Duration gossip_interval = absl::Seconds(5);
  // etcd (host:port of a member's client URL): membership on etcd instead
  // of embedded (README, "Membership on etcd"); empty = embedded. Seeds and
  // the view exchange are not used then.
  std::string etcd;
  // The etcd lease's TTL: a node that stops renewing it (killed, frozen,
  // cut off from etcd) is DOWN for every member this long after its last
  // renewal. etcd raises it to its minimum (about 2 s by default).
  absl::Duration lease_ttl = absl::Seconds(2);
  // A member DOWN (or named and never heard from) this long is forgotten:
  // dropped from the list and no longer contacted. Seeds excepted.
  absl::Duration forget_after = absl::Minutes(10);
  // Virtual actors (identity.h): an activation that has had no message for
  // this long is passivated (after between 1 and 1.5 times this).
  absl::Duration passivate_after = absl::Minutes(5);
  // What activations are made from, by kind (a node server passes its
  // kinds); unset: none (a message to an identity becomes a dead letter
  // saying so).
  ActivationFactory activate;
};

// The node's own handle on its cluster actor.
class LocalCluster {
 public:
  // Tells the members that this node is leaving (they show it LEAVING,
  // then DOWN as "left the cluster": embedded, every UP member is told and
  // acknowledges before the links end; on etcd, the node writes itself
  // LEAVING and revokes its lease), and returns once that is done, or after
  // `timeout`. Blocks: not from an actor. The
  // node's shutdown calls it (NodeServer::Shutdown). Thread-safe.
  void Leave(absl::Duration timeout);

 private:
  friend absl::StatusOr<std::unique_ptr<LocalCluster>> StartCluster(
      ActorSystem&, ClusterOptions);
  LocalCluster(ActorSystem& system, ActorRef actor, std::string token)
      : system_(system), actor_(std::move(actor)), token_(std::move(token)) {}

  ActorSystem& system_;
  const ActorRef actor_;
  // What a leave must carry: only this handle can make the node leave.
  const std::string token_;
};

// Spawns the cluster actor on `system` (ALREADY_EXISTS if there is one);
// `system` must outlive the handle. INVALID_ARGUMENT for an empty name or
// a seed that is not host:port.
absl::StatusOr<std::unique_ptr<LocalCluster>> StartCluster(
    ActorSystem& system, ClusterOptions options);

// --- Cluster-wide names (README, "Cluster-wide names"; Erlang's global).
// A name names one actor in the whole cluster until that actor ends, its
// node is DOWN, or it is unregistered; any member registers and finds it.
// The actor's own node keeps the registration (it watches the actor);
// embedded, the name is held by the member it hashes to among the UP
// members; with etcd, by a key bound to the lease of the actor's node.
// These block: not from an actor, which instead asks ClusterActorOf(system)
// a v1::RegisterName, v1::UnregisterName or v1::WhereIsName and reads the
// v1::NameReply with NameReplyRef (cluster_wire.h). Thread-safe. ---

// `name` for `ref` (an actor of any member). ALREADY_EXISTS naming who has
// it, INVALID_ARGUMENT (a bad name), NOT_FOUND (`ref` is not alive),
// UNAVAILABLE (the member holding names, or etcd, did not answer),
// DEADLINE_EXCEEDED after `timeout`. Registering a name again for the
// same actor is OK.
absl::Status RegisterName(ActorSystem& system, absl::string_view name,
                          const ActorRef& ref, absl::Duration timeout);
// `name` no longer names `ref` (OK also when it named another or nobody).
absl::Status UnregisterName(ActorSystem& system, absl::string_view name,
                            const ActorRef& ref, absl::Duration timeout);
// The actor `name` names (its exact ref); NOT_FOUND when none does.
absl::StatusOr<ActorRef> WhereIs(ActorSystem& system, absl::string_view name,
                                 absl::Duration timeout);

// A ref to the cluster actor of the node at `node` (host:port; "" = the
// node of `system`): ask it a v1::MembersRequest (answer: v1::MembersReply)
// or tell it a v1::SubscribeMembers. Thread-safe.
ActorRef ClusterActorOf(ActorSystem& system, absl::string_view node = "");

}  // namespace troupe
