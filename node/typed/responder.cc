#include "node/typed/responder.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "node/typed/typed_call.h"

namespace troupe {
namespace typed_internal {

CallState::~CallState() {
  if (ended()) {
    return;
  }
  const std::string method =
      method_ != nullptr ? method_->full_name() : std::string("a call");
  End(absl::AbortedError(absl::StrCat(
      self_ ? self_.ToString() : std::string("the actor"), " dropped ", method,
      streaming_ ? " with its stream open" : " without answering",
      " (it failed or stopped, or let go of its ",
      streaming_ ? "ServerStream" : "Responder", ")")));
}

bool CallState::Send(EnvelopePtr envelope) {
  if (streaming_ ? ended() || (caller_ && caller_.process()->IsTerminated())
                 : ended_.exchange(true, std::memory_order_acq_rel)) {
    return false;
  }
  if (caller_) {
    envelope->answer = true;  // an undeliverable one is told to the caller
    caller_.process()->SendUser(std::move(envelope));
  }
  return true;
}

bool CallState::End(const absl::Status& status) {
  if (ended_.exchange(true, std::memory_order_acq_rel)) {
    return false;
  }
  if (caller_) {
    absl::Status sent = status;
    if (sent.ok() && !streaming_) {
      sent = absl::InternalError(absl::StrCat(
          self_.ToString(), " failed ",
          method_ != nullptr ? method_->full_name() : std::string("a call"),
          " with an OK status: a unary call answers with its reply"));
    }
    AnswerWithStatus(caller_, sent);
  }
  return true;
}

}  // namespace typed_internal
}  // namespace troupe
