// Typed calls: a message sent as a call of a proto service method, the
// runtime side of actors that are proto services (protoc-gen-troupe's
// generated `FooActor` bases and `FooRef`s are built on this file).
//
// A typed call is an ordinary envelope whose `method` names the service
// method (envelope.h): moved for a local actor, serialized with the
// method's full name across nodes (Frame.types). The reply is the method's
// output message, or a v1::CallStatus when the actor failed the call.
//
// Thread-safety: everything here is thread-safe except where a function
// takes an ActorContext (only from that actor's own Receive or hooks).
#pragma once

#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/envelope.h"
#include "node/runtime/message.h"
#include "node/runtime/teller.h"
#include "proto/troupe.pb.h"

namespace troupe {

using MethodDescriptor = google::protobuf::MethodDescriptor;
using ServiceDescriptor = google::protobuf::ServiceDescriptor;

// The service `full_name` names (e.g. "troupe.examples.Greeter"), from the
// generated pool (null when not linked in). For generated code.
const ServiceDescriptor* FindService(absl::string_view full_name);

// A status as the CallStatus an actor answers with, and back. An OK
// CallStatus read as a unary call's reply is INTERNAL (a stream's end is
// the only OK one).
v1::CallStatus ToCallStatus(const absl::Status& status);
absl::Status FromCallStatus(const v1::CallStatus& status);
// Sends `caller` (not nobody) the CallStatus of `status`, as an answer
// (Envelope::answer): how a call is failed or a stream ended.
void AnswerWithStatus(const ActorRef& caller, const absl::Status& status);

// The method `full_name` names ("package.Service.Method"), checked for a
// tell or an ask carrying `message`: UNIMPLEMENTED when no such method is
// linked into this program, INVALID_ARGUMENT when `message` is not the
// method's input type or the method streams (a stream is served by the
// gRPC ingress only). For ActorService's Tell and Ask.
absl::StatusOr<const MethodDescriptor*> CallMethod(absl::string_view full_name,
                                                   const Message& message);

// An envelope calling `method` with `request` (moved in), from `sender`.
template <typename In>
EnvelopePtr CallEnvelope(const MethodDescriptor* method, In&& request,
                         ActorRef sender = ActorRef()) {
  EnvelopePtr envelope =
      MakeEnvelope(std::forward<In>(request), std::move(sender));
  envelope->method = method;
  return envelope;
}

// What a call's answer means for a caller expecting `Out`: the reply, the
// ask's error (AskFuture's codes), the status of a CallStatus the actor
// answered with, or INTERNAL for a reply of another type.
absl::Status UnexpectedReply(const Message& reply,
                             const google::protobuf::Descriptor* expected);
template <typename Out>
absl::StatusOr<Out> CallResult(absl::StatusOr<MessagePtr> answer) {
  if (!answer.ok()) {
    return answer.status();
  }
  Message& reply = **answer;
  if (Is<Out>(reply)) {
    return std::move(static_cast<Out&>(reply));
  }
  if (const auto* status = As<v1::CallStatus>(reply)) {
    return FromCallStatus(*status);
  }
  return UnexpectedReply(reply, Out::descriptor());
}

// Calls `method` of `to` from outside any actor (an ActorSystem, an Inbox,
// the SDK's Client); the future holds CallResult<Out>. A null `via` gives
// FAILED_PRECONDITION at once.
template <typename Out, typename In>
std::future<absl::StatusOr<Out>> CallFuture(Requester* via, const ActorRef& to,
                                            const MethodDescriptor* method,
                                            In&& request,
                                            absl::Duration timeout) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<Out>>>();
  std::future<absl::StatusOr<Out>> future = promise->get_future();
  if (via == nullptr) {
    promise->set_value(absl::FailedPreconditionError(
        "this typed ref was made without a Requester (the system, an inbox "
        "or a client); inside an actor, call the method with the context "
        "and a continuation"));
    return future;
  }
  via->AskAsync(to, CallEnvelope(method, std::forward<In>(request)), timeout,
                [promise](absl::StatusOr<MessagePtr> answer) {
                  promise->set_value(CallResult<Out>(std::move(answer)));
                });
  return future;
}

// Calls `method` of `to` from inside an actor: `then(ctx, StatusOr<Out>)`
// runs as a continuation (ActorContext::Ask: a message to this actor,
// dropped once it has stopped or restarted). `then` returns void or
// absl::Status (non-OK is a failure, as from Receive).
template <typename Out, typename In, typename F>
void CallThen(ActorContext& ctx, const ActorRef& to,
              const MethodDescriptor* method, In&& request,
              absl::Duration timeout, F&& then) {
  ctx.AskThen(to, CallEnvelope(method, std::forward<In>(request)), timeout,
              [fn = std::forward<F>(then)](
                  ActorContext& c, absl::StatusOr<MessagePtr> answer) mutable {
                absl::StatusOr<Out> result = CallResult<Out>(std::move(answer));
                if constexpr (std::is_void_v<std::invoke_result_t<
                                  F&, ActorContext&, absl::StatusOr<Out>>>) {
                  fn(c, std::move(result));
                  return absl::OkStatus();
                } else {
                  return fn(c, std::move(result));
                }
              });
}

// A one-way call (pactor's proxy call): sent with no sender, so the
// method's reply, or its error, goes nowhere. With a delay or period it is
// a timed tell (TellOptions: pactor's self-enqueue loop), and the handle
// cancels it. Never fails; an actor that is gone makes it a dead letter.
template <typename In>
TimerHandle CallOneWay(Teller& via, const ActorRef& to,
                       const MethodDescriptor* method, In&& request,
                       const TellOptions& options = {}) {
  return via.TellEnvelope(to, CallEnvelope(method, std::forward<In>(request)),
                          options);
}

// For a generated actor base's Receive: the index of the method of
// `service` that the message being handled calls, or:
//   kNotACall: a plain message (no method), for the actor's ReceiveOther;
//   kAnswered: a call this actor cannot take (a method of another service:
//     UNIMPLEMENTED; a message that is not the method's input type:
//     INVALID_ARGUMENT), already answered to its caller (or, for a one-way
//     call, logged).
inline constexpr int kNotACall = -1;
inline constexpr int kAnswered = -2;
int MethodIndexOf(ActorContext& ctx, const Message& message,
                  const ServiceDescriptor* service);

// The UNIMPLEMENTED status a generated method answers with when the actor
// does not override it (names the method and the actor).
absl::Status NotImplemented(const ActorContext& ctx);

}  // namespace troupe
