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

absl::StatusOr<v1::Pid> ActivatorReply(absl::StatusOr<MessagePtr> reply,
                                       absl::string_view node) {
  if (!reply.ok()) {
    const bool no_activator = absl::IsNotFound(reply.status());
    return absl::Status(
        no_activator ? absl::StatusCode::kUnavailable : reply.status().code(),
        absl::StrCat("node ", node, " did not take the request: ",
                     no_activator
                         ? absl::StrCat("it has no ", kActivatorName,
                                        " actor (not a troupe node server?): ")
                         : "",
                     reply.status().message()));
  }
  if (const auto* pid = As<v1::Pid>(**reply)) {
    return *pid;
  }
  if (const auto* failure = As<AskFailure>(**reply)) {
    const int code = failure->code();
    return absl::Status(code > 0 && code <= 16
                            ? static_cast<absl::StatusCode>(code)
                            : absl::StatusCode::kUnknown,
                        failure->message());
  }
  return absl::InternalError(
      absl::StrCat("node ", node, " answered with a ", TypeName(**reply)));
}

}  // namespace troupe
