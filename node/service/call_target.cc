#include "node/service/call_target.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/identity.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/system_messages.h"
#include "node/service/activator.h"

namespace troupe {
namespace {

// The one value of `key`, "" when absent; INVALID_ARGUMENT when repeated.
absl::StatusOr<std::string> Header(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    const char* key) {
  auto [begin, end] = metadata.equal_range(key);
  if (begin == end) {
    return std::string();
  }
  if (std::next(begin) != end) {
    return absl::InvalidArgumentError(
        absl::StrCat("the call carries '", key, "' more than once"));
  }
  return std::string(begin->second.data(), begin->second.size());
}

absl::Status NoTarget() {
  return absl::InvalidArgumentError(
      "a call of an actor service names its actor in the metadata: "
      "'troupe-actor: troupe://host:port/id' (or an id of the node called), "
      "or 'troupe-kind' and 'troupe-key' (with 'troupe-node' to place the "
      "identity on another node)");
}

}  // namespace

absl::StatusOr<CallTarget> ParseCallTarget(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  CallTarget target;
  for (auto [key, field] : {std::pair{kActorHeader, &target.actor},
                            std::pair{kKindHeader, &target.kind},
                            std::pair{kKeyHeader, &target.key},
                            std::pair{kNodeHeader, &target.node}}) {
    absl::StatusOr<std::string> value = Header(metadata, key);
    if (!value.ok()) {
      return value.status();
    }
    *field = *std::move(value);
  }
  const bool identity = !target.kind.empty() || !target.key.empty();
  if (target.actor.empty() == !identity ||
      (identity && (target.kind.empty() || target.key.empty()))) {
    return NoTarget();
  }
  if (!target.actor.empty() && !target.node.empty()) {
    return absl::InvalidArgumentError(
        "'troupe-node' goes with 'troupe-kind' and 'troupe-key'; a "
        "'troupe-actor' names its node in its ref (troupe://host:port/id)");
  }
  return target;
}

std::string IdentityName(const CallTarget& target) {
  return absl::StrCat(target.kind, ":", target.key);
}

void ResolveCallTarget(ActorSystem& system, const KindRegistry& kinds,
                       const SpawnOptions& options,
                       const google::protobuf::ServiceDescriptor* service,
                       const CallTarget& target, absl::Duration timeout,
                       std::function<void(absl::StatusOr<ActorRef>)> done) {
  if (!target.actor.empty()) {
    if (absl::StartsWith(target.actor, "troupe://")) {
      done(system.Resolve(target.actor));  // any node; a dead one answers
      return;                              // through the call itself
    }
    done(LookupName(system, target.actor));
    return;
  }
  const std::string name = IdentityName(target);
  if (target.node.empty() || target.node == system.address()) {
    // Here the kind is checked before the actor is looked up, so a live
    // actor of that name is reached only when its kind serves the service.
    const Kind* kind = kinds.Find(target.kind);
    if (kind == nullptr) {
      done(kinds.UnknownKind(target.kind));
      return;
    }
    if (!absl::c_linear_search(kind->services, service)) {
      done(absl::UnimplementedError(absl::StrCat(
          "kind '", target.kind, "' does not serve ", service->full_name())));
      return;
    }
    // No node named: the cluster's identity (its one activation, on the
    // member that owns the key), when the node runs a cluster.
    if (target.node.empty()) {
      absl::StatusOr<ActorRef> identity =
          GetIdentity(system, target.kind, target.key);
      if (identity.status().code() != absl::StatusCode::kFailedPrecondition) {
        done(std::move(identity));
        return;
      }
    }
    // Activated already: no spawn request to build.
    if (absl::StatusOr<ActorRef> live = system.Lookup(name); live.ok()) {
      done(*std::move(live));
      return;
    }
  }
  // Where the kind lives, its node checks that it serves the service.
  v1::SpawnRequest spawn;
  spawn.set_kind(target.kind);
  spawn.set_name(name);
  spawn.set_existing_ok(true);
  spawn.set_service(service->full_name());
  spawn.set_node(target.node);
  Activate(system, kinds, options, spawn, timeout,
           [&system, done = std::move(done)](absl::StatusOr<v1::Pid> pid) {
             if (!pid.ok()) {
               done(pid.status());
             } else {
               done(system.Ref(*pid));
             }
           });
}

}  // namespace troupe
