// The embedded membership provider (the default; no external service):
// the cluster actor that contacts seeds and members directly (README,
// "Cluster", "Embedded membership"; cluster.h says the rules). Built by
// StartCluster when ClusterOptions names no store.
#pragma once

#include <memory>
#include <string>

#include "node/cluster/cluster.h"
#include "node/cluster/identity_directory.h"
#include "node/runtime/actor.h"

namespace troupe {

// The cluster actor of embedded membership; `leave_token` is what the
// node's LeaveCluster must carry.
std::unique_ptr<Actor> NewEmbeddedMembership(
    ClusterOptions options, std::string leave_token,
    std::shared_ptr<IdentityDirectory> directory);

}  // namespace troupe
