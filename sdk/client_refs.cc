#include "sdk/client_refs.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/envelope.h"
#include "node/runtime/logging.h"
#include "node/runtime/process.h"
#include "node/runtime/system_messages.h"
#include "sdk/client_core.h"

namespace troupe {
namespace {

// What a client's ref points at: an actor somewhere in the cluster, reached
// through the client's node.
class ClusterProcess final : public Process {
 public:
  ClusterProcess(std::weak_ptr<ClientCore> core, const Pid& pid)
      : Process(MakeNodeAddress(pid.address), pid.id, pid.incarnation, pid.uid),
        core_(std::move(core)) {}

  void SendUser(EnvelopePtr envelope) override {
    if (std::shared_ptr<ClientCore> core = core_.lock()) {
      core->SendTell(pid(), *envelope);
    } else {
      Log(LogSeverity::kWarning, "sdk",
          absl::StrCat("dropped a ", TypeName(envelope->message()), " to ",
                       pid().ToString(), ": its client is closed"));
    }
  }

  void SendSystem(SystemMessagePtr message) override {
    std::shared_ptr<ClientCore> core = core_.lock();
    if (core == nullptr) {
      return;
    }
    if (message->kind == SystemKind::kStop) {
      core->StopAsync(pid());
    }
    // Watches go through Client::Watch (a Watch call), not system messages.
  }

  bool IsTerminated() const override { return false; }

 private:
  const std::weak_ptr<ClientCore> core_;
};

}  // namespace

namespace {

// One Watch call; queues the Terminated for Receive.
class WatchCall final : public grpc::ClientReadReactor<v1::Terminated> {
 public:
  // Starts the call unless the client is closing; the call deletes itself
  // when done.
  static void Start(std::shared_ptr<ClientCore> core, const ActorRef& ref) {
    auto* call = new WatchCall(std::move(core), ref);
    if (!call->core_->CallStarted(&call->context_)) {
      delete call;
      return;
    }
    call->core_->stub().async()->Watch(&call->context_, &call->request_, call);
    call->StartRead(&call->notice_);
    call->StartCall();
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      notified_ = true;
      core_->Deliver(Inbox::Received{
          std::make_unique<Terminated>(MakeTerminated(ref_, notice_.reason())),
          ActorRef()});
    }
  }

  void OnDone(const grpc::Status& status) override {
    if (!notified_ && !core_->closing()) {
      // No notice came: a ref the node refused is reported as not found;
      // otherwise the call to the node broke and the actor's fate is
      // unknown here, which the runtime reports as its node being down.
      Log(LogSeverity::kWarning, "sdk",
          absl::StrCat("watch of ", ref_.ToString(),
                       " ended without a notice: ", status.error_message()));
      const TerminationReason reason =
          status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kNotFound
                                                                    : kNodeDown;
      core_->Deliver(Inbox::Received{
          std::make_unique<Terminated>(MakeTerminated(ref_, reason)),
          ActorRef()});
    }
    core_->CallEnded(&context_);
    delete this;
  }

 private:
  WatchCall(std::shared_ptr<ClientCore> core, ActorRef ref)
      : core_(std::move(core)), ref_(std::move(ref)) {
    core_->Prepare(&context_, absl::InfiniteDuration());
    *request_.mutable_target() = ToProto(ref_.pid());
  }

  const std::shared_ptr<ClientCore> core_;
  const ActorRef ref_;
  grpc::ClientContext context_;
  v1::WatchRequest request_;
  v1::Terminated notice_;
  bool notified_ = false;
};

}  // namespace

ActorRef MakeClusterRef(std::weak_ptr<ClientCore> core, const Pid& pid) {
  return ActorRef(std::make_shared<ClusterProcess>(std::move(core), pid));
}

void StartWatchCall(std::shared_ptr<ClientCore> core, const ActorRef& ref) {
  WatchCall::Start(std::move(core), ref);
}

}  // namespace troupe
