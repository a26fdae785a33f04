// ActorCell, part three: the ActorContext an actor sees. See actor_cell.h.
#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/runtime/actor_cell.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

const ActorRef& Nobody() {
  static const ActorRef* const nobody = new ActorRef();
  return *nobody;
}

// An input source that waits for `future` (checking for stop every 10 ms:
// a std::future cannot be woken otherwise) and yields convert(result) once.
template <typename Future, typename Convert>
InputSourceFn PollFuture(Future future, Convert convert) {
  auto shared = std::make_shared<Future>(std::move(future));
  return [shared, convert](const StopToken& stop) -> MessagePtr {
    while (shared->valid()) {
      if (shared->wait_for(std::chrono::milliseconds(10)) ==
          std::future_status::ready) {
        return convert(shared->get());
      }
      if (stop.stop_requested()) {
        break;
      }
    }
    return nullptr;
  };
}

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
  system_->TellEnvelope(
      to, MakeEnvelope(CloneMessage(current_->message()), current_->sender),
      TellOptions());
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
  AddInputSource(PollFuture(std::move(future),
                            [](MessagePtr message) { return message; }));
}

void ActorCell::PipeToSelf(AskFuture future) {
  AddInputSource(PollFuture(
      std::move(future), [](absl::StatusOr<MessagePtr> reply) -> MessagePtr {
        if (reply.ok()) {
          return std::move(*reply);
        }
        auto failure = std::make_unique<AskFailure>();
        failure->set_code(static_cast<int>(reply.status().code()));
        failure->set_message(std::string(reply.status().message()));
        return failure;
      }));
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

AskFuture ActorCell::AskEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                 absl::Duration timeout) {
  return system_->AskEnvelope(to, std::move(envelope), timeout);
}

}  // namespace troupe
