#include "sdk/client.h"

#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/cluster/cluster_wire.h"
#include "node/runtime/activator_protocol.h"
#include "node/runtime/envelope.h"
#include "node/runtime/logging.h"
#include "node/runtime/pid.h"
#include "node/runtime/system_messages.h"
#include "node/runtime/timed_tell.h"
#include "proto/cluster.pb.h"
#include "sdk/client_core.h"

namespace troupe {

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (!IsNodeAddress(options.node)) {
    return absl::InvalidArgumentError(
        absl::StrCat("node address '", options.node, "' is not host:port"));
  }
  auto core = std::make_shared<ClientCore>(std::move(options));
  if (absl::Status opened = core->Open(); !opened.ok()) {
    return opened;
  }
  ActorRef self = core->RefFor(FromProto(core->inbox()));
  return std::unique_ptr<Client>(new Client(std::move(core), std::move(self)));
}

Client::Client(std::shared_ptr<ClientCore> core, ActorRef self)
    : core_(std::move(core)), self_(std::move(self)) {}

Client::~Client() { core_->Close(); }

absl::StatusOr<ActorRef> Client::Spawn(absl::string_view kind,
                                       absl::string_view name,
                                       const Message* init,
                                       absl::string_view node) {
  v1::Pid pid;
  if (absl::Status s =
          core_->Call(&v1::ActorService::Stub::Spawn,
                      SpawnRequestFor(node, kind, name, init), &pid);
      !s.ok()) {
    return s;
  }
  return core_->RefFor(FromProto(pid));
}

absl::StatusOr<ActorRef> Client::Lookup(absl::string_view name,
                                        absl::string_view node) {
  v1::Pid pid;
  if (absl::Status s = core_->Call(&v1::ActorService::Stub::Lookup,
                                   LookupRequestFor(node, name), &pid);
      !s.ok()) {
    return s;
  }
  return core_->RefFor(FromProto(pid));
}

std::future<absl::StatusOr<ActorRef>> Client::Activate(const Message& request,
                                                       absl::Duration timeout) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<ActorRef>>>();
  std::future<absl::StatusOr<ActorRef>> future = promise->get_future();
  // "" is the node connected to (the inbox's).
  absl::StatusOr<Pid> activator = ActivatorFor(request, self_.address());
  if (!activator.ok()) {
    promise->set_value(activator.status());
    return future;
  }
  std::weak_ptr<ClientCore> core = core_;
  core_->Ask(
      *activator, *MakeEnvelope(CloneMessage(request), ActorRef()), timeout,
      [core, promise,
       node = activator->address](absl::StatusOr<MessagePtr> reply) {
        absl::StatusOr<v1::Pid> pid = ActivatorReply(std::move(reply), node);
        std::shared_ptr<ClientCore> alive = core.lock();
        if (pid.ok() && alive == nullptr) {
          pid = absl::UnavailableError("the client has closed");
        }
        if (!pid.ok()) {
          promise->set_value(pid.status());
        } else {
          promise->set_value(alive->RefFor(FromProto(*pid)));
        }
      });
  return future;
}

ActorRef Client::Ref(const Pid& pid) { return core_->RefFor(pid); }

absl::StatusOr<ActorRef> Client::Identity(absl::string_view kind,
                                          absl::string_view key) {
  if (absl::Status valid = ValidateIdentity(kind, key); !valid.ok()) {
    return valid;
  }
  return core_->RefFor(
      Pid{self_.address(), IdentityRouterId(absl::StrCat(kind, ":", key))});
}

absl::StatusOr<ActorRef> Client::Ref(absl::string_view text) {
  absl::StatusOr<Pid> pid = ParsePid(text);
  if (!pid.ok()) {
    return pid.status();
  }
  return core_->RefFor(*pid);
}

absl::Status Client::Stop(const ActorRef& ref, bool graceful) {
  v1::StopRequest request;
  *request.mutable_target() = ToProto(ref.pid());
  request.set_graceful(graceful);
  v1::StopReply reply;
  return core_->Call(&v1::ActorService::Stub::Stop, request, &reply);
}

void Client::Watch(const ActorRef& ref) { core_->Watch(ref); }

absl::StatusOr<Inbox::Received> Client::Receive(absl::Duration timeout) {
  return core_->Receive(timeout);
}

namespace {

// One unary ActorService call: its reply, or its status.
template <typename Reply, typename Request, typename Method>
absl::StatusOr<Reply> Unary(ClientCore& core, Method method,
                            const Request& request) {
  Reply reply;
  if (absl::Status s = core.Call(method, request, &reply); !s.ok()) {
    return s;
  }
  return reply;
}

}  // namespace

absl::StatusOr<v1::MembersReply> Client::Members(const std::string& node) {
  v1::MembersRequest request;
  request.set_node(node);
  return Unary<v1::MembersReply>(*core_, &v1::ActorService::Stub::Members,
                                 request);
}

absl::StatusOr<v1::ListActorsReply> Client::ListActors(
    const v1::ListActorsRequest& request) {
  return Unary<v1::ListActorsReply>(*core_, &v1::ActorService::Stub::ListActors,
                                    request);
}

absl::StatusOr<v1::InspectReply> Client::Inspect(const std::string& ref) {
  v1::InspectRequest request;
  request.set_ref(ref);
  return Unary<v1::InspectReply>(*core_, &v1::ActorService::Stub::Inspect,
                                 request);
}

// Asks the node's cluster actor a name request; the ref its NameReply
// carries, or its error.
absl::StatusOr<ActorRef> Client::AskNames(const Message& request) {
  absl::StatusOr<v1::Pid> named = NameReplyRef(
      Ask(core_->RefFor(Pid{self_.address(), std::string(kClusterActorName)}),
          CloneMessage(request), core_->options().call_timeout)
          .get());
  if (!named.ok()) {
    return named.status();
  }
  return core_->RefFor(FromProto(*named));
}

absl::Status Client::RegisterName(absl::string_view name, const ActorRef& ref) {
  v1::RegisterName request;
  request.set_name(std::string(name));
  *request.mutable_ref() = ToProto(ref.pid());
  return AskNames(request).status();
}

absl::StatusOr<ActorRef> Client::WhereIs(absl::string_view name) {
  v1::WhereIsName request;
  request.set_name(std::string(name));
  return AskNames(request);
}

absl::StatusOr<v1::StatsReply> Client::Stats() {
  return Unary<v1::StatsReply>(*core_, &v1::ActorService::Stub::Stats,
                               v1::StatsRequest());
}

TimerHandle Client::TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                 const TellOptions& options) {
  return TellWithOptions(
      core_->timers(), to, std::move(envelope), options,
      [](const ActorRef& target, EnvelopePtr letter, DeadLetterReason why) {
        Log(LogSeverity::kWarning, "sdk",
            absl::StrCat("dropped a ", TypeName(letter->message()), " to ",
                         target ? target.ToString() : "nobody", ": ",
                         DeadLetterReasonName(why)));
      });
}

void Client::AskAsync(const ActorRef& to, EnvelopePtr envelope,
                      absl::Duration timeout, AskCallback done) {
  if (!to) {
    done(absl::NotFoundError("ask of nobody"));
    return;
  }
  core_->Ask(to.pid(), *envelope, timeout, std::move(done));
}

}  // namespace troupe
