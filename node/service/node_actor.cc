#include "node/service/node_actor.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

// The Pid a spawn (exact: with the actor's uid) or a lookup (name-only:
// uid 0, "whichever actor has the name now") answers with.
absl::StatusOr<v1::Pid> RunHere(ActorSystem& system, const KindRegistry& kinds,
                                const SpawnOptions& options,
                                const google::protobuf::Message& request) {
  if (const auto* spawn = As<v1::SpawnRequest>(request)) {
    absl::StatusOr<ActorRef> ref = SpawnKind(system, kinds, *spawn, options);
    if (!ref.ok()) {
      return ref.status();
    }
    return ToProto(ref->pid());
  }
  absl::StatusOr<ActorRef> ref =
      LookupName(system, As<v1::LookupRequest>(request)->name());
  if (!ref.ok()) {
    return ref.status();
  }
  v1::Pid pid = ToProto(ref->pid());
  pid.clear_uid();
  return pid;
}

// Answers other nodes' SpawnRequest and LookupRequest with a Pid, or an
// AskFailure carrying the error.
class NodeActor final : public Actor {
 public:
  NodeActor(const KindRegistry* kinds, SpawnOptions options)
      : kinds_(kinds), options_(options) {}

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (!Is<v1::SpawnRequest>(message) && !Is<v1::LookupRequest>(message)) {
      return absl::OkStatus();
    }
    absl::StatusOr<v1::Pid> pid =
        RunHere(ctx.System(), *kinds_, options_, message);
    if (pid.ok()) {
      ctx.Reply(*std::move(pid));
    } else {
      AskFailure failure;
      failure.set_code(static_cast<int32_t>(pid.status().code()));
      failure.set_message(std::string(pid.status().message()));
      ctx.Reply(std::move(failure));
    }
    return absl::OkStatus();
  }

 private:
  const KindRegistry* const kinds_;
  const SpawnOptions options_;
};

}  // namespace

ActorRef NodeActorOf(ActorSystem& system, absl::string_view node) {
  return system.Resolve(
      Pid{std::string(node), std::string(kNodeActorName), 0});
}

absl::StatusOr<ActorRef> SpawnKind(ActorSystem& system,
                                   const KindRegistry& kinds,
                                   const v1::SpawnRequest& request,
                                   const SpawnOptions& options) {
  const Kind* kind = kinds.Find(request.kind());
  if (kind == nullptr) {
    return kinds.UnknownKind(request.kind());
  }
  absl::StatusOr<ActorFactory> factory =
      kind->make(request.has_init() ? &request.init() : nullptr);
  if (!factory.ok()) {
    return factory.status();
  }
  return system.Spawn(std::move(*factory), request.name(), options);
}

absl::StatusOr<ActorRef> LookupName(ActorSystem& system,
                                    absl::string_view name) {
  absl::StatusOr<ActorRef> ref = system.Lookup(name);
  if (!ref.ok()) {
    return absl::NotFoundError(absl::StrCat("no actor named '", name,
                                            "' is alive on ",
                                            system.address()));
  }
  return ref;
}

absl::Status StartNodeActor(ActorSystem& system, const KindRegistry& kinds,
                            const SpawnOptions& options) {
  return system
      .Spawn(
          [&kinds, options] {
            return std::make_unique<NodeActor>(&kinds, options);
          },
          kNodeActorName)
      .status();
}

void SpawnOrLookupOnNode(ActorSystem& system, const KindRegistry& kinds,
                         const SpawnOptions& options,
                         const google::protobuf::Message& request,
                         absl::Duration timeout, PidCallback done) {
  const auto* spawn = As<v1::SpawnRequest>(request);
  const std::string& node =
      spawn != nullptr ? spawn->node() : As<v1::LookupRequest>(request)->node();
  if (node.empty() || node == system.address()) {
    done(RunHere(system, kinds, options, request));
    return;
  }
  if (!IsNodeAddress(node)) {
    done(absl::InvalidArgumentError(
        absl::StrCat("node '", node, "' is not host:port")));
    return;
  }
  system.AskAsync(
      NodeActorOf(system, node), MakeEnvelope(CloneMessage(request), ActorRef()), timeout,
      [done = std::move(done), node](absl::StatusOr<MessagePtr> reply) {
        if (!reply.ok()) {
          // NOT_FOUND means only that no troupe.node actor is there; any
          // other cause (node down, limits, timeout) is passed on as it is.
          done(absl::Status(
              absl::IsNotFound(reply.status())
                  ? absl::StatusCode::kUnavailable
                  : reply.status().code(),
              absl::StrCat("node ", node, " did not take the request: ",
                           absl::IsNotFound(reply.status())
                               ? absl::StrCat("it has no ", kNodeActorName,
                                              " actor (not a troupe node "
                                              "server?): ")
                               : "",
                           reply.status().message())));
        } else if (const auto* pid = As<v1::Pid>(**reply)) {
          done(*pid);
        } else if (const auto* failure = As<AskFailure>(**reply)) {
          // A peer's code is checked, not trusted: 0 or an unknown one
          // becomes UNKNOWN.
          const int code = failure->code();
          done(absl::Status(code > 0 && code <= 16
                                ? static_cast<absl::StatusCode>(code)
                                : absl::StatusCode::kUnknown,
                            failure->message()));
        } else {
          done(absl::InternalError(absl::StrCat(
              "node ", node, " answered with a ", TypeName(**reply))));
        }
      });
}

}  // namespace troupe
