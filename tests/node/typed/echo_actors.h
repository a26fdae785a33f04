// The Echo service's actors for the typed-actor tests (test_services.proto),
// registered as the kind "typed_echo": every way a method answers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "node/runtime/actor_system.h"
#include "tests/node/typed/test_services.troupe.h"

namespace troupe::testing {

using test::EchoReply;
using test::EchoRequest;

inline constexpr absl::Duration kTypedWait = absl::Seconds(10);

// The kind EchoImpl is registered as.
inline constexpr char kTypedEchoKind[] = "typed_echo";

inline EchoRequest Request(const std::string& text, int code = 0) {
  EchoRequest request;
  request.set_text(text);
  request.set_code(code);
  return request;
}

// Holds every Echo call until it gets "open" (a plain message), then
// answers them all: a method that answers later, from another message.
class Gate final : public test::EchoActor {
 public:
  void Echo(ActorContext& /*ctx*/, const EchoRequest& request,
            Responder<EchoReply> reply) override {
    held_.push_back({request.text(), std::move(reply)});
  }
  absl::Status ReceiveOther(ActorContext& /*ctx*/,
                            const Message& message) override {
    if (IsText(message, "open")) {
      for (auto& [text, reply] : held_) {
        EchoReply out;
        out.set_text(text);
        reply.Send(std::move(out));
      }
      held_.clear();
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::pair<std::string, Responder<EchoReply>>> held_;
};

// Answers the Delegate calls handed to it.
class Worker final : public test::EchoActor {
 public:
  void Delegate(ActorContext& /*ctx*/, const EchoRequest& request,
                Responder<EchoReply> reply) override {
    EchoReply out;
    out.set_text("worker: " + request.text());
    reply.Send(std::move(out));
  }
};

// The Echo service as the tests call it.
class EchoImpl final : public test::EchoActor {
 public:
  void Echo(ActorContext& ctx, const EchoRequest& request,
            Responder<EchoReply> reply) override {
    ++calls_;
    EchoReply out;
    out.set_text(request.text());
    out.set_node(ctx.Self().address());
    reply.Send(std::move(out));
  }
  // Asks the gate (a typed call from inside an actor), answering when the
  // gate does: the actor goes on handling calls meanwhile.
  void Deferred(ActorContext& ctx, const EchoRequest& request,
                Responder<EchoReply> reply) override {
    test::EchoRef(gate_).Echo(
        ctx, request, kTypedWait,
        [reply](ActorContext& /*ctx*/, absl::StatusOr<EchoReply> answer) {
          if (!answer.ok()) {
            reply.Fail(answer.status());
            return;
          }
          answer->set_text("deferred " + answer->text());
          reply.Send(*std::move(answer));
        });
  }
  void Fail(ActorContext& /*ctx*/, const EchoRequest& request,
            Responder<EchoReply> reply) override {
    reply.Fail(absl::Status(static_cast<absl::StatusCode>(request.code()),
                            "failed on purpose: " + request.text()));
  }
  void Drop(ActorContext& /*ctx*/, const EchoRequest& /*request*/,
            Responder<EchoReply> /*reply*/) override {}
  void Count(ActorContext& /*ctx*/, const test::Outer_Inner& request,
             ServerStream<EchoReply> stream) override {
    for (int i = 1; i <= request.count(); ++i) {
      EchoReply item;
      item.set_text(std::to_string(i));
      stream.Send(std::move(item));
    }
    stream.Close(
        absl::Status(static_cast<absl::StatusCode>(request.fail_code()),
                     request.fail_code() != 0 ? "counted" : ""));
  }
  void Delegate(ActorContext& ctx, const EchoRequest& /*request*/,
                Responder<EchoReply> reply) override {
    reply.Forward(ctx, worker_);
  }
  // Sends "first", then one item per "more"; watches the caller's end and,
  // when it goes, tells the ref named by request.text() "cancelled".
  void Follow(ActorContext& ctx, const EchoRequest& request,
              ServerStream<EchoReply> stream) override {
    EchoReply first;
    first.set_text("first");
    stream.Send(std::move(first));
    ctx.Watch(stream.caller());
    absl::StatusOr<ActorRef> probe = ctx.System().Resolve(request.text());
    followers_.push_back({std::move(stream), probe.ok() ? *probe : ActorRef()});
  }

  absl::Status Started(ActorContext& ctx) override {
    absl::StatusOr<ActorRef> gate = ctx.Spawn<Gate>("gate");
    if (!gate.ok()) {
      return gate.status();
    }
    gate_ = *gate;
    absl::StatusOr<ActorRef> worker = ctx.Spawn<Worker>("worker");
    if (!worker.ok()) {
      return worker.status();
    }
    worker_ = *worker;
    return absl::OkStatus();
  }
  // "calls?" answers how many Echo calls came; "open" opens the gate.
  absl::Status ReceiveOther(ActorContext& ctx,
                            const Message& message) override {
    if (IsText(message, "calls?")) {
      ctx.Reply(Text(std::to_string(calls_)));
    } else if (IsText(message, "open")) {
      ctx.Tell(gate_, Text("open"));
    } else if (IsText(message, "more")) {
      for (auto& follower : followers_) {
        EchoReply item;
        item.set_text("more");
        follower.stream.Send(std::move(item));
      }
    } else if (const auto* ended = As<Terminated>(message)) {
      for (auto it = followers_.begin(); it != followers_.end(); ++it) {
        if (SameActor(it->stream.caller(), ended->ref())) {
          if (it->probe) {
            ctx.Tell(it->probe, Text("cancelled"));
          }
          followers_.erase(it);
          break;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  struct Follower {
    ServerStream<EchoReply> stream;
    ActorRef probe;
  };
  ActorRef gate_;
  ActorRef worker_;
  int calls_ = 0;
  std::vector<Follower> followers_;
};

}  // namespace troupe::testing
