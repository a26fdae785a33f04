#include "node/service/client_streams.h"

#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/envelope.h"
#include "node/runtime/logging.h"
#include "node/runtime/process.h"
#include "node/runtime/reply_watchers.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

constexpr char kWatchMethod[] = "/troupe.v1.ActorService/Watch";

// --- Watch -----------------------------------------------------------------

class WatchReactor;

// Stands in the system as the watcher; hands the Terminated to the call.
class WatchProcess final : public Process,
                           public std::enable_shared_from_this<WatchProcess> {
 public:
  WatchProcess(ActorSystem& system, ActorRef target, WatchReactor* reactor)
      : Process(runtime_internal::SystemInternals::SharedAddress(system),
                runtime_internal::SystemInternals::NewReplyId(system, "$watch"),
                system.incarnation()),
        target_(std::move(target)),
        reactor_(reactor) {}

  void SendUser(EnvelopePtr /*envelope*/) override {}
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override {
    MutexLock lock(&mu_);
    return reactor_ == nullptr;
  }

  const ActorRef& target() const { return target_; }
  // The watch is in place: the headers go out, unless the call ended or
  // they did already.
  void InPlace();
  // Ends the call with `status` unless the notice or an earlier end came
  // first; true when this call ended it.
  bool EndWith(const grpc::Status& status);
  // The call is done: nothing is written any more.
  void Detach() {
    MutexLock lock(&mu_);
    reactor_ = nullptr;
  }

 private:
  const ActorRef target_;
  mutable Mutex mu_;
  WatchReactor* reactor_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool in_place_ ABSL_GUARDED_BY(mu_) = false;
};

class WatchReactor final : public grpc::ServerWriteReactor<v1::Terminated> {
 public:
  WatchReactor(ActorSystem& system, std::shared_ptr<ServiceCounters> counters,
               const ActorRef& target)
      : system_(system),
        counters_(std::move(counters)),
        process_(std::make_shared<WatchProcess>(system, target, this)) {
    runtime_internal::SystemInternals::RegisterReply(system_, process_);
    // The response headers tell the client the watch is in place: for an
    // actor of this node once the watch is queued ahead of anything sent
    // to it later; for one of another node once that node has said so
    // (kWatchInPlace), so a stop sent to it after the headers, by any
    // path, is always seen as STOPPED.
    const bool local =
        runtime_internal::SystemInternals::IsLocal(system, target);
    target.process()->SendSystem(
        MakeSystem(SystemKind::kWatch, ActorRef(process_)));
    if (local) {
      process_->InPlace();
    }
  }

  // Under the process's lock, at most once per call, and never after the
  // call has ended.
  void SendInPlace() { StartSendInitialMetadata(); }

  // Under the process's lock, at most once per call.
  void Notify(const ActorRef& ref, TerminationReason reason) {
    notice_ = MakeTerminated(ref, reason);
    counters_->messages_out.fetch_add(1, std::memory_order_relaxed);
    counters_->CountEnd(kWatchMethod, grpc::StatusCode::OK);
    StartWriteAndFinish(&notice_, grpc::WriteOptions(), grpc::Status::OK);
  }

  void OnSendInitialMetadataDone(bool /*ok*/) override {}
  void CountEnd(grpc::StatusCode code) {
    counters_->CountEnd(kWatchMethod, code);
  }

  void OnCancel() override {
    process_->EndWith(grpc::Status(grpc::StatusCode::CANCELLED,
                                   "the client cancelled the watch"));
  }

  void OnDone() override {
    process_->Detach();
    runtime_internal::SystemInternals::UnregisterReply(system_, process_->id());
    if (!notified_) {
      process_->target().process()->SendSystem(
          MakeSystem(SystemKind::kUnwatch, ActorRef(process_)));
    }
    delete this;
  }

  bool notified_ = false;  // set under the process's lock, read in OnDone

 private:
  ActorSystem& system_;
  const std::shared_ptr<ServiceCounters> counters_;
  const std::shared_ptr<WatchProcess> process_;
  Terminated notice_;
};

void WatchProcess::InPlace() {
  MutexLock lock(&mu_);
  if (reactor_ == nullptr || ended_ || in_place_) {
    return;
  }
  in_place_ = true;
  reactor_->SendInPlace();
}

void WatchProcess::SendSystem(SystemMessagePtr message) {
  if (message->kind == SystemKind::kWatchInPlace && message->ref == target_) {
    InPlace();
    return;
  }
  if (message->kind != SystemKind::kTerminated || message->ref != target_) {
    return;
  }
  MutexLock lock(&mu_);
  if (reactor_ == nullptr || ended_) {
    return;
  }
  ended_ = true;
  reactor_->notified_ = true;
  reactor_->Notify(message->ref, message->reason);
}

bool WatchProcess::EndWith(const grpc::Status& status) {
  MutexLock lock(&mu_);
  if (reactor_ == nullptr || ended_) {
    return false;
  }
  ended_ = true;
  reactor_->CountEnd(status.error_code());
  reactor_->Finish(status);
  return true;
}

// --- Inbox -----------------------------------------------------------------

class InboxReactor;

// Stands in the system as the client's inbox: queues what it is sent for
// the stream.
class InboxStreamProcess final
    : public Process,
      public std::enable_shared_from_this<InboxStreamProcess> {
 public:
  InboxStreamProcess(ActorSystem& system, InboxReactor* reactor)
      : Process(
            runtime_internal::SystemInternals::SharedAddress(system),
            runtime_internal::SystemInternals::NewReplyId(system, "$client"),
            system.incarnation()),
        system_(system),
        reactor_(reactor) {}

  void SendUser(EnvelopePtr envelope) override;
  // Watches of the client's inbox: Terminated{STOPPED} when its stream ends.
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override;
  // The stream is done: later messages become dead letters, watchers are
  // told.
  void Detach();
  // Queues `event` for the client unless the stream is gone or full; then
  // says why in `why` (kActorStopped or kMailboxFull).
  bool Post(v1::InboxEvent event, DeadLetterReason* why = nullptr);

 private:
  ActorSystem& system_;
  mutable Mutex mu_;
  InboxReactor* reactor_ ABSL_GUARDED_BY(mu_);
  ReplyWatchers watchers_;
};

class InboxReactor final
    : public grpc::ServerBidiReactor<v1::InboxRequest, v1::InboxEvent> {
 public:
  InboxReactor(ActorSystem& system, std::shared_ptr<ServiceCounters> counters,
               TellFn tell, AskFn ask, size_t max_queued)
      : system_(system),
        counters_(std::move(counters)),
        tell_(std::move(tell)),
        ask_(std::move(ask)),
        max_queued_(max_queued),
        process_(std::make_shared<InboxStreamProcess>(system, this)),
        ref_(process_) {
    runtime_internal::SystemInternals::RegisterReply(system_, process_);
    v1::InboxEvent hello;
    *hello.mutable_inbox() = ToProto(ref_.pid());
    Enqueue(std::move(hello));
    StartRead(&request_);
  }

  // False when the queue is full (`why`: kMailboxFull) or the stream is
  // ending (the client closed its side, or went away: kActorStopped).
  bool Enqueue(v1::InboxEvent event, DeadLetterReason* why = nullptr) {
    MutexLock lock(&mu_);
    if (finishing_ || queue_.size() >= max_queued_) {
      if (why != nullptr) {
        *why = finishing_ ? kActorStopped : kMailboxFull;
      }
      return false;
    }
    queue_.push_back(std::move(event));
    if (!writing_) {
      writing_ = true;
      StartWrite(&queue_.front());
    }
    return true;
  }

  void OnWriteDone(bool ok) override {
    MutexLock lock(&mu_);
    queue_.pop_front();
    if (!ok) {
      writing_ = false;
      Break();  // the client is gone; OnDone follows
    }
    if (!queue_.empty() && !broken_) {
      StartWrite(&queue_.front());
      return;
    }
    writing_ = false;
    MaybeFinish();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client closed its side: what is queued still goes out, then
      // the call ends; what comes later becomes dead letters.
      MutexLock lock(&mu_);
      finishing_ = true;
      MaybeFinish();
      return;
    }
    if (request_.has_tell()) {
      counters_->messages_in.fetch_add(1, std::memory_order_relaxed);
      if (absl::Status sent = tell_(request_.tell(), ref_); !sent.ok()) {
        v1::InboxEvent refused;
        refused.set_error(std::string(sent.message()));
        (void)Enqueue(std::move(refused));
      }
    } else if (request_.has_ask()) {
      StartAsk(request_.ask_id(), request_.ask());
    } else {
      v1::InboxEvent refused;
      refused.set_error("an inbox request needs a tell or an ask");
      (void)Enqueue(std::move(refused));
    }
    StartRead(&request_);
  }

  void OnCancel() override {
    MutexLock lock(&mu_);
    Break();
    MaybeFinish();
  }

  void OnDone() override {
    {
      // Counted at the very end: a client that cancels ends its reads
      // first, so the stream may finish before OnCancel says why. A stream
      // the client left (cancelled, or gone mid-write) ended CANCELLED
      // for it, whatever the server said last.
      MutexLock lock(&mu_);
      counters_->CountEnd(
          "/troupe.v1.ActorService/Inbox",
          broken_ ? grpc::StatusCode::CANCELLED : grpc::StatusCode::OK);
    }
    process_->Detach();
    runtime_internal::SystemInternals::UnregisterReply(system_, process_->id());
    delete this;
  }

  void CountDelivery() {
    counters_->messages_out.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  // The outcome goes back on the stream through the process, which knows
  // whether the stream still exists when the ask completes.
  void StartAsk(uint64_t id, const v1::AskRequest& request) {
    std::weak_ptr<InboxStreamProcess> process = process_;
    auto post = [process, id](absl::StatusOr<MessagePtr> outcome) {
      v1::InboxEvent event;
      v1::AskResult* result = event.mutable_ask_result();
      result->set_ask_id(id);
      if (outcome.ok()) {
        result->mutable_reply()->PackFrom(**outcome);
      } else {
        result->set_code(static_cast<int32_t>(outcome.status().code()));
        result->set_error(std::string(outcome.status().message()));
      }
      if (std::shared_ptr<InboxStreamProcess> alive = process.lock()) {
        (void)alive->Post(std::move(event));
      }
    };
    if (absl::Status started = ask_(request, post); !started.ok()) {
      post(started);
    }
  }

  // The stream cannot deliver any more: what is queued is dropped (said in
  // the log: those messages were sent to the client and never reached it).
  void Break() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (broken_) {
      return;
    }
    broken_ = true;
    finishing_ = true;
    const size_t lost = queue_.size() - (writing_ ? 1 : 0);
    if (lost > 0) {
      Log(LogSeverity::kWarning, "service",
          absl::StrCat("client inbox ", ref_.ToString(), " went away with ",
                       lost, " messages not yet delivered to it"));
    }
  }

  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finishing_ && !writing_ && !finished_ && (queue_.empty() || broken_)) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  ActorSystem& system_;
  const std::shared_ptr<ServiceCounters> counters_;
  const TellFn tell_;
  const AskFn ask_;
  const size_t max_queued_;
  const std::shared_ptr<InboxStreamProcess> process_;
  const ActorRef ref_;
  v1::InboxRequest request_;  // reads complete one at a time
  Mutex mu_;
  std::deque<v1::InboxEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;  // refuses new events
  bool broken_ ABSL_GUARDED_BY(mu_) = false;     // cannot write any more
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

void InboxStreamProcess::SendUser(EnvelopePtr envelope) {
  v1::InboxEvent event;
  v1::InboxDelivery* delivery = event.mutable_delivery();
  delivery->mutable_message()->PackFrom(envelope->message());
  if (envelope->sender) {
    *delivery->mutable_sender() = ToProto(envelope->sender.pid());
  }
  DeadLetterReason refused = kActorStopped;
  if (Post(std::move(event), &refused)) {
    return;
  }
  runtime_internal::SystemInternals::DeadLetter(
      system_, ActorRef(shared_from_this()), std::move(envelope), refused,
      refused == kMailboxFull ? "the client's inbox queue is full"
                              : "the client's inbox stream has ended");
}

bool InboxStreamProcess::Post(v1::InboxEvent event, DeadLetterReason* why) {
  MutexLock lock(&mu_);
  if (reactor_ == nullptr) {
    if (why != nullptr) {
      *why = kActorStopped;
    }
    return false;
  }
  if (!reactor_->Enqueue(std::move(event), why)) {
    return false;
  }
  reactor_->CountDelivery();
  return true;
}

bool InboxStreamProcess::IsTerminated() const {
  MutexLock lock(&mu_);
  return reactor_ == nullptr;
}

void InboxStreamProcess::SendSystem(SystemMessagePtr message) {
  watchers_.Handle(ActorRef(shared_from_this()), *message);
}

void InboxStreamProcess::Detach() {
  {
    MutexLock lock(&mu_);
    reactor_ = nullptr;
  }
  watchers_.End(ActorRef(shared_from_this()));
}

}  // namespace

grpc::ServerWriteReactor<v1::Terminated>* StartWatch(
    ActorSystem& system, std::shared_ptr<ServiceCounters> counters,
    const ActorRef& target) {
  return new WatchReactor(system, std::move(counters), target);
}

grpc::ServerBidiReactor<v1::InboxRequest, v1::InboxEvent>* StartInbox(
    ActorSystem& system, std::shared_ptr<ServiceCounters> counters, TellFn tell,
    AskFn ask, size_t max_queued) {
  return new InboxReactor(system, std::move(counters), std::move(tell),
                          std::move(ask), max_queued);
}

}  // namespace troupe
