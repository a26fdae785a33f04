// Responder and ServerStream: how a typed actor's method answers its
// caller, at once or later (after asking others: capture the responder in
// the continuation). Generated methods receive one by value.
//
//   void Greet(ActorContext& ctx, const HelloRequest& request,
//              Responder<HelloReply> reply) override {
//     HelloReply out;
//     out.set_message("hello " + request.name());
//     reply.Send(std::move(out));          // or reply.Fail(status)
//   }
//
// Both are cheap to copy (one shared state per call) and thread-safe; any
// copy may answer. A call is answered once: the first Send or Fail counts,
// later ones are ignored. Nothing is lost silently: when the last copy is
// destroyed with the call unanswered (the method dropped it, threw, or its
// actor stopped with the responder held in a member or a dropped
// continuation), the caller gets ABORTED naming the method and the actor.
// A one-way call (no caller) answers nowhere.
//
// Answers have no sender (Sender() is nobody where they arrive). One that
// cannot be delivered because it is over a node's --max_message_bytes, or
// of a type the caller's node cannot read, is told to the caller, which
// fails the call with that cause at once (Envelope::answer); one lost to a
// full link queue or a node going down ends the call by its timeout, or by
// the caller's watch of the actor.
#pragma once

#include <atomic>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"

namespace troupe {

namespace typed_internal {

// What a Responder's or ServerStream's copies share.
class CallState {
 public:
  // `caller` is where answers go (the call's sender; nobody for a one-way
  // call); `self` the answering actor, for messages.
  CallState(ActorRef caller, ActorRef self,
            const google::protobuf::MethodDescriptor* method, bool streaming)
      : caller_(std::move(caller)),
        self_(std::move(self)),
        method_(method),
        streaming_(streaming) {}
  // Ends an unended call with ABORTED.
  ~CallState();
  CallState(const CallState&) = delete;
  CallState& operator=(const CallState&) = delete;

  // Sends a reply or a stream's item (with the caller as its sender);
  // false (nothing sent) once ended, or once a stream's caller is known to
  // be gone. A unary call ends with its reply.
  bool Send(EnvelopePtr envelope);
  // Ends the call with `status` (a CallStatus to the caller); false when it
  // had already ended.
  bool End(const absl::Status& status);
  // Ends the call without answering, for someone else to answer (Forward);
  // false when it had already ended.
  bool Release() { return !ended_.exchange(true, std::memory_order_acq_rel); }
  const google::protobuf::MethodDescriptor* method() const { return method_; }
  bool ended() const { return ended_.load(std::memory_order_acquire); }
  const ActorRef& caller() const { return caller_; }

 private:
  const ActorRef caller_;
  const ActorRef self_;
  const google::protobuf::MethodDescriptor* const method_;
  const bool streaming_;
  std::atomic<bool> ended_{false};
};

}  // namespace typed_internal

template <typename Out>
class Responder {
 public:
  // The responder of the call being handled (ctx.Sender() is the caller,
  // ctx.Method() the method). Only from the actor's Receive.
  explicit Responder(ActorContext& ctx)
      : state_(std::make_shared<typed_internal::CallState>(
            ctx.Sender(), ctx.Self(), ctx.Method(), /*streaming=*/false)) {}

  // Answers with `reply` (moved in). Ignored after the first answer.
  void Send(Out reply) const {
    state_->Send(MakeEnvelope(std::move(reply), ActorRef()));
  }
  void operator()(Out reply) const { Send(std::move(reply)); }
  // Answers with `status` (non-OK; an OK status is sent as INTERNAL): the
  // caller's call fails with it, as a gRPC service's handler does.
  void Fail(const absl::Status& status) const { state_->End(status); }
  // Hands the call to `to`, another actor serving the method, which
  // answers the caller (ctx.Forward of the call: the same caller, method and
  // request); this responder is done. Only during the method's own call:
  // elsewhere (a continuation, another message), or once answered, the
  // call is not forwarded and fails FAILED_PRECONDITION instead.
  void Forward(ActorContext& ctx, const ActorRef& to) const {
    if (ctx.Method() != state_->method() || ctx.Sender() != state_->caller()) {
      Fail(absl::FailedPreconditionError(
          "Responder::Forward was called outside the method's own call"));
      return;
    }
    if (state_->Release()) {
      ctx.Forward(to);
    }
  }
  // True once answered (or forwarded).
  bool answered() const { return state_->ended(); }

 private:
  std::shared_ptr<typed_internal::CallState> state_;
};

// A server-streaming method's side of the stream: Send any number of
// items, then Close (OK, or an error the caller gets as the stream's
// status, after the items sent before it). When the caller cancels, its
// end is gone: Send returns false once that is known on this node (the
// caller's end is here, or a Terminated for it came: an actor that wants
// to stop early watches caller()); items sent meanwhile are dead letters
// of reason ACTOR_STOPPED. When the actor stops with the stream open, the
// caller's stream ends with ABORTED (see the top).
template <typename Out>
class ServerStream {
 public:
  explicit ServerStream(ActorContext& ctx)
      : state_(std::make_shared<typed_internal::CallState>(
            ctx.Sender(), ctx.Self(), ctx.Method(), /*streaming=*/true)) {}

  // Sends one item; false once the stream is closed here or its caller is
  // known to be gone.
  bool Send(Out item) const {
    return state_->Send(MakeEnvelope(std::move(item), ActorRef()));
  }
  // Ends the stream with `status`. Ignored after the first Close.
  void Close(const absl::Status& status = absl::OkStatus()) const {
    state_->End(status);
  }
  bool closed() const { return state_->ended(); }
  // The caller's end of the stream (watch it to learn of a cancel).
  const ActorRef& caller() const { return state_->caller(); }

 private:
  std::shared_ptr<typed_internal::CallState> state_;
};

}  // namespace troupe
