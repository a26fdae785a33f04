// The etcd membership provider (README, "Cluster", "Membership on etcd"):
// each node holds a lease and registers itself under the cluster's prefix,
// /troupe/<cluster>/members/<address> = its v1::Member, bound to the lease;
// every node watches the prefix. A node whose lease expires (it stopped
// renewing: killed, frozen, cut off from etcd) is deleted by etcd and so
// DOWN for every member at once: one authoritative view. The link failure
// detector still gives NODE_DOWN to watchers first, as everywhere; it does
// not change membership here. Built by StartCluster when ClusterOptions
// names etcd.
#pragma once

#include <memory>
#include <string>

#include "node/cluster/cluster.h"
#include "node/cluster/etcd_store.h"
#include "node/cluster/identity_directory.h"
#include "node/runtime/actor.h"

namespace troupe {

// The cluster actor of etcd membership; `leave_token` is what the node's
// LeaveCluster must carry.
std::unique_ptr<Actor> NewEtcdMembership(
    ClusterOptions options, std::string leave_token,
    std::shared_ptr<IdentityDirectory> directory,
    std::shared_ptr<EtcdStore> store);

// The etcd key prefix under which the members of cluster `cluster` are
// registered (each at the prefix plus its address).
std::string EtcdMembersPrefix(const std::string& cluster);

}  // namespace troupe
