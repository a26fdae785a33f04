#include "node/service/ingress_stream.h"

#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/remote/grpc_frames.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/envelope.h"
#include "node/runtime/reply_watchers.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
#include "node/service/grpc_status.h"
#include "node/typed/typed_call.h"

namespace troupe {

// The reply process: where the actor's items arrive. Outlives the call
// when refs to it remain (an actor holding its ServerStream); once the
// call is gone, what arrives is a dead letter.
class StreamProcess final : public Process,
                            public std::enable_shared_from_this<StreamProcess> {
 public:
  StreamProcess(ActorSystem& system, std::string id)
      : Process(runtime_internal::SystemInternals::SharedAddress(system),
                std::move(id), system.incarnation()),
        system_(system) {}

  void set_core(std::weak_ptr<StreamCore> core) { core_ = std::move(core); }
  void SendUser(EnvelopePtr envelope) override;
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override {
    return ended_.load(std::memory_order_acquire);
  }
  // The stream has ended: unregistered, watchers told.
  void End() {
    if (ended_.exchange(true, std::memory_order_acq_rel)) {
      return;
    }
    runtime_internal::SystemInternals::UnregisterReply(system_, id());
    watchers_.End(ActorRef(shared_from_this()));
  }

 private:
  ActorSystem& system_;
  std::weak_ptr<StreamCore> core_;
  std::atomic<bool> ended_{false};
  ReplyWatchers watchers_;
};

// What the reactor and the reply process share: the queue of items to
// write, and how the call ends. The reactor pointer is valid until Finish
// has been called (gRPC calls OnDone only after it).
class StreamCore {
 public:
  StreamCore(ActorSystem& system, IngressStream* reactor,
             const google::protobuf::MethodDescriptor* method,
             size_t max_queued)
      : system_(system),
        reactor_(reactor),
        method_(method),
        max_queued_(max_queued),
        process_(std::make_shared<StreamProcess>(
            system,
            runtime_internal::SystemInternals::NewReplyId(system, "$stream"))),
        self_(process_) {}

  void Register(const std::shared_ptr<StreamCore>& me) {
    process_->set_core(me);
    runtime_internal::SystemInternals::RegisterReply(system_, process_);
  }

  const ActorRef& self() const { return self_; }

  void Start(const ActorRef& target, MessagePtr request) {
    {
      MutexLock lock(&mu_);
      if (ended_) {
        return;
      }
      target_ = target;
    }
    target.process()->SendSystem(MakeSystem(SystemKind::kWatch, self_));
    EnvelopePtr envelope = MakeEnvelope(std::move(request), self_);
    envelope->method = method_;
    target.process()->SendUser(std::move(envelope));
  }

  // An item or the end, from the actor (or a dead letter of the request).
  void Deliver(EnvelopePtr envelope) {
    const Message& message = envelope->message();
    if (const auto* letter = As<DeadLetter>(message);
        letter != nullptr && letter->sender().id() == self_.id()) {
      End(DeadLetterStatus(*letter));
      return;
    }
    if (const auto* status = As<v1::CallStatus>(message)) {
      End(status->code() == 0 ? absl::OkStatus() : FromCallStatus(*status));
      return;
    }
    if (message.GetDescriptor() != method_->output_type()) {
      End(UnexpectedReply(message, method_->output_type()));
      return;
    }
    grpc::ByteBuffer item;
    SerializeToBuffer(message, &item);
    bool late = false;
    {
      MutexLock lock(&mu_);
      late = ended_;
      if (!late) {
        queue_.push_back(std::move(item));
      }
      if (!late && queue_.size() > max_queued_) {
        EndLocked(absl::ResourceExhaustedError(absl::StrCat(
            "the caller of ", method_->full_name(), " read slower than ",
            target_.ToString(), " wrote: ", max_queued_,
            " items were waiting (--inbox_queue)")));
      }
    }
    if (late) {
      LateItem(std::move(envelope));
      return;
    }
    Kick();
  }

  // A watched target ended.
  void TargetEnded(const SystemMessage& message) {
    {
      MutexLock lock(&mu_);
      if (ended_ || message.ref != target_) {
        return;
      }
    }
    if (message.reason == kNodeDown) {
      End(absl::UnavailableError(
          absl::StrCat("the node of ", message.ref.ToString(),
                       " is down or unreachable; the stream ended")));
    } else if (message.reason == kNotFound) {
      End(absl::NotFoundError(
          absl::StrCat("no actor ", message.ref.ToString(), " is alive")));
    } else {
      End(absl::AbortedError(absl::StrCat(message.ref.ToString(),
                                          " stopped with the stream open")));
    }
  }

  void End(const absl::Status& status) {
    {
      MutexLock lock(&mu_);
      EndLocked(status);
    }
    Kick();
  }

  void WriteDone(bool ok) {
    {
      MutexLock lock(&mu_);
      busy_ = false;
      if (!ok) {
        EndLocked(absl::CancelledError("the caller went away"));
      }
    }
    Kick();
  }

  void Done() {
    MutexLock lock(&mu_);
    reactor_ = nullptr;
  }

 private:
  void EndLocked(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ended_) {
      return;
    }
    ended_ = true;
    end_ = status;
    if (!status.ok()) {
      queue_.clear();  // an error ends the call now, not after the queue
    }
    ending_ = true;
  }

  // Starts the next write, or the Finish, when no write is in flight.
  void Kick() {
    IngressStream* reactor = nullptr;
    bool finish = false;
    absl::Status status;
    ActorRef target;
    bool end_process = false;
    {
      MutexLock lock(&mu_);
      if (ending_) {
        ending_ = false;
        end_process = true;
        target = target_;
      }
      if (reactor_ == nullptr || busy_ || finished_) {
        // nothing to start
      } else if (!queue_.empty()) {
        busy_ = true;
        current_ = std::move(queue_.front());
        queue_.pop_front();
        reactor = reactor_;
      } else if (ended_) {
        busy_ = true;
        finished_ = true;
        finish = true;
        status = end_;
        reactor = reactor_;
      }
    }
    if (end_process) {
      if (target) {
        target.process()->SendSystem(MakeSystem(SystemKind::kUnwatch, self_));
      }
      process_->End();
    }
    if (reactor == nullptr) {
      return;
    }
    if (finish) {
      reactor->Finish(ToGrpcStatus(status));
    } else {
      reactor->StartWrite(&current_);
    }
  }

  void LateItem(EnvelopePtr envelope) {
    runtime_internal::SystemInternals::DeadLetter(
        system_, self_, std::move(envelope), kActorStopped,
        "the stream had ended");
  }

  ActorSystem& system_;
  Mutex mu_;
  IngressStream* reactor_ ABSL_GUARDED_BY(mu_);
  const google::protobuf::MethodDescriptor* const method_;
  const size_t max_queued_;
  const std::shared_ptr<StreamProcess> process_;
  const ActorRef self_;
  ActorRef target_ ABSL_GUARDED_BY(mu_);
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer current_;                // the write in flight (busy_)
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // a write or the Finish started
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;  // ended; process not yet told
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_ ABSL_GUARDED_BY(mu_);
};

void StreamProcess::SendUser(EnvelopePtr envelope) {
  if (std::shared_ptr<StreamCore> core = core_.lock()) {
    core->Deliver(std::move(envelope));
    return;
  }
  runtime_internal::SystemInternals::DeadLetter(
      system_, ActorRef(shared_from_this()), std::move(envelope), kActorStopped,
      "the stream had ended");
}

void StreamProcess::SendSystem(SystemMessagePtr message) {
  if (watchers_.Handle(ActorRef(shared_from_this()), *message)) {
    return;
  }
  if (message->kind != SystemKind::kTerminated) {
    return;
  }
  if (std::shared_ptr<StreamCore> core = core_.lock()) {
    core->TargetEnded(*message);
  }
}

IngressStream::IngressStream(ActorSystem& system,
                             const google::protobuf::MethodDescriptor* method,
                             size_t max_queued)
    : core_(std::make_shared<StreamCore>(system, this, method, max_queued)) {
  core_->Register(core_);
}

IngressStream::~IngressStream() = default;

void IngressStream::Start(const ActorRef& target, MessagePtr request) {
  core_->Start(target, std::move(request));
}

void IngressStream::Fail(const absl::Status& status) { core_->End(status); }

void IngressStream::OnWriteDone(bool ok) { core_->WriteDone(ok); }

void IngressStream::OnCancel() {
  core_->End(absl::CancelledError(
      "the caller cancelled the call, or its deadline passed"));
}

void IngressStream::OnDone() {
  core_->End(absl::CancelledError("the call is over"));  // unwatch, if not yet
  core_->Done();
  delete this;
}

}  // namespace troupe
