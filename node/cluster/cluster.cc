#include "node/cluster/cluster.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/embedded_membership.h"
#include "node/cluster/etcd_membership.h"
#include "node/cluster/etcd_store.h"
#include "node/cluster/identity_directory.h"
#include "node/cluster/membership_actor.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/pid.h"
#include "node/runtime/system_messages.h"
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
  if (options.passivate_after <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("passivate_after must be positive");
  }
  if (system.Lookup(kClusterActorName).ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("the node at ", system.address(), " runs a cluster"));
  }
  std::shared_ptr<EtcdStore> store;
  std::unique_ptr<IdentityClaims> claims;
  if (!options.etcd.empty()) {
    store = std::make_shared<EtcdStore>(options, system.address(),
                                        system.incarnation());
    claims = store->NewClaims();
  }
  ActivationFactory activate = options.activate;
  if (!activate) {
    activate = [](absl::string_view kind) -> absl::StatusOr<ActorFactory> {
      return absl::NotFoundError(
          absl::StrCat("no kind '", kind, "': this node activates none"));
    };
  }
  auto directory = std::make_shared<IdentityDirectory>(
      system, std::move(activate), options.passivate_after, std::move(claims));
  if (!runtime_internal::SystemInternals::SetIdentityResolver(system,
                                                              directory)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a cluster was started on the node at ", system.address(),
                     " before: one per node run"));
  }
  absl::StatusOr<ActorRef> actor = system.Spawn(
      [options = std::move(options), token, directory,
       store]() -> std::unique_ptr<Actor> {
        if (store != nullptr) {
          return NewEtcdMembership(options, token, directory, store);
        }
        return NewEmbeddedMembership(options, token, directory);
      },
      kClusterActorName, SpawnOptions{0, "troupe.cluster"});
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

absl::Status RegisterName(ActorSystem& system, absl::string_view name,
                          const ActorRef& ref, absl::Duration timeout) {
  v1::RegisterName request;
  request.set_name(std::string(name));
  *request.mutable_ref() = ToProto(ref.pid());
  return NameReplyRef(
             system.Ask(ClusterActorOf(system), std::move(request), timeout)
                 .get())
      .status();
}

absl::Status UnregisterName(ActorSystem& system, absl::string_view name,
                            const ActorRef& ref, absl::Duration timeout) {
  v1::UnregisterName request;
  request.set_name(std::string(name));
  *request.mutable_ref() = ToProto(ref.pid());
  return NameReplyRef(
             system.Ask(ClusterActorOf(system), std::move(request), timeout)
                 .get())
      .status();
}

absl::StatusOr<ActorRef> WhereIs(ActorSystem& system, absl::string_view name,
                                 absl::Duration timeout) {
  v1::WhereIsName request;
  request.set_name(std::string(name));
  absl::StatusOr<v1::Pid> pid = NameReplyRef(
      system.Ask(ClusterActorOf(system), std::move(request), timeout).get());
  if (!pid.ok()) {
    return pid.status();
  }
  return system.Ref(*pid);
}

ActorRef ClusterActorOf(ActorSystem& system, absl::string_view node) {
  return system.Ref(ClusterPid(node.empty() ? system.address() : node, 0));
}

}  // namespace troupe
