#include "sdk/client_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/remote/cluster_auth.h"
#include "node/remote/grpc_lifetime.h"
#include "node/runtime/envelope.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"
#include "sdk/client_refs.h"

namespace troupe {
namespace {

// How long Close waits for the calls it cancelled.
constexpr absl::Duration kCloseWait = absl::Seconds(10);

}  // namespace

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// The client's inbox: one bidi call; tells go up in order, deliveries come
// down into the Receive queue.
class ClientCore::InboxStream final
    : public grpc::ClientBidiReactor<v1::InboxRequest, v1::InboxEvent> {
 public:
  // `core` owns the stream and destroys it only after OnDone.
  explicit InboxStream(ClientCore* core) : core_(core) {
    core_->Prepare(&context_, absl::InfiniteDuration());
    core_->stub().async()->Inbox(&context_, this);
    StartRead(&event_);
    AddHold();  // writes may start from outside a reaction
    StartCall();
  }

  // False once the stream has ended or is closing.
  bool Send(v1::InboxRequest request) {
    MutexLock lock(&mu_);
    if (ended_ || closing_) {
      return false;
    }
    queue_.push_back(std::move(request));
    if (!writing_) {
      writing_ = true;
      StartWrite(&queue_.front());
    }
    return true;
  }

  void Cancel() { context_.TryCancel(); }

  // Sends what is queued, then tells the node there is no more; the node
  // ends the call once it has handled everything.
  void Close() {
    MutexLock lock(&mu_);
    closing_ = true;
    MaybeWritesDone();
  }

  void OnWriteDone(bool ok) override {
    MutexLock lock(&mu_);
    queue_.pop_front();
    if (ok && !queue_.empty()) {
      StartWrite(&queue_.front());
      return;
    }
    writing_ = false;
    MaybeWritesDone();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      {
        MutexLock lock(&mu_);
        ended_ = true;
      }
      RemoveHold();
      return;
    }
    if (event_.has_inbox()) {
      core_->OnInboxPid(event_.inbox());
    } else if (event_.has_delivery()) {
      absl::StatusOr<MessagePtr> message =
          UnpackAny(event_.delivery().message());
      if (message.ok()) {
        ActorRef sender;
        if (event_.delivery().has_sender()) {
          sender = core_->RefFor(FromProto(event_.delivery().sender()));
        }
        core_->Deliver(Inbox::Received{*std::move(message), std::move(sender)});
      } else {
        Log(LogSeverity::kWarning, "sdk",
            absl::StrCat("client inbox: dropped a message: ",
                         message.status().message()));
      }
    } else if (event_.has_ask_result()) {
      core_->OnAskResult(event_.ask_result());
    } else if (!event_.error().empty()) {
      Log(LogSeverity::kWarning, "sdk",
          absl::StrCat("the node refused a tell: ", event_.error()));
    }
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& status) override {
    core_->OnInboxEnded(status);  // last: the core may now destroy this
  }

 private:
  void MaybeWritesDone() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (closing_ && !writing_ && !ended_ && !writes_done_) {
      writes_done_ = true;
      StartWritesDone();
    }
  }

  ClientCore* const core_;
  grpc::ClientContext context_;
  v1::InboxEvent event_;  // reads complete one at a time
  Mutex mu_;
  std::deque<v1::InboxRequest> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
};

ClientCore::ClientCore(ClientOptions options)
    : options_(std::move(options)), auth_(options_.secret, options_.tls) {
  KeepGrpcAlive();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ =
      grpc::CreateCustomChannel(options_.node, auth_.LinkCredentials(), args);
  stub_ = v1::ActorService::NewStub(channel_);
}

ClientCore::~ClientCore() { Close(); }

absl::Status ClientCore::Open() {
  if (!channel_->WaitForConnected(
          absl::ToChronoTime(absl::Now() + options_.call_timeout))) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach a troupe node at ", options_.node,
                     " within ", absl::FormatDuration(options_.call_timeout)));
  }
  stream_ = std::make_unique<InboxStream>(this);
  MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + options_.call_timeout;
  while (!have_pid_ && !stream_ended_) {
    if (changed_.WaitWithTimeout(&mu_, deadline - absl::Now())) {
      break;
    }
  }
  if (have_pid_) {
    return absl::OkStatus();
  }
  if (stream_ended_) {
    return stream_status_;
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "the node at ", options_.node, " did not open an inbox in time"));
}

void ClientCore::Close() {
  {
    MutexLock lock(&mu_);
    if (closing_) {
      return;
    }
    closing_ = true;
    for (grpc::ClientContext* context : calls_) {
      context->TryCancel();  // under the lock: the call cannot end meanwhile
    }
    // The inbox stream ends gracefully, so the tells queued on it arrive;
    // if the node does not end it in time, it is cancelled. It is owned
    // here: wait for its end whatever it takes (a cancelled call ends
    // promptly). Calls own themselves: wait a while.
    if (stream_ != nullptr && !stream_ended_) {
      stream_->Close();
      const absl::Time deadline = absl::Now() + options_.call_timeout;
      while (!stream_ended_ &&
             !changed_.WaitWithTimeout(&mu_, deadline - absl::Now())) {
      }
      if (!stream_ended_) {
        stream_->Cancel();
      }
    }
    while (stream_ != nullptr && !stream_ended_) {
      changed_.Wait(&mu_);
    }
    const absl::Time deadline = absl::Now() + kCloseWait;
    while (!calls_.empty() &&
           !changed_.WaitWithTimeout(&mu_, deadline - absl::Now())) {
    }
  }
  timers_.Shutdown();
}

ActorRef ClientCore::RefFor(const Pid& pid) {
  return MakeClusterRef(weak_from_this(), pid);
}

void ClientCore::Prepare(grpc::ClientContext* context,
                         absl::Duration timeout) const {
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  auth_.AddTo(context);
}

void ClientCore::SendTell(const Pid& target, const Envelope& envelope) {
  const Message& message = envelope.message();
  const ActorRef& sender = envelope.sender;
  v1::InboxRequest request;
  v1::TellRequest* tell = request.mutable_tell();
  *tell->mutable_target() = ToProto(target);
  tell->mutable_message()->PackFrom(message);
  if (sender && sender.id() != inbox_.id()) {
    *tell->mutable_sender() = ToProto(sender.pid());
  }
  if (envelope.method != nullptr) {
    tell->set_method(envelope.method->full_name());
  }
  if (stream_ == nullptr || !stream_->Send(std::move(request))) {
    Log(LogSeverity::kWarning, "sdk",
        absl::StrCat("dropped a ", TypeName(message), " to ", target.ToString(),
                     ": the client's connection to ", options_.node,
                     " is closed"));
  }
}

void ClientCore::Ask(const Pid& target, const Envelope& envelope,
                     absl::Duration timeout, AskCallback done) {
  v1::InboxRequest request;
  v1::AskRequest* ask = request.mutable_ask();
  *ask->mutable_target() = ToProto(target);
  ask->mutable_message()->PackFrom(envelope.message());
  if (envelope.method != nullptr) {
    ask->set_method(envelope.method->full_name());
  }
  const int64_t millis =
      std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
  ask->mutable_timeout()->set_seconds(millis / 1000);
  ask->mutable_timeout()->set_nanos(static_cast<int32_t>(millis % 1000) *
                                    1'000'000);
  uint64_t id = 0;
  {
    MutexLock lock(&mu_);
    if (asks_open_) {
      id = ++last_ask_id_;
      asks_.emplace(id, std::move(done));
    }
  }
  if (id == 0) {  // the callback runs outside the lock
    done(absl::UnavailableError(absl::StrCat("the client's connection to ",
                                             options_.node, " is closed")));
    return;
  }
  request.set_ask_id(id);
  // The node times the ask out; this timer only answers for a node that
  // never does (wedged, or the connection silently gone).
  std::weak_ptr<ClientCore> weak = weak_from_this();
  timers_.ScheduleOnce(timeout + options_.call_timeout, [weak, id, timeout] {
    if (std::shared_ptr<ClientCore> core = weak.lock()) {
      core->FailAsk(id, absl::DeadlineExceededError(
                            absl::StrCat("no answer from the node within ",
                                         absl::FormatDuration(timeout))));
    }
  });
  // In order with the tells before it. If the stream has just ended,
  // OnInboxEnded fails the ask.
  (void)stream_->Send(std::move(request));
}

void ClientCore::FailAsk(uint64_t id, const absl::Status& status) {
  AskCallback done;
  {
    MutexLock lock(&mu_);
    auto it = asks_.find(id);
    if (it == asks_.end()) {
      return;
    }
    done = std::move(it->second);
    asks_.erase(it);
  }
  done(status);
}

void ClientCore::OnAskResult(const v1::AskResult& result) {
  AskCallback done;
  {
    MutexLock lock(&mu_);
    auto it = asks_.find(result.ask_id());
    if (it == asks_.end()) {
      return;
    }
    done = std::move(it->second);
    asks_.erase(it);
  }
  if (result.code() != 0) {
    done(absl::Status(static_cast<absl::StatusCode>(result.code()),
                      result.error()));
  } else {
    done(UnpackAny(result.reply()));
  }
}

void ClientCore::Watch(const ActorRef& ref) {
  StartWatchCall(shared_from_this(), ref);
}

void ClientCore::StopAsync(const Pid& target) {
  struct Call {
    grpc::ClientContext context;
    v1::StopRequest request;
    v1::StopReply reply;
  };
  auto call = std::make_shared<Call>();
  *call->request.mutable_target() = ToProto(target);
  Prepare(&call->context, options_.call_timeout);
  if (!CallStarted(&call->context)) {
    return;
  }
  std::shared_ptr<ClientCore> self = shared_from_this();
  stub_->async()->Stop(&call->context, &call->request, &call->reply,
                       [self, call, target](grpc::Status status) {
                         if (!status.ok()) {
                           Log(LogSeverity::kWarning, "sdk",
                               absl::StrCat("stop of ", target.ToString(), ": ",
                                            status.error_message()));
                         }
                         self->CallEnded(&call->context);
                       });
}

void ClientCore::Deliver(Inbox::Received received) {
  MutexLock lock(&mu_);
  received_.push_back(std::move(received));
  changed_.SignalAll();
}

absl::StatusOr<Inbox::Received> ClientCore::Receive(absl::Duration timeout) {
  MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + timeout;
  while (received_.empty()) {
    if (stream_ended_) {
      return absl::UnavailableError(
          absl::StrCat("the client's connection to ", options_.node,
                       " ended: ", stream_status_.message()));
    }
    if (changed_.WaitWithTimeout(&mu_, deadline - absl::Now()) &&
        received_.empty()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "nothing arrived within ", absl::FormatDuration(timeout)));
    }
  }
  Inbox::Received next = std::move(received_.front());
  received_.pop_front();
  return next;
}

bool ClientCore::closing() const {
  MutexLock lock(&mu_);
  return closing_;
}

bool ClientCore::CallStarted(grpc::ClientContext* context) {
  MutexLock lock(&mu_);
  if (closing_) {
    return false;
  }
  calls_.insert(context);
  return true;
}

void ClientCore::CallEnded(grpc::ClientContext* context) {
  MutexLock lock(&mu_);
  calls_.erase(context);
  changed_.SignalAll();
}

void ClientCore::OnInboxPid(const v1::Pid& pid) {
  MutexLock lock(&mu_);
  inbox_ = pid;
  have_pid_ = true;
  changed_.SignalAll();
}

void ClientCore::OnInboxEnded(const grpc::Status& status) {
  // Pending asks fail first; stream_ended_ is set last, because once it is
  // Close may return and the core be destroyed.
  absl::flat_hash_map<uint64_t, AskCallback> asks;
  {
    MutexLock lock(&mu_);
    asks_open_ = false;
    asks.swap(asks_);
  }
  const absl::Status failed = absl::UnavailableError(
      absl::StrCat("the client's connection to ", options_.node,
                   " ended before the reply: ", status.error_message()));
  for (auto& [id, done] : asks) {
    done(failed);
  }
  MutexLock lock(&mu_);
  stream_ended_ = true;
  stream_status_ = status.ok() ? absl::UnavailableError("the node closed it")
                               : FromGrpc(status);
  changed_.SignalAll();
}

}  // namespace troupe
