#include "node/service/ingress.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/server_callback.h>

#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "node/remote/grpc_frames.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/sync.h"
#include "node/service/call_target.h"
#include "node/service/grpc_status.h"
#include "node/service/ingress_stream.h"
#include "node/service/pending_calls.h"
#include "node/service/rpc_counters.h"
#include "node/service/service_node.h"
#include "node/typed/typed_call.h"

namespace troupe {

using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

// What every service of the ingress shares: the node, the options, the
// unary calls waiting for an actor.
class ActorIngress::Core {
 public:
  Core(const KindRegistry* kinds, ActorServiceOptions options)
      : kinds_(kinds), options_(options) {}

  // A node that detaches (shuts down) ends the unary calls waiting on it
  // (ServiceNode) and the open streams: UNAVAILABLE.
  void Attach(Node* node) {
    node_.Attach(node);
    if (node == nullptr) {
      streams_->EndAll(ServiceNode::NotServing());
    } else {
      streams_->Reopen();
    }
  }

  // A call's common start: the node (serving, and the secret checked),
  // the target, the request parsed, and the time it may take.
  struct Entered {
    Node* node = nullptr;
    CallTarget target;
    MessagePtr request;
    absl::Duration timeout;
  };
  // `prototype` is the default instance of the method's input type.
  absl::StatusOr<Entered> Enter(grpc::CallbackServerContext& context,
                                const MethodDescriptor* method,
                                const Message& prototype,
                                const grpc::ByteBuffer& request) {
    Entered entered;
    absl::StatusOr<Node*> node = node_.Enter(context);
    if (!node.ok()) {
      return node.status();
    }
    entered.node = *node;
    absl::StatusOr<CallTarget> target =
        ParseCallTarget(context.client_metadata());
    if (!target.ok()) {
      return target.status();
    }
    entered.target = *std::move(target);
    if (absl::Status size = node_.CheckSize(request.Length(), "request");
        !size.ok()) {
      return size;
    }
    entered.request.reset(prototype.New());
    grpc::ByteBuffer copy(request);  // shares the slices; the reader drains
    if (!ParseFromBuffer(&copy, entered.request.get())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the request does not parse as ", method->input_type()->full_name()));
    }
    entered.timeout = TimeLeft(context, options_.default_ask_timeout);
    if (entered.timeout <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          "the call's deadline passed before it reached an actor");
    }
    return entered;
  }

  void Resolve(const Entered& entered, const ServiceDescriptor* service,
               absl::Duration timeout,
               std::function<void(absl::StatusOr<ActorRef>)> done) {
    ResolveCallTarget(entered.node->system(), *kinds_,
                      SpawnOptions{options_.mailbox_capacity, /*kind=*/{}},
                      service, entered.target, timeout, std::move(done));
  }

  const ActorServiceOptions& options() const { return options_; }
  ServiceNode& node() { return node_; }
  const std::shared_ptr<OpenStreams>& streams() const { return streams_; }

 private:
  const KindRegistry* const kinds_;
  const ActorServiceOptions options_;
  ServiceNode node_;
  const std::shared_ptr<OpenStreams> streams_ = std::make_shared<OpenStreams>();
};

namespace {

// The reply a unary call's answer gives: its bytes in `response`, or the
// status (the ask's error, the actor's CallStatus, or INTERNAL for a reply
// of another type).
absl::Status WriteReply(absl::StatusOr<MessagePtr> answer,
                        const MethodDescriptor* method,
                        grpc::ByteBuffer* response) {
  if (!answer.ok()) {
    return answer.status();
  }
  const Message& reply = **answer;
  if (const auto* status = As<v1::CallStatus>(reply)) {
    return FromCallStatus(*status);
  }
  if (reply.GetDescriptor() != method->output_type()) {
    return UnexpectedReply(reply, method->output_type());
  }
  SerializeToBuffer(reply, response);
  return absl::OkStatus();
}

// One actor service as a grpc::Service: its methods from the descriptor,
// each a raw callback handler.
class TypedService final : public grpc::Service {
 public:
  TypedService(const ServiceDescriptor* service,
               std::shared_ptr<ActorIngress::Core> core)
      : service_(service), core_(std::move(core)) {
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      // The input type is linked with the service (its kind is in this
      // program), so its prototype is there.
      const Message* prototype =
          google::protobuf::MessageFactory::generated_factory()->GetPrototype(
              method->input_type());
      // RpcServiceMethod keeps the pointer: the names live in a deque.
      paths_.push_back(RpcCounters::Path(*method));
      const absl::string_view path = paths_.back();
      if (method->server_streaming()) {
        AddMethod(new grpc::internal::RpcServiceMethod(
            paths_.back().c_str(), grpc::internal::RpcMethod::SERVER_STREAMING,
            nullptr));
        MarkMethodRawCallback(
            i, new grpc::internal::CallbackServerStreamingHandler<
                   grpc::ByteBuffer, grpc::ByteBuffer>(
                   [this, method, path, prototype](
                       grpc::CallbackServerContext* context,
                       const grpc::ByteBuffer* request) {
                     return Stream(context, method, path, *prototype, *request);
                   }));
      } else {
        AddMethod(new grpc::internal::RpcServiceMethod(
            paths_.back().c_str(), grpc::internal::RpcMethod::NORMAL_RPC,
            nullptr));
        MarkMethodRawCallback(
            i, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                                        grpc::ByteBuffer>(
                   [this, method, path, prototype](
                       grpc::CallbackServerContext* context,
                       const grpc::ByteBuffer* request,
                       grpc::ByteBuffer* response) {
                     return Unary(context, method, path, *prototype, *request,
                                  response);
                   }));
      }
    }
  }

 private:
  // `path`: the method's gRPC path, kept in paths_.
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context,
                                  const MethodDescriptor* method,
                                  absl::string_view path,
                                  const Message& prototype,
                                  const grpc::ByteBuffer& request,
                                  grpc::ByteBuffer* response) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const RpcCall call(core_->options().rpc_counters, path);
    // Counts the call's end (for the metrics), then finishes it.
    auto end = [call](grpc::ServerUnaryReactor* reactor,
                      const absl::Status& status) {
      reactor->Finish(call.End(status));
    };
    absl::StatusOr<ActorIngress::Core::Entered> entered =
        core_->Enter(*context, method, prototype, request);
    if (!entered.ok()) {
      end(reactor, entered.status());
      return reactor;
    }
    if (!core_->node().Hold(reactor, call)) {
      return reactor;
    }
    std::shared_ptr<PendingCalls> pending = core_->node().pending();
    // The callbacks share the request and the deadline; the system
    // outlives every ask (the node drains them before it goes).
    const absl::Time deadline = absl::Now() + entered->timeout;
    ActorSystem* system = &entered->node->system();
    auto request_message =
        std::make_shared<MessagePtr>(std::move(entered->request));
    const bool caller_runs = core_->options().caller_runs;
    const std::thread::id handler_thread = std::this_thread::get_id();
    core_->Resolve(
        *entered, service_, entered->timeout,
        [pending, reactor, response, method, system, deadline, request_message,
         caller_runs, handler_thread, end](absl::StatusOr<ActorRef> target) {
          if (!target.ok()) {
            if (pending->Claim(reactor)) {
              end(reactor, target.status());
            }
            return;
          }
          // Found at once, on the handler's thread: an idle actor of this
          // node handles the call here, before the handler returns (caller
          // runs). Only the ask is in the scope: nothing else is kept.
          std::optional<Dispatcher::CallerRuns> scope;
          if (caller_runs && std::this_thread::get_id() == handler_thread) {
            scope.emplace(runtime_internal::SystemInternals::Workers(*system));
          }
          system->AskAsync(
              *target, CallEnvelope(method, std::move(*request_message)),
              deadline - absl::Now(),
              [pending, reactor, response, method,
               end](absl::StatusOr<MessagePtr> answer) {
                if (!pending->Claim(reactor)) {
                  return;  // the node stopped first and finished the call
                }
                end(reactor, WriteReply(std::move(answer), method, response));
              });
        });
    return reactor;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Stream(
      grpc::CallbackServerContext* context, const MethodDescriptor* method,
      absl::string_view path, const Message& prototype,
      const grpc::ByteBuffer& request) {
    const RpcCall call(core_->options().rpc_counters, path);
    absl::StatusOr<ActorIngress::Core::Entered> entered =
        core_->Enter(*context, method, prototype, request);
    if (!entered.ok()) {
      auto* failed = new FailedStream();
      failed->Finish(call.End(entered.status()));
      return failed;
    }
    auto* stream =
        new IngressStream(entered->node->system(), method,
                          core_->options().inbox_queue, core_->streams(), call);
    auto request_message =
        std::make_shared<MessagePtr>(std::move(entered->request));
    // The target may be found after the call has ended (an identity on
    // another node): the starter outlives the reactor.
    core_->Resolve(*entered, service_, entered->timeout,
                   [starter = stream->starter(),
                    request_message](absl::StatusOr<ActorRef> target) {
                     if (!target.ok()) {
                       starter.Fail(target.status());
                     } else {
                       starter.Start(*target, std::move(*request_message));
                     }
                   });
    return stream;
  }

  // A stream refused before it started.
  class FailedStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
   public:
    void OnDone() override { delete this; }
  };

  const ServiceDescriptor* const service_;
  const std::shared_ptr<ActorIngress::Core> core_;
  std::deque<std::string> paths_;
};

}  // namespace

ActorIngress::ActorIngress(const KindRegistry* kinds,
                           ActorServiceOptions options)
    : core_(std::make_shared<Core>(kinds, options)) {
  absl::flat_hash_set<const ServiceDescriptor*> seen;
  for (const Kind* kind : kinds->All()) {
    for (const ServiceDescriptor* service : kind->services) {
      if (service != nullptr && seen.insert(service).second) {
        services_.push_back(std::make_unique<TypedService>(service, core_));
        names_.push_back(service->full_name());
      }
    }
  }
}

ActorIngress::~ActorIngress() { Attach(nullptr); }

std::vector<grpc::Service*> ActorIngress::services() const {
  std::vector<grpc::Service*> out;
  for (const auto& service : services_) {
    out.push_back(service.get());
  }
  return out;
}

void ActorIngress::Attach(Node* node) { core_->Attach(node); }

}  // namespace troupe
