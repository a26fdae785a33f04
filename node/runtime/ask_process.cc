#include "node/runtime/ask_process.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe {

AskProcess::AskProcess(const std::string* address, std::string id,
                       uint64_t incarnation, ActorRef target)
    : Process(address, std::move(id), incarnation),
      target_(std::move(target)) {}

void AskProcess::set_timer(TimerHandle timer) {
  MutexLock lock(&mu_);
  timer_ = std::move(timer);
  if (done_.load(std::memory_order_acquire)) {
    timer_.Cancel();
  }
}

void AskProcess::Complete(absl::StatusOr<MessagePtr> result) {
  if (done_.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  {
    MutexLock lock(&mu_);
    timer_.Cancel();
  }
  promise_.set_value(std::move(result));
}

void AskProcess::SendUser(EnvelopePtr envelope) {
  if (const auto* letter = As<DeadLetter>(envelope->message());
      letter != nullptr && SameActor(target_, letter->target())) {
    Complete(absl::NotFoundError(absl::StrCat(
        target_.ToString(), " is not alive; the ask cannot be answered")));
    return;
  }
  Complete(envelope->TakeMessage());
}

void AskProcess::SendSystem(SystemMessagePtr /*message*/) {
  // Nobody supervises or watches a reply slot; nothing to do.
}

void DeadProcess::SendUser(EnvelopePtr envelope) {
  system_->DeadLetter(ActorRef(shared_from_this()), std::move(envelope),
                      "no such actor");
}

void DeadProcess::SendSystem(SystemMessagePtr message) {
  if (message->kind == SystemKind::kWatch && message->ref) {
    auto reply =
        MakeSystem(SystemKind::kTerminated, ActorRef(shared_from_this()));
    reply->reason = kNotFound;
    message->ref.process()->SendSystem(std::move(reply));
  }
}

}  // namespace troupe
