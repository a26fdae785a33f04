#include "node/runtime/ask_process.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe {

AskProcess::AskProcess(ActorSystem* system, std::string id, ActorRef target,
                       AskCallback done)
    : Process(system->shared_address(), std::move(id), system->incarnation()),
      system_(system),
      target_(std::move(target)),
      begun_(SampledOnThisThread<AskProcess, kAskSampleEvery>()
                 ? std::chrono::steady_clock::now()
                 : std::chrono::steady_clock::time_point()),
      done_callback_(std::move(done)) {
  system_->asks_begun_.Add();
}

// watching_ and done_ are seq_cst: whichever of WatchTarget and Complete
// comes second sees the other's flag, so a watch placed as the ask
// completes is always taken back (an extra unwatch is harmless).
void AskProcess::WatchTarget() {
  watching_.store(true, std::memory_order_seq_cst);
  target_.process()->SendSystem(
      MakeSystem(SystemKind::kWatch, ActorRef(shared_from_this())));
  if (done_.load(std::memory_order_seq_cst)) {
    target_.process()->SendSystem(
        MakeSystem(SystemKind::kUnwatch, ActorRef(shared_from_this())));
  }
}

void AskProcess::set_timer(TimerHandle timer) {
  MutexLock lock(&mu_);
  timer_ = std::move(timer);
  if (done_.load(std::memory_order_acquire)) {
    timer_.Cancel();
  }
}

void AskProcess::Complete(absl::StatusOr<MessagePtr> result) {
  if (done_.exchange(true, std::memory_order_seq_cst)) {
    return;
  }
  {
    MutexLock lock(&mu_);
    timer_.Cancel();
  }
  system_->asks_ended_.Add();
  if (begun_ != std::chrono::steady_clock::time_point()) {
    system_->ask_latency_.Observe(
        absl::FromChrono(std::chrono::steady_clock::now() - begun_));
  }
  system_->UnregisterReply(id());
  if (watching_.load(std::memory_order_seq_cst)) {
    target_.process()->SendSystem(
        MakeSystem(SystemKind::kUnwatch, ActorRef(shared_from_this())));
  }
  watchers_.End(ActorRef(shared_from_this()));
  // Last: the callback may release the last reference to this process.
  std::exchange(done_callback_, nullptr)(std::move(result));
}

void AskProcess::SendUser(EnvelopePtr envelope) {
  // A dead letter whose sender is this reply slot is the asked message's
  // own (the slot's id is unique and sends nothing else), whatever spelling
  // of the target it names; one whose target is this slot is an answer to
  // it that could not be delivered (Envelope::answer). Either way the ask
  // fails with the cause's status.
  if (const DeadLetter* letter = DeadLetterForSlot(envelope->message(), id())) {
    Complete(DeadLetterStatus(*letter));
    return;
  }
  Complete(envelope->TakeMessage());
}

void AskProcess::SendSystem(SystemMessagePtr message) {
  if (watchers_.Handle(ActorRef(shared_from_this()), *message)) {
    return;
  }
  // Only the watched target's end matters; nobody supervises a reply slot.
  if (message->kind != SystemKind::kTerminated || message->ref != target_) {
    return;
  }
  if (message->reason == kNodeDown) {
    Complete(absl::UnavailableError(
        absl::StrCat("the node of ", target_.ToString(),
                     " is down or unreachable; the ask cannot be answered")));
  } else if (message->reason == kNotFound) {
    Complete(absl::NotFoundError(absl::StrCat("no actor ", target_.ToString(),
                                              " is alive to answer the ask")));
  } else {
    Complete(absl::NotFoundError(
        absl::StrCat(target_.ToString(), " stopped before it answered")));
  }
}

void DeadProcess::SendUser(EnvelopePtr envelope) {
  system_->DeadLetter(ActorRef(shared_from_this()), std::move(envelope),
                      kNoSuchActor, detail_);
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
