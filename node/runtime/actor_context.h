// ActorContext: an actor's view of the runtime, passed to Receive and the
// hooks. Valid only during that call and only on that thread (don't store
// it or use it from another thread; store Self() instead).
#pragma once

#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/runtime/activator_protocol.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/input_source.h"
#include "node/runtime/system_messages.h"
#include "node/runtime/teller.h"

namespace troupe {

class ActorContext;
class ActorSystem;

struct SpawnOptions {
  // Mailbox bound: user messages beyond this many queued become dead letters
  // (counted). 0 = unbounded.
  size_t mailbox_capacity = 0;
  // The actor's kind in statistics and metrics (kind_stats.h); empty = its
  // C++ class. A node's registered kinds set it. The set of names a program
  // uses must be bounded (a metric label). Owned: a view here once dangled
  // when a caller assigned a temporary (ASan found it in a test).
  std::string kind;
};

// What an actor does with the answer to its ask: runs as a message to the
// actor (see ActorContext::Ask). A non-OK status is a failure, as from
// Receive.
using AskContinuation =
    std::function<absl::Status(ActorContext&, absl::StatusOr<MessagePtr>)>;
// The same for SpawnOn and LookupOn: the ref, or why there is none.
using RefContinuation =
    std::function<absl::Status(ActorContext&, absl::StatusOr<ActorRef>)>;

class ActorContext : public Teller {
 public:
  virtual const ActorRef& Self() const = 0;
  // The sender of the message being handled (nobody in hooks, in a
  // continuation, or when sent from outside any actor).
  virtual const ActorRef& Sender() const = 0;
  // The proto service method the message being handled calls (a typed
  // call, see node/typed/typed_call.h), or null for a plain message, in a
  // hook or in a continuation. Generated actor bases dispatch on it.
  virtual const google::protobuf::MethodDescriptor* Method() const = 0;
  // The parent (nobody for a top-level actor).
  virtual const ActorRef& Parent() const = 0;
  virtual std::vector<ActorRef> Children() const = 0;
  virtual ActorSystem& System() = 0;

  // Teller::Ref: the ref a Pid received inside a message names, from a
  // small per-actor cache (a Pid seen again costs a hash lookup, not a
  // registry or link lookup). Never fails; see ActorSystem::Resolve.
  ActorRef Ref(const v1::Pid& pid) override = 0;

  // Tell(Sender(), message).
  template <typename M>
  void Reply(M&& message) {
    Tell(Sender(), std::forward<M>(message));
  }
  // Sends a copy of the message being handled to `to`, keeping its sender.
  virtual void Forward(const ActorRef& to) = 0;
  void Forward(const v1::Pid& to) { Forward(Ref(to)); }

  // Asks `to` and runs `then(ctx, reply)` as a message to this actor when
  // the reply comes, or with the error an ask fails with (see AskFuture in
  // teller.h; DEADLINE_EXCEEDED after `timeout`). No thread waits: the
  // reply is queued in this actor's mailbox like any message (protoactor's
  // ReenterAfter, CAF's request(...).then). So `then`:
  //   - never runs concurrently with Receive, and may use the actor's state;
  //   - is dropped, not run, when this actor has stopped or restarted since
  //     the ask (the instance that asked is gone);
  //   - runs with Sender() = nobody; a non-OK status it returns (or an
  //     exception) is a failure, as from Receive.
  // `then` returns absl::Status or void.
  template <typename M, typename F>
  void Ask(const ActorRef& to, M&& message, absl::Duration timeout, F&& then) {
    AskThen(to, MakeEnvelope(std::forward<M>(message), ActorRef()), timeout,
            AsContinuation<absl::StatusOr<MessagePtr>>(std::forward<F>(then)));
  }
  template <typename M, typename F>
  void Ask(const v1::Pid& to, M&& message, absl::Duration timeout, F&& then) {
    Ask(Ref(to), std::forward<M>(message), timeout, std::forward<F>(then));
  }
  virtual void AskThen(const ActorRef& to, EnvelopePtr envelope,
                       absl::Duration timeout, AskContinuation then) = 0;

  // Spawns an actor of `kind` named `name` ("" = generated) with the
  // optional `init` on the node at `node` (host:port; "" or this node's own
  // address = this node), through that node's activator (kActivatorName:
  // every troupe node server runs one, and a plain ActorSystem none, so
  // there it fails UNAVAILABLE; protoactor's remote.SpawnNamed).
  // `then` gets the new actor's exact ref, or NOT_FOUND (unknown kind, with
  // the kinds that node knows), ALREADY_EXISTS (name taken),
  // INVALID_ARGUMENT (bad name or init), UNAVAILABLE (node down or not a
  // node server), DEADLINE_EXCEEDED. Runs as Ask's continuation does.
  template <typename F>
  void SpawnOn(absl::string_view node, absl::string_view kind,
               absl::string_view name, const Message* init,
               absl::Duration timeout, F&& then) {
    ActivateThen(
        SpawnRequestFor(node, kind, name, init), timeout,
        AsContinuation<absl::StatusOr<ActorRef>>(std::forward<F>(then)));
  }
  // The live actor named `name` on `node`, as a name-only ref (it reaches
  // whichever actor has the name when a message arrives); NOT_FOUND when
  // none has it. Otherwise as SpawnOn.
  template <typename F>
  void LookupOn(absl::string_view node, absl::string_view name,
                absl::Duration timeout, F&& then) {
    ActivateThen(
        LookupRequestFor(node, name), timeout,
        AsContinuation<absl::StatusOr<ActorRef>>(std::forward<F>(then)));
  }
  // Sends an activator request (SpawnRequest or LookupRequest naming its
  // node); for SpawnOn and LookupOn.
  virtual void ActivateThen(const Message& request, absl::Duration timeout,
                            RefContinuation then) = 0;

  // Spawns a child, supervised by this actor. Its id is this actor's id,
  // '/', and `name` (or a generated name when empty). ALREADY_EXISTS when
  // the name is taken; INVALID_ARGUMENT for a bad name.
  template <typename A>
  absl::StatusOr<ActorRef> Spawn(absl::string_view name = "",
                                 const SpawnOptions& options = {}) {
    return Spawn([] { return std::unique_ptr<Actor>(new A()); }, name, options);
  }
  virtual absl::StatusOr<ActorRef> Spawn(ActorFactory factory,
                                         absl::string_view name = "",
                                         const SpawnOptions& options = {}) = 0;

  // Terminated{ref, reason} arrives once when `ref` ends (at once, with
  // NOT_FOUND, when it is already dead or unknown), after the messages
  // `ref` sent this actor before it ended. Idempotent.
  virtual void Watch(const ActorRef& ref) = 0;
  void Watch(const v1::Pid& pid) { Watch(Ref(pid)); }
  // No Terminated for `ref` after this returns. Harmless if not watching.
  virtual void Unwatch(const ActorRef& ref) = 0;
  void Unwatch(const v1::Pid& pid) { Unwatch(Ref(pid)); }

  // Stops this actor after the current message (queued messages become dead
  // letters).
  virtual void Stop() = 0;
  // Stops any actor (overtakes its queued messages).
  virtual void Stop(const ActorRef& ref) = 0;
  void Stop(const v1::Pid& pid) { Stop(Ref(pid)); }

  // Replaces Receive by `behavior` until Unbecome (or a restart).
  virtual void Become(Behavior behavior) = 0;
  virtual void Unbecome() = 0;

  // Runs `fn` repeatedly on a thread of its own and delivers what it returns
  // to this actor (sender: nobody), one message at a time: see
  // input_source.h. Ends when the actor stops. Costs one OS thread for as
  // long as the source runs.
  virtual InputSourceHandle AddInputSource(InputSourceFn fn) = 0;
  // Delivers a foreign future's message to this actor when it is ready
  // (nothing if the actor stopped first or the message is null). Costs an
  // OS thread that polls the future every 10 ms until it is ready: for
  // futures from other libraries only. An ask takes a continuation instead
  // (Ask above), which costs no thread.
  virtual void PipeToSelf(std::future<MessagePtr> future) = 0;

 protected:
  ~ActorContext() = default;

 private:
  // Wraps a callable returning void or absl::Status into a continuation.
  template <typename Result, typename F>
  static std::function<absl::Status(ActorContext&, Result)> AsContinuation(
      F&& then) {
    using Returned = std::invoke_result_t<F&, ActorContext&, Result>;
    if constexpr (std::is_void_v<Returned>) {
      return [fn = std::forward<F>(then)](ActorContext& ctx, Result result) {
        fn(ctx, std::move(result));
        return absl::OkStatus();
      };
    } else {
      return std::function<absl::Status(ActorContext&, Result)>(
          std::forward<F>(then));
    }
  }
};

}  // namespace troupe
