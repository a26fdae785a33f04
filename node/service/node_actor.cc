#include "node/service/node_actor.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

absl::StatusOr<ActorRef> RunHere(ActorSystem& system,
                                 const KindRegistry& kinds,
                                 const SpawnOptions& options,
                                 const google::protobuf::Message& request) {
  if (const auto* spawn = As<v1::SpawnRequest>(request)) {
    return SpawnKind(system, kinds, *spawn, options);
  }
  return LookupName(system, As<v1::LookupRequest>(request)->name());
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
    absl::StatusOr<ActorRef> ref =
        RunHere(ctx.System(), *kinds_, options_, message);
    if (ref.ok()) {
      ctx.Reply(ToProto(ref->pid()));
    } else {
      AskFailure failure;
      failure.set_code(static_cast<int32_t>(ref.status().code()));
      failure.set_message(std::string(ref.status().message()));
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
    absl::StatusOr<ActorRef> ref = RunHere(system, kinds, options, request);
    done(ref.ok() ? absl::StatusOr<v1::Pid>(ToProto(ref->pid()))
                  : absl::StatusOr<v1::Pid>(ref.status()));
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
          if (absl::IsNotFound(reply.status())) {
            done(absl::UnavailableError(absl::StrCat(
                "node ", node, " did not take the request: it has no ",
                kNodeActorName, " actor (not a troupe node server?), or the "
                "request could not be delivered (",
                reply.status().message(), ")")));
          } else {
            done(reply.status());
          }
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
