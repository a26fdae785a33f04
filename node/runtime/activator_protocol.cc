#include "node/runtime/activator_protocol.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace troupe {

v1::SpawnRequest SpawnRequestFor(absl::string_view node, absl::string_view kind,
                                 absl::string_view name, const Message* init) {
  v1::SpawnRequest request;
  request.set_node(std::string(node));
  request.set_kind(std::string(kind));
  request.set_name(std::string(name));
  if (init != nullptr) {
    request.mutable_init()->PackFrom(*init);
  }
  return request;
}

v1::LookupRequest LookupRequestFor(absl::string_view node,
                                   absl::string_view name) {
  v1::LookupRequest request;
  request.set_node(std::string(node));
  request.set_name(std::string(name));
  return request;
}

absl::string_view RequestNode(const Message& request) {
  if (const auto* spawn = As<v1::SpawnRequest>(request)) {
    return spawn->node();
  }
  if (const auto* lookup = As<v1::LookupRequest>(request)) {
    return lookup->node();
  }
  return "";
}

absl::StatusOr<Pid> ActivatorFor(const Message& request,
                                 absl::string_view self) {
  absl::string_view node = RequestNode(request);
  if (node.empty()) {
    node = self;
  }
  if (node != self && !IsNodeAddress(node)) {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", node, "' is not host:port"));
  }
  return Pid{std::string(node), std::string(kActivatorName), 0, 0};
}

absl::StatusOr<MessagePtr> NodeActorReply(absl::StatusOr<MessagePtr> reply,
                                          absl::string_view node,
                                          absl::string_view actor) {
  if (!reply.ok()) {
    const bool no_actor = absl::IsNotFound(reply.status());
    return absl::Status(
        no_actor ? absl::StatusCode::kUnavailable : reply.status().code(),
        absl::StrCat("node ", node, " did not take the request: ",
                     no_actor
                         ? absl::StrCat("it has no ", actor,
                                        " actor (not a troupe node server, "
                                        "or an older one?): ")
                         : "",
                     reply.status().message()));
  }
  if (const auto* failure = As<AskFailure>(**reply)) {
    const int code = failure->code();
    return absl::Status(code > 0 && code <= 16
                            ? static_cast<absl::StatusCode>(code)
                            : absl::StatusCode::kUnknown,
                        failure->message());
  }
  return reply;
}

AskFailure FailureOf(const absl::Status& status) {
  AskFailure failure;
  failure.set_code(static_cast<int32_t>(status.code()));
  failure.set_message(std::string(status.message()));
  return failure;
}

absl::StatusOr<v1::Pid> ActivatorReply(absl::StatusOr<MessagePtr> reply,
                                       absl::string_view node) {
  absl::StatusOr<MessagePtr> answer =
      NodeActorReply(std::move(reply), node, kActivatorName);
  if (!answer.ok()) {
    return answer.status();
  }
  if (const auto* pid = As<v1::Pid>(**answer)) {
    return *pid;
  }
  return absl::InternalError(
      absl::StrCat("node ", node, " answered with a ", TypeName(**answer)));
}

}  // namespace troupe
