// Virtual actors (README, "Virtual actors"): an identity is a kind and a
// key; GetIdentity gives a ref that reaches the one activation of that
// identity in the cluster, wherever it runs, activating it on the member
// that owns the key (rendezvous hashing over the UP members) when it is
// not running. An activation is passivated (stopped) after
// ClusterOptions::passivate_after without messages, and activated again,
// on whichever member owns the key then, by the next message; so a ref
// from GetIdentity stays good across passivation, node deaths and
// restarts.
//
// At most one activation: with etcd, a member claims the identity with a
// key bound to its lease before it activates it, and stops its activations
// before its lease can have expired (when it cannot renew it), so two
// members never run one identity at once, across partitions too. Embedded,
// members that see the same UP members place an identity on the same
// member; members with different views (a partition, a join or a down not
// yet seen everywhere) may each activate it.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/cluster/cluster_wire.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"

namespace troupe {

// What an activation of `kind` is made from (a node server passes its
// kinds); NOT_FOUND naming the kinds it knows when none has that name.
using ActivationFactory =
    std::function<absl::StatusOr<ActorFactory>(absl::string_view kind)>;

// A ref to the identity (kind, key) in the cluster of the node `system`
// belongs to; each message sent on it goes to the identity's activation,
// made when needed (the kind is looked up on the member that activates it;
// a kind it does not know turns the message into a dead letter saying
// so). Never blocks. The ref's Pid, troupe://<this node>/@kind:key, names
// the identity from any node. An identity never ends: a watch of it gets
// no Terminated (but NODE_DOWN, from another node, when the link to the
// node its Pid names is declared down), and an ask of it fails only as a
// message to it can (a dead letter: the owner's node down, an unknown
// kind) or by its deadline. Stop on it passivates the activation there is.
// INVALID_ARGUMENT (ValidateIdentity), FAILED_PRECONDITION when the node runs
// no cluster. Thread-safe.
absl::StatusOr<ActorRef> GetIdentity(ActorSystem& system,
                                     absl::string_view kind,
                                     absl::string_view key);

}  // namespace troupe
