#include "node/service/ingress_stream.h"

#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/remote/grpc_frames.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/envelope.h"
#include "node/runtime/reply_watchers.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
#include "node/service/grpc_status.h"
#include "node/service/rpc_counters.h"
#include "node/service/service_node.h"
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

// The most bytes of items a stream keeps waiting for its caller.
constexpr size_t kMaxQueuedBytes = 64 << 20;

// What the reactor and the reply process share: the queue of items to
// write, and how the call ends. The reactor pointer is valid until Finish
// has been called (gRPC calls OnDone only after it).
class StreamCore {
 public:
  StreamCore(ActorSystem& system, IngressStream* reactor,
             const google::protobuf::MethodDescriptor* method,
             size_t max_queued, const RpcCall& call)
      : system_(system),
        reactor_(reactor),
        method_(method),
        call_(call),
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
    bool ended = false;
    {
      // An end between setting target_ and the watch may have sent its
      // unwatch first: take the watch back, and send nothing.
      MutexLock lock(&mu_);
      ended = ended_;
    }
    if (ended) {
      target.process()->SendSystem(MakeSystem(SystemKind::kUnwatch, self_));
      return;
    }
    EnvelopePtr envelope = MakeEnvelope(std::move(request), self_);
    envelope->method = method_;
    target.process()->SendUser(std::move(envelope));
  }

  // An item or the end, from the actor (or a dead letter of the request).
  void Deliver(EnvelopePtr envelope) {
    const Message& message = envelope->message();
    // The request's own dead letter, or an item's or the end's that could
    // not be delivered here (Envelope::answer).
    if (const DeadLetter* letter = DeadLetterForSlot(message, self_.id())) {
      End(DeadLetterStatus(*letter), /*drop_queued=*/false);
      return;
    }
    if (const auto* status = As<v1::CallStatus>(message)) {
      End(status->code() == 0 ? absl::OkStatus() : FromCallStatus(*status),
          /*drop_queued=*/false);
      return;
    }
    if (message.GetDescriptor() != method_->output_type()) {
      End(UnexpectedReply(message, method_->output_type()),
          /*drop_queued=*/false);
      return;
    }
    grpc::ByteBuffer item;
    SerializeToBuffer(message, &item);
    bool late = false;
    {
      MutexLock lock(&mu_);
      late = ended_;
      if (!late) {
        queued_bytes_ += item.Length();
        queue_.push_back(std::move(item));
      }
      if (!late &&
          (queue_.size() > max_queued_ || queued_bytes_ > kMaxQueuedBytes)) {
        EndLocked(
            absl::ResourceExhaustedError(absl::StrCat(
                "the caller of ", method_->full_name(), " read slower than ",
                target_.ToString(), " wrote: ", queue_.size(), " items (",
                queued_bytes_, " bytes) were waiting; at most ", max_queued_,
                " (--inbox_queue) and ", kMaxQueuedBytes, " bytes")),
            /*drop_queued=*/true);
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
    // What the actor sent before it ended is written first.
    absl::Status end;
    if (message.reason == kNodeDown) {
      end = absl::UnavailableError(
          absl::StrCat("the node of ", message.ref.ToString(),
                       " is down or unreachable; the stream ended"));
    } else if (message.reason == kNotFound) {
      end = absl::NotFoundError(
          absl::StrCat("no actor ", message.ref.ToString(), " is alive"));
    } else {
      end = absl::AbortedError(absl::StrCat(message.ref.ToString(),
                                            " stopped with the stream open"));
    }
    End(end, /*drop_queued=*/false);
  }

  // Ends the call with `status`, after the items queued unless
  // `drop_queued` (an end decided here: a cancel, a slow reader, the node
  // going away).
  void End(const absl::Status& status, bool drop_queued) {
    {
      MutexLock lock(&mu_);
      EndLocked(status, drop_queued);
    }
    Kick();
  }

  void WriteDone(bool ok) {
    {
      MutexLock lock(&mu_);
      busy_ = false;
      if (!ok) {
        EndLocked(absl::CancelledError("the caller went away"),
                  /*drop_queued=*/true);
      }
    }
    Kick();
  }

  void Done() {
    MutexLock lock(&mu_);
    reactor_ = nullptr;
  }

 private:
  void EndLocked(const absl::Status& status, bool drop_queued)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (drop_queued) {
      // Also after the actor's own end: the caller is gone, or the node is.
      queue_.clear();
      queued_bytes_ = 0;
    }
    if (ended_) {
      return;
    }
    ended_ = true;
    end_ = status;
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
        queued_bytes_ -= current_.Length();
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
      reactor->Finish(call_.End(status));
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
  const RpcCall call_;  // counts the end
  const size_t max_queued_;
  const std::shared_ptr<StreamProcess> process_;
  const ActorRef self_;
  ActorRef target_ ABSL_GUARDED_BY(mu_);
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
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

bool OpenStreams::Add(const std::shared_ptr<StreamCore>& stream) {
  MutexLock lock(&mu_);
  if (closed_) {
    return false;
  }
  streams_.emplace(stream.get(), stream);
  return true;
}

void OpenStreams::Reopen() {
  MutexLock lock(&mu_);
  closed_ = false;
}

void OpenStreams::Remove(const StreamCore* stream) {
  MutexLock lock(&mu_);
  streams_.erase(stream);
}

void OpenStreams::EndAll(const absl::Status& status) {
  std::vector<std::shared_ptr<StreamCore>> open;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    for (const auto& [key, weak] : streams_) {
      if (std::shared_ptr<StreamCore> stream = weak.lock()) {
        open.push_back(std::move(stream));
      }
    }
  }
  for (const std::shared_ptr<StreamCore>& stream : open) {
    stream->End(status, /*drop_queued=*/true);
  }
}

IngressStream::IngressStream(ActorSystem& system,
                             const google::protobuf::MethodDescriptor* method,
                             size_t max_queued,
                             std::shared_ptr<OpenStreams> open,
                             const RpcCall& call)
    : core_(
          std::make_shared<StreamCore>(system, this, method, max_queued, call)),
      open_(std::move(open)) {
  core_->Register(core_);
  if (!open_->Add(core_)) {
    core_->End(ServiceNode::NotServing(), /*drop_queued=*/true);
  }
}

IngressStream::~IngressStream() = default;

void IngressStream::Starter::Start(const ActorRef& target,
                                   MessagePtr request) const {
  core_->Start(target, std::move(request));
}

void IngressStream::Starter::Fail(const absl::Status& status) const {
  core_->End(status, /*drop_queued=*/true);
}

void IngressStream::OnWriteDone(bool ok) { core_->WriteDone(ok); }

void IngressStream::OnCancel() {
  core_->End(absl::CancelledError(
                 "the caller cancelled the call, or its deadline passed"),
             /*drop_queued=*/true);
}

void IngressStream::OnDone() {
  // Unwatches the target, if that has not happened yet.
  core_->End(absl::CancelledError("the call is over"), /*drop_queued=*/true);
  core_->Done();
  open_->Remove(core_.get());
  delete this;
}

}  // namespace troupe
