#include "node/remote/remote_process.h"

#include <utility>

#include "node/remote/endpoint.h"
#include "node/runtime/envelope.h"

namespace troupe {

RemoteProcess::RemoteProcess(std::shared_ptr<Endpoint> endpoint, std::string id,
                             uint64_t incarnation, uint64_t uid)
    : Process(endpoint->shared_address(), std::move(id), incarnation, uid),
      endpoint_(std::move(endpoint)) {}

void RemoteProcess::SendUser(EnvelopePtr envelope) {
  endpoint_->SendUser(shared_from_this(), std::move(envelope));
}

void RemoteProcess::SendSystem(SystemMessagePtr message) {
  switch (message->kind) {
    case SystemKind::kStop:
      endpoint_->SendStop(shared_from_this());
      break;
    case SystemKind::kWatch:
      endpoint_->Watch(shared_from_this(), message->ref);
      break;
    case SystemKind::kUnwatch:
      endpoint_->Unwatch(shared_from_this(), message->ref);
      break;
    default:
      break;  // supervision and Terminated notices never target a remote
  }
}

}  // namespace troupe
