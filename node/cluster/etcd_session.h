// The etcd session of a node (README, "Membership on etcd"): the thread
// that registers the node under a lease, keeps the lease alive, reads and
// watches the members and tells the cluster actor what it learns; and the
// fence that stops the node's activations before its lease could have
// expired. Private to the cluster library.
#pragma once

#include <memory>
#include <string>

#include "node/cluster/cluster.h"
#include "node/cluster/etcd_store.h"
#include "node/cluster/identity_directory.h"
#include "node/runtime/actor_ref.h"
#include "proto/troupe.pb.h"

namespace troupe {

class EtcdSessionHandle {
 public:
  // Stops the session (a leave asked before is done first) and fences the
  // node's claims.
  virtual ~EtcdSessionHandle() = default;
  // Registers this node LEAVING, ends its activations, then revokes its
  // lease; the actor hears EtcdLeft. Thread-safe.
  virtual void Leave() = 0;
};

// Starts the session of the node `self` (its Member), telling `actor` what
// it learns, each message carrying `token`.
std::unique_ptr<EtcdSessionHandle> StartEtcdSession(
    const ClusterOptions& options, v1::Member self, ActorRef actor,
    std::string token, std::shared_ptr<EtcdStore> store,
    std::shared_ptr<IdentityDirectory> directory);

}  // namespace troupe
