#include "node/cluster/cluster.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/embedded_membership.h"
#include "node/cluster/etcd_membership.h"
#include "node/cluster/membership_actor.h"
#include "node/runtime/pid.h"
#include "proto/cluster.pb.h"

namespace troupe {

absl::StatusOr<std::unique_ptr<LocalCluster>> StartCluster(
    ActorSystem& system, ClusterOptions options) {
  if (options.name.empty()) {
    return absl::InvalidArgumentError("the cluster name (--cluster) is empty");
  }
  if (!options.etcd.empty() && !IsNodeAddress(options.etcd)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd '", options.etcd, "' is not host:port (--etcd: its client URL)"));
  }
  if (!options.etcd.empty() && options.lease_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "the etcd lease TTL must be at least 1 s (etcd counts in seconds)");
  }
  for (const std::string& seed : options.seeds) {
    if (!IsNodeAddress(seed)) {
      return absl::InvalidArgumentError(
          absl::StrCat("seed '", seed, "' is not host:port"));
    }
  }
  absl::BitGen random;
  std::string token = absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(random)),
                                   absl::Hex(absl::Uniform<uint64_t>(random)));
  absl::StatusOr<ActorRef> actor = system.Spawn(
      [options = std::move(options), token]() -> std::unique_ptr<Actor> {
        if (!options.etcd.empty()) {
          return NewEtcdMembership(options, token);
        }
        return NewEmbeddedMembership(options, token);
      },
      kClusterActorName);
  if (!actor.ok()) {
    return actor.status();
  }
  return std::unique_ptr<LocalCluster>(
      new LocalCluster(system, *std::move(actor), std::move(token)));
}

void LocalCluster::Leave(absl::Duration timeout) {
  v1::LeaveCluster request;
  request.set_token(token_);
  request.set_timeout_ms(absl::ToInt64Milliseconds(timeout));
  (void)system_.Ask(actor_, std::move(request), timeout).get();
}

ActorRef ClusterActorOf(ActorSystem& system, absl::string_view node) {
  return system.Ref(ClusterPid(node.empty() ? system.address() : node, 0));
}

}  // namespace troupe
