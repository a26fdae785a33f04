#include "node/service/activator.h"

#include <memory>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/cluster.h"
#include "node/runtime/system_messages.h"
#include "proto/cluster.pb.h"

namespace troupe {
namespace {

// The Pid a spawn (exact: with the actor's uid) or a lookup (name-only:
// uid 0, "whichever actor has the name now") answers with.
absl::StatusOr<v1::Pid> RunHere(ActorSystem& system, const KindRegistry& kinds,
                                const SpawnOptions& options,
                                const Message& request) {
  if (const auto* spawn = As<v1::SpawnRequest>(request)) {
    absl::StatusOr<ActorRef> ref = SpawnKind(system, kinds, *spawn, options);
    if (!ref.ok()) {
      return ref.status();
    }
    return PidOf(*ref);
  }
  if (const auto* lookup = As<v1::LookupRequest>(request)) {
    absl::StatusOr<ActorRef> ref = LookupName(system, lookup->name());
    if (!ref.ok()) {
      return ref.status();
    }
    v1::Pid pid = PidOf(*ref);
    pid.clear_uid();
    return pid;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("an activator takes a SpawnRequest or a LookupRequest, not "
                   "a ",
                   TypeName(request)));
}

// A lookup naming no node: the cluster's names first (README, "Cluster-wide
// names"), then the actors of this node by name. When neither has it and
// the cluster could not be asked, the answer says both.
void LookUpInCluster(ActorSystem& system, const KindRegistry& kinds,
                     const v1::LookupRequest& lookup, absl::Duration timeout,
                     PidCallback done) {
  v1::WhereIsName where;
  where.set_name(lookup.name());
  system.AskAsync(
      ClusterActorOf(system), MakeEnvelope(std::move(where), ActorRef()),
      timeout,
      [&system, &kinds, lookup,
       done = std::move(done)](absl::StatusOr<MessagePtr> reply) {
        absl::StatusOr<v1::Pid> named = NameReplyRef(reply);
        if (named.ok()) {
          done(*std::move(named));
          return;
        }
        absl::StatusOr<v1::Pid> here = RunHere(system, kinds, {}, lookup);
        if (here.ok() || named.status().code() == absl::StatusCode::kNotFound) {
          done(std::move(here));
          return;
        }
        done(absl::Status(
            here.status().code(),
            absl::StrCat(here.status().message(), "; the cluster's names ",
                         "could not be searched: ", named.status().message())));
      });
}

// Answers other nodes' SpawnRequest and LookupRequest with a Pid, or an
// AskFailure carrying the error.
class Activator final : public Actor {
 public:
  Activator(const KindRegistry* kinds, SpawnOptions options)
      : kinds_(kinds), options_(options) {}

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (!ctx.Sender()) {
      return absl::OkStatus();  // nobody to answer
    }
    absl::StatusOr<v1::Pid> pid =
        RunHere(ctx.System(), *kinds_, options_, message);
    if (pid.ok()) {
      ctx.Reply(*std::move(pid));
    } else {
      ctx.Reply(FailureOf(pid.status()));
    }
    return absl::OkStatus();
  }

 private:
  const KindRegistry* const kinds_;
  const SpawnOptions options_;
};

}  // namespace

absl::StatusOr<ActorRef> SpawnKind(ActorSystem& system,
                                   const KindRegistry& kinds,
                                   const v1::SpawnRequest& request,
                                   const SpawnOptions& options) {
  const Kind* kind = kinds.Find(request.kind());
  if (kind == nullptr) {
    return kinds.UnknownKind(request.kind());
  }
  if (!request.service().empty() &&
      absl::c_none_of(kind->services, [&](const auto* service) {
        return service->full_name() == request.service();
      })) {
    return absl::UnimplementedError(absl::StrCat(
        "kind '", request.kind(), "' does not serve ", request.service()));
  }
  if (request.existing_ok() && !request.name().empty()) {
    if (absl::StatusOr<ActorRef> live = system.Lookup(request.name());
        live.ok()) {
      return live;
    }
  }
  absl::StatusOr<ActorFactory> factory =
      kind->make(request.has_init() ? &request.init() : nullptr);
  if (!factory.ok()) {
    return factory.status();
  }
  SpawnOptions as_kind = options;
  as_kind.kind = kind->name;
  absl::StatusOr<ActorRef> spawned =
      system.Spawn(std::move(*factory), request.name(), as_kind);
  if (spawned.ok() || !request.existing_ok() ||
      spawned.status().code() != absl::StatusCode::kAlreadyExists) {
    return spawned;
  }
  // Another caller spawned it between the lookup and the spawn.
  return LookupName(system, request.name());
}

absl::StatusOr<ActorRef> LookupName(ActorSystem& system,
                                    absl::string_view name) {
  absl::StatusOr<ActorRef> ref = system.Lookup(name);
  if (!ref.ok()) {
    return absl::NotFoundError(absl::StrCat(
        "no actor named '", name, "' is alive on ", system.address()));
  }
  return ref;
}

absl::Status StartActivator(ActorSystem& system, const KindRegistry& kinds,
                            const SpawnOptions& options) {
  return system
      .Spawn([&kinds,
              options] { return std::make_unique<Activator>(&kinds, options); },
             kActivatorName, SpawnOptions{0, "troupe.activator"})
      .status();
}

void Activate(ActorSystem& system, const KindRegistry& kinds,
              const SpawnOptions& options, const Message& request,
              absl::Duration timeout, PidCallback done) {
  absl::StatusOr<Pid> activator = ActivatorFor(request, system.address());
  if (!activator.ok()) {
    done(activator.status());
    return;
  }
  const auto* lookup = As<v1::LookupRequest>(request);
  if (lookup != nullptr && lookup->node().empty() &&
      system.Lookup(kClusterActorName).ok()) {
    LookUpInCluster(system, kinds, *lookup, timeout, std::move(done));
    return;
  }
  if (activator->address == system.address()) {
    done(RunHere(system, kinds, options, request));  // this node's own
    return;
  }
  system.AskAsync(system.Resolve(*activator),
                  MakeEnvelope(CloneMessage(request), ActorRef()), timeout,
                  [done = std::move(done), node = activator->address](
                      absl::StatusOr<MessagePtr> reply) {
                    done(ActivatorReply(std::move(reply), node));
                  });
}

}  // namespace troupe
