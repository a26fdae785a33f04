#include "node/service/actor_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "node/cluster/cluster.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/envelope.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
#include "node/runtime/termination_waiter.h"
#include "node/service/activator.h"
#include "node/service/client_streams.h"
#include "node/service/grpc_status.h"
#include "node/service/operations.h"
#include "node/service/pending_calls.h"
#include "node/service/rpc_counters.h"
#include "node/service/service_node.h"
#include "node/service/stats_reply.h"
#include "node/typed/typed_call.h"

namespace troupe {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

// One call of a public method: counts how it ends (RpcCounters, for the
// metrics). Two pointers: captured by value into completions.
ServerUnaryReactor* Done(CallbackServerContext* context, const RpcCall& rpc,
                         const absl::Status& status) {
  ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(rpc.End(status));
  return reactor;
}

// The ref a request names in `field`, checked.
absl::StatusOr<ActorRef> RefOf(ActorSystem& system, bool has_pid,
                               const v1::Pid& pid, absl::string_view field) {
  if (!has_pid) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request has no ", field));
  }
  if (!IsNodeAddress(pid.address()) || pid.id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " {address: '", pid.address(), "', id: '", pid.id(),
        "'} is not a ref (address host:port with a port of 1-65535, id "
        "non-empty)"));
  }
  return system.Resolve(FromProto(pid));
}

// NOT_FOUND when `ref` is an actor of this node that is not alive (a remote
// one is only known dead by a watch or a reply).
absl::Status CheckAlive(ActorSystem& system, const ActorRef& ref) {
  if (runtime_internal::SystemInternals::IsLocal(system, ref) &&
      ref.process()->IsTerminated()) {
    return absl::NotFoundError(
        absl::StrCat("no actor ", ref.ToString(), " is alive"));
  }
  return absl::OkStatus();
}

// The members as the cluster actor of the node `request` names (this one
// by default) sees them; INVALID_ARGUMENT for a node that is not
// host:port.
void MembersOn(ActorSystem& system, const v1::MembersRequest& request,
               absl::Duration wait, OperationsCallback<v1::MembersReply> done) {
  if (!request.node().empty() && !IsNodeAddress(request.node())) {
    done(absl::InvalidArgumentError(
        absl::StrCat("node '", request.node(), "' is not host:port")));
    return;
  }
  system.AskAsync(
      ClusterActorOf(system, request.node()),
      MakeEnvelope(v1::MembersRequest(), ActorRef()), wait,
      [done = std::move(done)](absl::StatusOr<MessagePtr> answer) {
        if (!answer.ok()) {
          done(answer.status());
        } else if (const auto* members = As<v1::MembersReply>(**answer)) {
          done(*members);
        } else {
          done(UnexpectedReply(**answer, v1::MembersReply::descriptor()));
        }
      });
}

class ActorServiceImpl final : public v1::ActorService::CallbackService {
 public:
  ActorServiceImpl(const KindRegistry* kinds, ActorServiceOptions options)
      : kinds_(kinds), options_(options), rpcs_(options.rpc_counters) {
    counters_->rpcs = rpcs_;
  }

  void Attach(Node* node) { node_.Attach(node); }

  ServerUnaryReactor* Spawn(CallbackServerContext* context,
                            const v1::SpawnRequest* request,
                            v1::Pid* reply) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Spawn");
    return SpawnOrLookup(context, rpc, *request, reply);
  }

  ServerUnaryReactor* Lookup(CallbackServerContext* context,
                             const v1::LookupRequest* request,
                             v1::Pid* reply) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Lookup");
    return SpawnOrLookup(context, rpc, *request, reply);
  }

  ServerUnaryReactor* Tell(CallbackServerContext* context,
                           const v1::TellRequest* request,
                           v1::TellReply* /*reply*/) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Tell");
    absl::StatusOr<Node*> entered = Enter(*context);
    if (!entered.ok()) {
      return Done(context, rpc, entered.status());
    }
    Node* node = *entered;
    counters_->messages_in.fetch_add(1, std::memory_order_relaxed);
    return Done(context, rpc, SendTell(node->system(), *request, ActorRef()));
  }

  ServerUnaryReactor* Ask(CallbackServerContext* context,
                          const v1::AskRequest* request,
                          v1::AskReply* reply) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Ask");
    absl::StatusOr<Node*> entered = Enter(*context);
    if (!entered.ok()) {
      return Done(context, rpc, entered.status());
    }
    // Never past the call's own deadline.
    const absl::Duration limit = TimeLeft(*context, absl::InfiniteDuration());
    if (limit <= absl::ZeroDuration()) {
      return Done(context, rpc,
                  absl::DeadlineExceededError(
                      "the call's deadline passed before the ask "
                      "could be sent"));
    }
    ServerUnaryReactor* reactor = context->DefaultReactor();
    if (!node_.Hold(reactor, rpc)) {
      return reactor;
    }
    absl::Status started = StartAsk(
        (*entered)->system(), *request, limit,
        [rpc, pending = node_.pending(), counters = counters_, reactor,
         reply](absl::StatusOr<MessagePtr> answer) {
          if (!pending->Claim(reactor)) {
            return;  // the node stopped first and finished the call
          }
          if (answer.ok()) {
            counters->messages_out.fetch_add(1, std::memory_order_relaxed);
            reply->mutable_message()->PackFrom(**answer);
          }
          reactor->Finish(rpc.End(answer.status()));
        });
    if (!started.ok() && node_.pending()->Claim(reactor)) {
      reactor->Finish(rpc.End(started));
    }
    return reactor;
  }

  ServerUnaryReactor* Stop(CallbackServerContext* context,
                           const v1::StopRequest* request,
                           v1::StopReply* /*reply*/) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Stop");
    absl::StatusOr<Node*> entered = Enter(*context);
    if (!entered.ok()) {
      return Done(context, rpc, entered.status());
    }
    Node* node = *entered;
    ActorSystem& system = node->system();
    absl::StatusOr<ActorRef> target =
        RefOf(system, request->has_target(), request->target(), "target");
    if (!target.ok()) {
      return Done(context, rpc, target.status());
    }
    if (absl::Status alive = CheckAlive(system, *target); !alive.ok()) {
      return Done(context, rpc, alive);
    }
    if (runtime_internal::SystemInternals::IsLocal(system, *target) &&
        !runtime_internal::SystemInternals::IsLocalActor(*target)) {
      return Done(context, rpc,
                  absl::FailedPreconditionError(absl::StrCat(
                      target->ToString(),
                      " is an inbox or an ask's reply ref, not an "
                      "actor: it ends with its stream or its ask")));
    }
    // The call returns once the actor has terminated (its name is free by
    // then: an actor leaves the registry before its watchers hear of it),
    // so a stop followed by a spawn of the same name always works. The
    // wait is bounded by the call's deadline (forward_timeout without
    // one): a graceful stop waits for what is queued before its
    // PoisonPill, and a PoisonPill refused by a full mailbox never comes.
    ServerUnaryReactor* reactor = context->DefaultReactor();
    if (!node_.Hold(reactor, rpc)) {
      return reactor;
    }
    const absl::Duration wait = TimeLeft(*context, options_.forward_timeout);
    runtime_internal::SystemInternals::Timers(system).ScheduleOnce(
        wait, [rpc, pending = node_.pending(), reactor,
               name = target->ToString(), wait] {
          if (pending->Claim(reactor)) {
            reactor->Finish(rpc.End(absl::DeadlineExceededError(absl::StrCat(
                name, " had not terminated within ", absl::FormatDuration(wait),
                "; the stop goes on"))));
          }
        });
    TerminationWaiter::Watch(
        system, *target,
        [rpc, pending = node_.pending(), reactor,
         name = target->ToString()](TerminationReason reason) {
          if (!pending->Claim(reactor)) {
            return;  // the node stopped first and finished the call
          }
          absl::Status status;
          if (reason == kNotFound) {
            status = absl::NotFoundError(
                absl::StrCat("no actor ", name, " is alive"));
          } else if (reason == kNodeDown) {
            status = absl::UnavailableError(absl::StrCat(
                "the node of ", name,
                " is down or unreachable; whether it stopped is unknown"));
          }
          reactor->Finish(rpc.End(status));
        });
    if (request->graceful()) {
      system.Tell(*target, PoisonPill());
    } else {
      system.Stop(*target);
    }
    return reactor;
  }

  grpc::ServerWriteReactor<v1::Terminated>* Watch(
      CallbackServerContext* context,
      const v1::WatchRequest* request) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Watch");
    absl::StatusOr<Node*> entered = Enter(*context);
    if (!entered.ok()) {
      return new FailedWrite(rpc.End(entered.status()));
    }
    ActorSystem& system = (*entered)->system();
    absl::StatusOr<ActorRef> target =
        RefOf(system, request->has_target(), request->target(), "target");
    if (!target.ok()) {
      return new FailedWrite(rpc.End(target.status()));
    }
    return StartWatch(system, counters_, *target);
  }

  grpc::ServerBidiReactor<v1::InboxRequest, v1::InboxEvent>* Inbox(
      CallbackServerContext* context) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Inbox");
    absl::StatusOr<Node*> entered = Enter(*context);
    if (!entered.ok()) {
      return new FailedBidi(rpc.End(entered.status()));
    }
    ActorSystem* system = &(*entered)->system();
    return StartInbox(
        *system, counters_,
        [this, system](const v1::TellRequest& tell, const ActorRef& inbox) {
          return SendTell(*system, tell, inbox);
        },
        [this, system](const v1::AskRequest& ask, AskCallback done) {
          return StartAsk(*system, ask, absl::InfiniteDuration(),
                          std::move(done));
        },
        options_.inbox_queue);
  }

  ServerUnaryReactor* Stats(CallbackServerContext* context,
                            const v1::StatsRequest* /*request*/,
                            v1::StatsReply* reply) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Stats");
    absl::StatusOr<Node*> entered = Enter(*context);
    if (!entered.ok()) {
      return Done(context, rpc, entered.status());
    }
    *reply = StatsOf(**entered, *kinds_, counters_->messages_in.load(),
                     counters_->messages_out.load());
    return Done(context, rpc, absl::OkStatus());
  }

  ServerUnaryReactor* ListActors(CallbackServerContext* context,
                                 const v1::ListActorsRequest* request,
                                 v1::ListActorsReply* reply) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/ListActors");
    return RunOperation<v1::ListActorsReply>(context, rpc, *request, reply,
                                             &ListActorsOn);
  }

  ServerUnaryReactor* Inspect(CallbackServerContext* context,
                              const v1::InspectRequest* request,
                              v1::InspectReply* reply) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Inspect");
    return RunOperation<v1::InspectReply>(context, rpc, *request, reply,
                                          &InspectOn);
  }

  // Runs `run` (ListActorsOn, InspectOn, MembersOn) for the call, within its
  // deadline (forward_timeout without one).
  template <typename Reply, typename Request, typename Run>
  ServerUnaryReactor* RunOperation(CallbackServerContext* context,
                                   const RpcCall& rpc, const Request& request,
                                   Reply* reply, Run run) {
    absl::StatusOr<Node*> entered = Enter(*context);
    if (!entered.ok()) {
      return Done(context, rpc, entered.status());
    }
    ServerUnaryReactor* reactor = context->DefaultReactor();
    if (!node_.Hold(reactor, rpc)) {
      return reactor;
    }
    run((*entered)->system(), request,
        TimeLeft(*context, options_.forward_timeout),
        [rpc, pending = node_.pending(), reactor,
         reply](absl::StatusOr<Reply> answer) {
          if (!pending->Claim(reactor)) {
            return;  // the node stopped first and finished the call
          }
          if (answer.ok()) {
            *reply = *std::move(answer);
          }
          reactor->Finish(rpc.End(answer.status()));
        });
    return reactor;
  }

  // Asks the cluster actor of the node named (this one by default).
  ServerUnaryReactor* Members(CallbackServerContext* context,
                              const v1::MembersRequest* request,
                              v1::MembersReply* reply) override {
    const RpcCall rpc(rpcs_, "/troupe.v1.ActorService/Members");
    return RunOperation<v1::MembersReply>(context, rpc, *request, reply,
                                          &MembersOn);
  }

 private:
  // A stream refused before it started.
  class FailedWrite final : public grpc::ServerWriteReactor<v1::Terminated> {
   public:
    explicit FailedWrite(const grpc::Status& status) { Finish(status); }
    void OnDone() override { delete this; }
  };
  class FailedBidi final
      : public grpc::ServerBidiReactor<v1::InboxRequest, v1::InboxEvent> {
   public:
    explicit FailedBidi(const grpc::Status& status) { Finish(status); }
    void OnDone() override { delete this; }
  };

  // The node, if it is serving and the call carries the cluster secret.
  absl::StatusOr<Node*> Enter(const CallbackServerContext& context) {
    return node_.Enter(context);
  }

  // Checks `request` and asks; `done` gets the reply or the ask's error.
  // The timeout is the request's (default_ask_timeout when unset), at most
  // `limit`. A request that is refused returns its error and never calls
  // `done`.
  absl::Status StartAsk(ActorSystem& system, const v1::AskRequest& request,
                        absl::Duration limit, AskCallback done) {
    absl::StatusOr<ActorRef> target =
        RefOf(system, request.has_target(), request.target(), "target");
    if (!target.ok()) {
      return target.status();
    }
    absl::StatusOr<MessagePtr> message = Unpack(request.message(), "message");
    if (!message.ok()) {
      return message.status();
    }
    absl::Duration timeout = options_.default_ask_timeout;
    if (request.has_timeout()) {
      timeout = absl::Milliseconds(
          google::protobuf::util::TimeUtil::DurationToMilliseconds(
              request.timeout()));
      if (timeout <= absl::ZeroDuration()) {
        return absl::InvalidArgumentError("the ask's timeout must be positive");
      }
    }
    absl::StatusOr<EnvelopePtr> envelope =
        CallOrMessage(request.method(), std::move(*message), ActorRef());
    if (!envelope.ok()) {
      return envelope.status();
    }
    counters_->messages_in.fetch_add(1, std::memory_order_relaxed);
    system.AskAsync(*target, *std::move(envelope), std::min(timeout, limit),
                    std::move(done));
    return absl::OkStatus();
  }

  absl::Status SendTell(ActorSystem& system, const v1::TellRequest& request,
                        const ActorRef& default_sender) {
    absl::StatusOr<ActorRef> target =
        RefOf(system, request.has_target(), request.target(), "target");
    if (!target.ok()) {
      return target.status();
    }
    // A one-way typed call names its reply address or has none: its reply
    // must not land in an inbox as a plain message.
    ActorRef sender = request.method().empty() ? default_sender : ActorRef();
    if (request.has_sender()) {
      absl::StatusOr<ActorRef> named =
          RefOf(system, true, request.sender(), "sender");
      if (!named.ok()) {
        return named.status();
      }
      sender = *std::move(named);
    }
    absl::StatusOr<MessagePtr> message = Unpack(request.message(), "message");
    if (!message.ok()) {
      return message.status();
    }
    // A tell with a sender (an inbox's, or one named) is answered the same
    // wherever the target lives: a dead letter to the sender, with its
    // cause. Without one, an actor of this node known dead is refused now
    // (another node's cannot be known without waiting).
    if (!sender) {
      if (absl::Status alive = CheckAlive(system, *target); !alive.ok()) {
        return alive;
      }
    }
    absl::StatusOr<EnvelopePtr> envelope =
        CallOrMessage(request.method(), std::move(*message), std::move(sender));
    if (!envelope.ok()) {
      return envelope.status();
    }
    target->process()->SendUser(*std::move(envelope));
    return absl::OkStatus();
  }

  // `message` as a plain envelope, or as a typed call of `method` (a full
  // method name; UNIMPLEMENTED or INVALID_ARGUMENT as CallMethod says).
  static absl::StatusOr<EnvelopePtr> CallOrMessage(absl::string_view method,
                                                   MessagePtr message,
                                                   ActorRef sender) {
    const MethodDescriptor* called = nullptr;
    if (!method.empty()) {
      absl::StatusOr<const MethodDescriptor*> found =
          CallMethod(method, *message);
      if (!found.ok()) {
        return found.status();
      }
      called = *found;
    }
    EnvelopePtr envelope = MakeEnvelope(std::move(message), std::move(sender));
    envelope->method = called;
    return envelope;
  }

  template <typename Request>
  ServerUnaryReactor* SpawnOrLookup(CallbackServerContext* context,
                                    const RpcCall& rpc, const Request& request,
                                    v1::Pid* reply) {
    absl::StatusOr<Node*> entered = Enter(*context);
    if (!entered.ok()) {
      return Done(context, rpc, entered.status());
    }
    Node* node = *entered;
    if constexpr (std::is_same_v<Request, v1::SpawnRequest>) {
      if (absl::Status size = CheckSize(request.init(), "spawn's init");
          !size.ok()) {
        return Done(context, rpc, size);
      }
    }
    ServerUnaryReactor* reactor = context->DefaultReactor();
    if (!node_.Hold(reactor, rpc)) {
      return reactor;
    }
    Activate(node->system(), *kinds_,
             SpawnOptions{options_.mailbox_capacity, /*kind=*/{}}, request,
             options_.forward_timeout,
             [rpc, pending = node_.pending(), reactor,
              reply](absl::StatusOr<v1::Pid> pid) {
               if (!pending->Claim(reactor)) {
                 return;
               }
               if (pid.ok()) {
                 *reply = *std::move(pid);
               }
               reactor->Finish(rpc.End(pid.status()));
             });
    return reactor;
  }

  // RESOURCE_EXHAUSTED when the message a client sent (in `field`) is
  // over the node's limit (ServiceNode::CheckSize).
  absl::Status CheckSize(const google::protobuf::Any& message,
                         absl::string_view field) const {
    return node_.CheckSize(message.value().size(), field);
  }
  // UnpackAny after CheckSize.
  absl::StatusOr<MessagePtr> Unpack(const google::protobuf::Any& message,
                                    absl::string_view field) const {
    if (absl::Status size = CheckSize(message, field); !size.ok()) {
      return size;
    }
    return UnpackAny(message);
  }

  const KindRegistry* const kinds_;
  const ActorServiceOptions options_;
  RpcCounters* const rpcs_;
  const std::shared_ptr<ServiceCounters> counters_ =
      std::make_shared<ServiceCounters>();
  ServiceNode node_;
};

}  // namespace

std::unique_ptr<v1::ActorService::CallbackService> NewActorService(
    const KindRegistry* kinds, ActorServiceOptions options) {
  return std::make_unique<ActorServiceImpl>(kinds, options);
}

void AttachActorService(v1::ActorService::CallbackService* service,
                        Node* node) {
  static_cast<ActorServiceImpl*>(service)->Attach(node);
}

}  // namespace troupe
