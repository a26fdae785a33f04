// ActorCell, part three: the ActorContext an actor sees. See actor_cell.h.
#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/empty.pb.h"
#include "node/runtime/activator_protocol.h"
#include "node/runtime/actor_cell.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/guard.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

const ActorRef& Nobody() {
  static const ActorRef* const nobody = new ActorRef();
  return *nobody;
}

// An input source that waits for `future` (checking for stop every 10 ms:
// a std::future cannot be woken otherwise) and yields its message once.
InputSourceFn PollFuture(std::future<MessagePtr> future) {
  auto shared = std::make_shared<std::future<MessagePtr>>(std::move(future));
  return [shared](const StopToken& stop) -> MessagePtr {
    while (shared->valid()) {
      if (shared->wait_for(std::chrono::milliseconds(10)) ==
          std::future_status::ready) {
        return shared->get();
      }
      if (stop.stop_requested()) {
        break;
      }
    }
    return nullptr;
  };
}

// A continuation in the mailbox: `then` with its result, for the instance
// `generation` of the actor.
class Continuation : public Envelope {
 public:
  explicit Continuation(uint16_t generation)
      : Envelope(ActorRef(), /*is_continuation=*/true),
        generation_(generation) {
    static const Message* const empty = new google::protobuf::Empty();
    message_ = const_cast<Message*>(empty);  // never written through
  }
  MessagePtr TakeMessage() override {
    return std::make_unique<google::protobuf::Empty>();
  }
  uint16_t generation() const { return generation_; }
  virtual absl::Status Run(ActorContext& ctx) = 0;

 private:
  const uint16_t generation_;
};

template <typename Result>
class ContinuationOf final : public Continuation {
 public:
  using Fn = std::function<absl::Status(ActorContext&, Result)>;
  ContinuationOf(uint16_t generation, Fn then, Result result)
      : Continuation(generation),
        then_(std::move(then)),
        result_(std::move(result)) {}
  absl::Status Run(ActorContext& ctx) override {
    return then_(ctx, std::move(result_));
  }

 private:
  Fn then_;
  Result result_;
};

}  // namespace

// --- ActorContext ----------------------------------------------------------

const ActorRef& ActorCell::Sender() const {
  return current_ != nullptr ? current_->sender : Nobody();
}

std::vector<ActorRef> ActorCell::Children() const {
  std::vector<ActorRef> children;
  if (extras_ != nullptr) {
    children.reserve(extras_->children.size());
    for (const auto& [process, child] : extras_->children) {
      children.push_back(child);
    }
  }
  return children;
}

void ActorCell::Forward(const ActorRef& to) {
  if (current_ == nullptr) {
    return;
  }
  system_->TellEnvelope(to, CloneEnvelope(*current_), TellOptions());
}

absl::StatusOr<ActorRef> ActorCell::Spawn(ActorFactory factory,
                                          absl::string_view name,
                                          const SpawnOptions& options) {
  if (state_.load(std::memory_order_relaxed) != State::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat(self_.ToString(), " is stopping; cannot spawn children"));
  }
  auto child = system_->CreateActor(std::move(factory), name, self_, options);
  if (!child.ok()) {
    return child.status();
  }
  ActorRef ref((*child));
  extras().children.emplace(ref.process(), ref);
  (*child)->Start();
  return ref;
}

void ActorCell::Watch(const ActorRef& ref) {
  if (ref == self_) {
    return;
  }
  if (!ref) {
    DeliverTerminated(ref, kNotFound);
    return;
  }
  if (!extras().watching.insert(ref).second) {
    return;  // already watching
  }
  ref.process()->SendSystem(MakeSystem(SystemKind::kWatch, self_));
}

void ActorCell::Unwatch(const ActorRef& ref) {
  if (extras_ == nullptr || extras_->watching.erase(ref) == 0) {
    return;
  }
  ref.process()->SendSystem(MakeSystem(SystemKind::kUnwatch, self_));
}

// Takes effect when the current Receive or hook returns (see Run): the same
// moment a kStop sent to itself would, without the round trip.
void ActorCell::Stop() { stop_requested_ = true; }

void ActorCell::Stop(const ActorRef& ref) { system_->Stop(ref); }

void ActorCell::Become(Behavior behavior) {
  extras().behavior = std::make_unique<Behavior>(std::move(behavior));
}

void ActorCell::Unbecome() {
  if (extras_ != nullptr) {
    extras_->behavior.reset();
  }
}

InputSourceHandle ActorCell::AddInputSource(InputSourceFn fn) {
  auto state = std::make_shared<InputSourceState>();
  if (state_.load(std::memory_order_relaxed) != State::kRunning) {
    state->RequestStop();
    return InputSourceHandle(state);
  }
  extras().sources.push_back(state);
  return system_->StartInputSource(self_, std::move(fn), std::move(state));
}

void ActorCell::PipeToSelf(std::future<MessagePtr> future) {
  AddInputSource(PollFuture(std::move(future)));
}

ActorRef ActorCell::Ref(const v1::Pid& pid) {
  Pid key = FromProto(pid);
  auto& refs = extras().refs;
  if (auto it = refs.find(key); it != refs.end()) {
    // A name-only ref (uid 0) of an actor that has ended may reach a later
    // one of that name now: resolved again. An exact one stays what it is.
    if (key.uid != 0 || !it->second.process()->IsTerminated()) {
      return it->second;
    }
    refs.erase(it);
  }
  if (refs.size() >= kRefCacheSize) {
    refs.clear();
  }
  ActorRef ref = system_->Resolve(key);
  refs.emplace(std::move(key), ref);
  return ref;
}

void ActorCell::AskThen(const ActorRef& to, EnvelopePtr envelope,
                        absl::Duration timeout, AskContinuation then) {
  // The callback holds the cell weakly: an ask outliving its actor keeps
  // nothing alive, and its answer is dropped.
  system_->AskAsync(
      to, std::move(envelope), timeout,
      [cell = weak_from_this(), generation = generation_,
       then = std::move(then)](absl::StatusOr<MessagePtr> reply) mutable {
        // Called once: the continuation moves on with the reply.
        if (std::shared_ptr<ActorCell> self = cell.lock()) {
          self->DeliverContinuation(
              std::make_unique<ContinuationOf<absl::StatusOr<MessagePtr>>>(
                  generation, std::move(then), std::move(reply)));
        }
      });
}

void ActorCell::ActivateThen(const Message& request, absl::Duration timeout,
                             RefContinuation then) {
  absl::StatusOr<Pid> activator = ActivatorFor(request, system_->address());
  if (!activator.ok()) {
    // Still a message to this actor, as every continuation is.
    DeliverContinuation(
        std::make_unique<ContinuationOf<absl::StatusOr<ActorRef>>>(
            generation_, std::move(then), activator.status()));
    return;
  }
  AskThen(system_->Resolve(*activator),
          MakeEnvelope(CloneMessage(request), ActorRef()), timeout,
          [then = std::move(then), node = activator->address](
              ActorContext& ctx, absl::StatusOr<MessagePtr> reply) {
            absl::StatusOr<v1::Pid> pid =
                ActivatorReply(std::move(reply), node);
            if (!pid.ok()) {
              return then(ctx, pid.status());
            }
            return then(ctx, ctx.Ref(*pid));
          });
}

void ActorCell::DeliverContinuation(EnvelopePtr continuation) {
  if (IsTerminated()) {
    return;  // the actor that asked is gone: nothing to run it on
  }
  queued_.fetch_add(1, std::memory_order_relaxed);
  user_queue_.Push(continuation.release());
  ScheduleIfIdle();
}

void ActorCell::RunContinuation(EnvelopePtr envelope) {
  auto& continuation = static_cast<Continuation&>(*envelope);
  if (continuation.generation() != generation_) {
    return;  // asked by an instance a restart has replaced
  }
  const absl::Status status =
      RunHandler([&] { return continuation.Run(*this); });
  if (!status.ok()) {
    Fail(status, /*during_start=*/false);
  }
}

TimerHandle ActorCell::TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                    const TellOptions& options) {
  TimerHandle timer = system_->TellEnvelope(to, std::move(envelope), options);
  if (timer) {
    std::vector<TimerHandle>& timers = extras().timers;
    if (timers.size() >= 16 && timers.size() == timers.capacity()) {
      // Forget finished timers before growing (amortised O(1)).
      timers.erase(
          std::remove_if(timers.begin(), timers.end(),
                         [](const TimerHandle& t) { return t.done(); }),
          timers.end());
    }
    timers.push_back(timer);
  }
  return timer;
}

}  // namespace troupe
