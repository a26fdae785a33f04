#include "node/runtime/inbox.h"

#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe {

// The Process behind an Inbox: a queue a thread waits on, and the refs the
// inbox watches. Thread-safe.
class InboxProcess final : public Process {
 public:
  using Process::Process;
  void SendUser(EnvelopePtr envelope) override;
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override;

  absl::StatusOr<Inbox::Received> Receive(absl::Duration timeout);
  // Returns false when already watching `ref`.
  bool AddWatch(const ActorRef& ref);
  bool RemoveWatch(const ActorRef& ref);
  // Drops what is queued and refuses more; returns what it was watching.
  std::vector<ActorRef> Close();

 private:
  mutable Mutex mu_;
  std::deque<EnvelopePtr> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<ActorRef> watching_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

Inbox::Inbox(ActorSystem& system)
    : system_(system),
      process_(std::make_shared<InboxProcess>(
          runtime_internal::SystemInternals::SharedAddress(system),
          runtime_internal::SystemInternals::NewReplyId(system, "$inbox"),
          system.incarnation())),
      ref_(process_) {
  runtime_internal::SystemInternals::RegisterReply(system_, process_);
}

Inbox::~Inbox() {
  runtime_internal::SystemInternals::UnregisterReply(system_, process_->id());
  // Watches end with the inbox (a remote node's table must not keep it).
  for (const ActorRef& watched : process_->Close()) {
    watched.process()->SendSystem(MakeSystem(SystemKind::kUnwatch, ref_));
  }
}

absl::StatusOr<Inbox::Received> Inbox::Receive(absl::Duration timeout) {
  return process_->Receive(timeout);
}

void Inbox::Watch(const ActorRef& ref) {
  if (!ref) {
    return;
  }
  if (process_->AddWatch(ref)) {
    ref.process()->SendSystem(MakeSystem(SystemKind::kWatch, ref_));
  }
}

void Inbox::Unwatch(const ActorRef& ref) {
  if (process_->RemoveWatch(ref)) {
    ref.process()->SendSystem(MakeSystem(SystemKind::kUnwatch, ref_));
  }
}

TimerHandle Inbox::TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                const TellOptions& options) {
  return system_.TellEnvelope(to, std::move(envelope), options);
}

ActorRef Inbox::Ref(const v1::Pid& pid) { return system_.Ref(pid); }

std::future<absl::StatusOr<ActorRef>> Inbox::Activate(const Message& request,
                                                      absl::Duration timeout) {
  return system_.Activate(request, timeout);
}

void Inbox::AskAsync(const ActorRef& to, EnvelopePtr envelope,
                     absl::Duration timeout, AskCallback done) {
  system_.AskAsync(to, std::move(envelope), timeout, std::move(done));
}

void InboxProcess::SendUser(EnvelopePtr envelope) {
  MutexLock lock(&mu_);
  if (!closed_) {
    queue_.push_back(std::move(envelope));
  }
}

void InboxProcess::SendSystem(SystemMessagePtr message) {
  if (message->kind != SystemKind::kTerminated) {
    return;
  }
  MutexLock lock(&mu_);
  if (closed_ || watching_.erase(message->ref) == 0) {
    return;  // not watched (any more): no notice
  }
  queue_.push_back(
      MakeEnvelope(MakeTerminated(message->ref, message->reason), ActorRef()));
}

bool InboxProcess::IsTerminated() const {
  MutexLock lock(&mu_);
  return closed_;
}

absl::StatusOr<Inbox::Received> InboxProcess::Receive(absl::Duration timeout) {
  MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty();
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("no message within ", absl::FormatDuration(timeout)));
  }
  EnvelopePtr envelope = std::move(queue_.front());
  queue_.pop_front();
  Inbox::Received received;
  received.sender = std::move(envelope->sender);
  received.message = envelope->TakeMessage();
  return received;
}

bool InboxProcess::AddWatch(const ActorRef& ref) {
  MutexLock lock(&mu_);
  return watching_.insert(ref).second;
}

bool InboxProcess::RemoveWatch(const ActorRef& ref) {
  MutexLock lock(&mu_);
  return watching_.erase(ref) > 0;
}

std::vector<ActorRef> InboxProcess::Close() {
  MutexLock lock(&mu_);
  closed_ = true;
  queue_.clear();
  std::vector<ActorRef> watched(watching_.begin(), watching_.end());
  watching_.clear();
  return watched;
}

}  // namespace troupe
