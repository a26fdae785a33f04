#include "node/runtime/actor_cell.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

const ActorRef& Nobody() {
  static const ActorRef* const nobody = new ActorRef();
  return *nobody;
}

// Runs user code; a thrown exception becomes INTERNAL with its text.
template <typename F>
absl::Status Guard(F&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exception: ", e.what()));
  } catch (...) {
    return absl::InternalError("exception of unknown type");
  }
}

MessagePtr MakeTerminated(const ActorRef& ref, TerminationReason reason) {
  auto terminated = std::make_unique<Terminated>();
  *terminated->mutable_ref() = ToProto(ref.pid());
  terminated->set_reason(reason);
  return terminated;
}

}  // namespace

ActorCell::ActorCell(ActorSystem* system, std::string id, ActorFactory factory,
                     ActorRef parent, const SpawnOptions& options)
    : Process(system->interned_address(), std::move(id), system->incarnation()),
      system_(system),
      factory_(std::move(factory)),
      parent_(std::move(parent)),
      mailbox_capacity_(options.mailbox_capacity) {}

ActorCell::~ActorCell() {
  // Whatever is still queued (only possible when the dispatcher stopped
  // first) is freed, not leaked.
  while (MpscNode* node = system_queue_.Pop()) {
    delete static_cast<SystemMessage*>(node);
  }
  while (MpscNode* node = user_queue_.Pop()) {
    delete static_cast<Envelope*>(node);
  }
}

void ActorCell::Start() {
  self_ = ActorRef(shared_from_this());
  SendSystem(MakeSystem(SystemKind::kStart, ActorRef()));
}

ActorCell::Extras& ActorCell::extras() {
  if (extras_ == nullptr) {
    extras_ = std::make_unique<Extras>();
  }
  return *extras_;
}

// --- Process ---------------------------------------------------------------

void ActorCell::SendUser(EnvelopePtr envelope) {
  if (IsTerminated()) {
    system_->DeadLetter(ActorRef(shared_from_this()), std::move(envelope),
                        "stopped");
    return;
  }
  if (mailbox_capacity_ > 0 &&
      mailbox_size_.fetch_add(1, std::memory_order_relaxed) >=
          mailbox_capacity_) {
    mailbox_size_.fetch_sub(1, std::memory_order_relaxed);
    system_->CountOverflow();
    system_->DeadLetter(ActorRef(shared_from_this()), std::move(envelope),
                        "mailbox full");
    return;
  }
  user_queue_.Push(envelope.release());
  ScheduleIfIdle();
}

void ActorCell::SendSystem(SystemMessagePtr message) {
  if (IsTerminated()) {
    ReplyToDeadWatch(*message);
    return;
  }
  system_queue_.Push(message.release());
  ScheduleIfIdle();
}

void ActorCell::ReplyToDeadWatch(const SystemMessage& message) {
  if (message.kind == SystemKind::kWatch && message.ref) {
    // Not self_: another thread may be clearing it.
    auto reply = MakeSystem(SystemKind::kTerminated, ActorRef(shared_from_this()));
    reply->reason = kNotFound;
    message.ref.process()->SendSystem(std::move(reply));
  }
}

// Producer side of the scheduling handshake. The seq_cst load pairs with the
// consumer's seq_cst store in ReleaseOrReschedule: if we see "scheduled",
// the consumer has not yet released, and its re-check after releasing will
// see the node we pushed (MpscQueue::Push is seq_cst).
void ActorCell::ScheduleIfIdle() {
  if (scheduled_.load(std::memory_order_seq_cst)) {
    return;
  }
  if (!scheduled_.exchange(true, std::memory_order_seq_cst)) {
    run_keepalive_ = shared_from_this();
    system_->dispatcher().Schedule(this);
  }
}

// --- Run -------------------------------------------------------------------

void ActorCell::Run() {
  std::shared_ptr<ActorCell> keepalive = std::move(run_keepalive_);
  int budget = system_->throughput();
  for (;;) {
    if (MpscNode* node = system_queue_.Pop(); node != nullptr) {
      HandleSystem(SystemMessagePtr(static_cast<SystemMessage*>(node)));
      continue;
    }
    const State state = state_.load(std::memory_order_relaxed);
    if (state == State::kTerminated) {
      DrainUserQueue();  // messages that raced with the termination
      break;
    }
    if (state != State::kRunning || suspended_ || budget == 0) {
      break;
    }
    MpscNode* node = user_queue_.Pop();
    if (node == nullptr) {
      break;
    }
    --budget;
    HandleUser(EnvelopePtr(static_cast<Envelope*>(node)));
  }
  ReleaseOrReschedule(std::move(keepalive));
}

void ActorCell::ReleaseOrReschedule(std::shared_ptr<ActorCell> keepalive) {
  const State state = state_.load(std::memory_order_relaxed);
  const bool user_runnable =
      state == State::kTerminated || (state == State::kRunning && !suspended_);
  // Still the consumer here: Empty() may be called.
  if (!system_queue_.Empty() || (user_runnable && !user_queue_.Empty())) {
    run_keepalive_ = std::move(keepalive);
    system_->dispatcher().Yield(this);
    return;
  }
  // Both queues were empty (their heads at the stub). Release, then look
  // again at the producer side only: a Push that came in between and saw
  // "scheduled" did not schedule us, so we must.
  scheduled_.store(false, std::memory_order_seq_cst);
  const bool pushed = system_queue_.MaybeNonEmpty() ||
                      (user_runnable && user_queue_.MaybeNonEmpty());
  if (pushed && !scheduled_.exchange(true, std::memory_order_seq_cst)) {
    run_keepalive_ = std::move(keepalive);
    system_->dispatcher().Yield(this);
  }
}

// --- System messages -------------------------------------------------------

void ActorCell::HandleSystem(SystemMessagePtr message) {
  const State state = state_.load(std::memory_order_relaxed);
  if (state == State::kTerminated) {
    ReplyToDeadWatch(*message);
    return;
  }
  switch (message->kind) {
    case SystemKind::kStart:
      state_.store(State::kRunning, std::memory_order_release);
      RunStarted(/*restart=*/false, absl::OkStatus());
      break;
    case SystemKind::kStop:
      BeginStop(message->reason == v1::TERMINATION_REASON_UNSPECIFIED
                    ? kStopped
                    : message->reason);
      break;
    case SystemKind::kWatch:
      if (message->ref && message->ref != self_) {
        extras().watchers.insert(message->ref);
      }
      break;
    case SystemKind::kUnwatch:
      if (extras_ != nullptr) {
        extras_->watchers.erase(message->ref);
      }
      break;
    case SystemKind::kTerminated:
      HandleTerminated(*message);
      break;
    case SystemKind::kFailed:
      HandleChildFailed(*message);
      break;
    case SystemKind::kResume:
      ApplyDirective(Directive::kResume, message->error);
      break;
    case SystemKind::kRestart:
      ApplyDirective(Directive::kRestart, message->error);
      break;
  }
}

void ActorCell::HandleTerminated(const SystemMessage& message) {
  if (extras_ == nullptr) {
    return;  // neither a child nor watched: a late or duplicate notice
  }
  const bool was_child = extras_->children.erase(message.ref.process()) > 0;
  const bool was_watched = extras_->watching.erase(message.ref) > 0;
  if (!was_child && !was_watched) {
    return;
  }
  if (state_.load(std::memory_order_relaxed) == State::kStopping) {
    MaybeFinishStop();
    return;
  }
  // Delivered as an ordinary message so Receive never runs while the actor
  // is suspended, and after messages already queued.
  DeliverToSelf(MakeTerminated(message.ref, message.reason));
}

void ActorCell::DeliverToSelf(MessagePtr message) {
  user_queue_.Push(MakeEnvelope(std::move(message), ActorRef()).release());
  if (mailbox_capacity_ > 0) {
    mailbox_size_.fetch_add(1, std::memory_order_relaxed);
  }
}

// --- Supervision -----------------------------------------------------------

void ActorCell::Fail(const absl::Status& error, bool during_start) {
  suspended_ = true;
  if (parent_) {
    auto failed = MakeSystem(SystemKind::kFailed, self_);
    failed->error = error;
    failed->during_start = during_start;
    parent_.process()->SendSystem(std::move(failed));
    return;
  }
  ApplyDirective(
      system_->SuperviseTopLevel(this, Failure{self_, error, during_start}),
      error);
}

bool ActorCell::RecordRestart(const SupervisorStrategy& strategy) {
  if (strategy.max_restarts < 0) {
    return true;
  }
  std::deque<absl::Time>& restarts = extras().restarts;
  const absl::Time now = absl::Now();
  while (!restarts.empty() && now - restarts.front() > strategy.within) {
    restarts.pop_front();
  }
  if (static_cast<int>(restarts.size()) >= strategy.max_restarts) {
    return false;
  }
  restarts.push_back(now);
  return true;
}

void ActorCell::HandleChildFailed(const SystemMessage& message) {
  if (extras_ == nullptr) {
    return;
  }
  auto it = extras_->children.find(message.ref.process());
  if (it == extras_->children.end()) {
    return;  // already gone
  }
  const SupervisorStrategy strategy = actor_ != nullptr
                                          ? actor_->supervisor_strategy()
                                          : SupervisorStrategy::Default();
  const Failure failure{message.ref, message.error, message.during_start};
  Directive directive = Directive::kStop;
  const absl::Status decided = Guard([&] {
    directive = strategy.decider ? strategy.decider(failure) : Directive::kStop;
    return absl::OkStatus();
  });
  if (!decided.ok()) {
    directive = Directive::kEscalate;  // a throwing decider fails the parent
  }
  auto* child = static_cast<ActorCell*>(message.ref.process());
  if (directive == Directive::kRestart && !child->RecordRestart(strategy)) {
    Log(LogSeverity::kWarning,
        absl::StrCat(message.ref.ToString(), " restarted more than ",
                     strategy.max_restarts, " times within ",
                     absl::FormatDuration(strategy.within), "; stopping it"));
    directive = Directive::kStop;
  }
  switch (directive) {
    case Directive::kResume:
    case Directive::kRestart: {
      auto reply = MakeSystem(directive == Directive::kResume
                                  ? SystemKind::kResume
                                  : SystemKind::kRestart,
                              self_);
      reply->error = message.error;
      message.ref.process()->SendSystem(std::move(reply));
      break;
    }
    case Directive::kStop: {
      auto stop = MakeSystem(SystemKind::kStop, self_);
      stop->reason = kFailed;
      message.ref.process()->SendSystem(std::move(stop));
      break;
    }
    case Directive::kEscalate:
      extras_->escalated_child = message.ref;
      Fail(message.error, /*during_start=*/false);
      break;
  }
}

void ActorCell::ApplyDirective(Directive directive, const absl::Status& error) {
  // A child whose failure this actor escalated shares its fate.
  if (extras_ != nullptr && extras_->escalated_child) {
    ActorRef child = std::move(extras_->escalated_child);
    extras_->escalated_child = ActorRef();
    if (directive == Directive::kResume || directive == Directive::kRestart) {
      auto reply = MakeSystem(directive == Directive::kResume
                                  ? SystemKind::kResume
                                  : SystemKind::kRestart,
                              self_);
      reply->error = error;
      child.process()->SendSystem(std::move(reply));
    }
  }
  switch (directive) {
    case Directive::kResume:
      suspended_ = false;
      break;
    case Directive::kRestart:
      Restart(error);
      break;
    case Directive::kStop:
    case Directive::kEscalate:  // only the guardian answers Escalate here
      suspended_ = false;
      BeginStop(kFailed);
      break;
  }
}

void ActorCell::RunStarted(bool restart, const absl::Status& reason) {
  const absl::Status status = Guard([&] {
    return restart ? actor_->PostRestart(*this, reason) : actor_->Started(*this);
  });
  if (!status.ok()) {
    Fail(status, /*during_start=*/true);
  }
}

void ActorCell::Restart(const absl::Status& reason) {
  if (actor_ != nullptr) {
    const absl::Status pre = Guard([&] {
      actor_->PreRestart(*this, reason);
      return absl::OkStatus();
    });
    if (!pre.ok()) {
      Log(LogSeverity::kWarning, absl::StrCat(self_.ToString(),
                                              ": PreRestart failed: ",
                                              pre.ToString()));
    }
  }
  if (extras_ != nullptr) {
    extras_->behavior.reset();
  }
  std::unique_ptr<Actor> fresh;
  const absl::Status made = Guard([&] {
    fresh = factory_();
    return fresh != nullptr ? absl::OkStatus()
                            : absl::InternalError("actor factory returned null");
  });
  if (!made.ok()) {
    Log(LogSeverity::kError,
        absl::StrCat(self_.ToString(), ": cannot restart: ", made.ToString()));
    suspended_ = false;
    BeginStop(kFailed);
    return;
  }
  actor_ = std::move(fresh);
  suspended_ = false;
  RunStarted(/*restart=*/true, reason);
}

// --- User messages ---------------------------------------------------------

void ActorCell::HandleUser(EnvelopePtr envelope) {
  if (mailbox_capacity_ > 0) {
    mailbox_size_.fetch_sub(1, std::memory_order_relaxed);
  }
  const Message& message = envelope->message();
  if (Is<PoisonPill>(message)) {
    BeginStop(kStopped);
    return;
  }
  current_ = envelope.get();
  const absl::Status status = Guard([&] {
    if (extras_ != nullptr && extras_->behavior != nullptr) {
      return (*extras_->behavior)(*this, message);
    }
    return actor_->Receive(*this, message);
  });
  current_ = nullptr;
  system_->CountProcessed();
  if (!status.ok()) {
    Fail(status, /*during_start=*/false);
  }
}

// --- Stopping --------------------------------------------------------------

void ActorCell::BeginStop(TerminationReason reason) {
  const State state = state_.load(std::memory_order_relaxed);
  if (state == State::kStopping || state == State::kTerminated) {
    return;
  }
  stop_reason_ = reason;
  state_.store(State::kStopping, std::memory_order_release);
  if (extras_ != nullptr) {
    for (const TimerHandle& timer : extras_->timers) {
      timer.Cancel();
    }
    extras_->timers.clear();
    for (const auto& source : extras_->sources) {
      source->RequestStop();
    }
    extras_->sources.clear();
    for (const auto& [process, child] : extras_->children) {
      child.process()->SendSystem(MakeSystem(SystemKind::kStop, self_));
    }
  }
  MaybeFinishStop();
}

void ActorCell::MaybeFinishStop() {
  if (extras_ == nullptr || extras_->children.empty()) {
    FinishStop();
  }
}

void ActorCell::FinishStop() {
  if (actor_ != nullptr) {
    const absl::Status stopped = Guard([&] {
      actor_->Stopped(*this);
      return absl::OkStatus();
    });
    if (!stopped.ok()) {
      Log(LogSeverity::kWarning, absl::StrCat(self_.ToString(),
                                              ": Stopped failed: ",
                                              stopped.ToString()));
    }
    actor_.reset();
  }
  // Watches already queued were sent while the actor lived: their watchers
  // get the real reason, not NOT_FOUND. Nothing else queued matters now.
  while (MpscNode* node = system_queue_.Pop()) {
    SystemMessagePtr pending(static_cast<SystemMessage*>(node));
    if (pending->kind == SystemKind::kWatch && pending->ref) {
      extras().watchers.insert(pending->ref);
    } else if (pending->kind == SystemKind::kUnwatch && extras_ != nullptr) {
      extras_->watchers.erase(pending->ref);
    }
  }
  state_.store(State::kTerminated, std::memory_order_release);
  system_->OnActorTerminated(this, /*top_level=*/!parent_);
  DrainUserQueue();
  std::unique_ptr<Extras> extras = std::move(extras_);
  if (extras != nullptr) {
    for (const ActorRef& watcher : extras->watchers) {
      auto notice = MakeSystem(SystemKind::kTerminated, self_);
      notice->reason = stop_reason_;
      watcher.process()->SendSystem(std::move(notice));
    }
    for (const ActorRef& watched : extras->watching) {
      watched.process()->SendSystem(MakeSystem(SystemKind::kUnwatch, self_));
    }
  }
  if (parent_) {
    auto notice = MakeSystem(SystemKind::kTerminated, self_);
    notice->reason = stop_reason_;
    parent_.process()->SendSystem(std::move(notice));
    parent_ = ActorRef();
  }
  self_ = ActorRef();  // Run's keepalive holds the cell until Run returns
}

void ActorCell::DrainUserQueue() {
  const ActorRef target(shared_from_this());
  while (MpscNode* node = user_queue_.Pop()) {
    EnvelopePtr envelope(static_cast<Envelope*>(node));
    if (mailbox_capacity_ > 0) {
      mailbox_size_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (Is<Terminated>(envelope->message())) {
      continue;  // a notice to this actor itself, not a lost message
    }
    system_->DeadLetter(target, std::move(envelope), "stopped");
  }
}

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
    DeliverToSelf(MakeTerminated(ref, kNotFound));
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

void ActorCell::Stop() { SendSystem(MakeSystem(SystemKind::kStop, self_)); }

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
  auto shared = std::make_shared<std::future<MessagePtr>>(std::move(future));
  AddInputSource([shared](const StopToken& stop) -> MessagePtr {
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
  });
}

void ActorCell::PipeToSelf(AskFuture future) {
  auto shared = std::make_shared<AskFuture>(std::move(future));
  AddInputSource([shared](const StopToken& stop) -> MessagePtr {
    while (shared->valid()) {
      if (shared->wait_for(std::chrono::milliseconds(10)) ==
          std::future_status::ready) {
        absl::StatusOr<MessagePtr> reply = shared->get();
        if (reply.ok()) {
          return std::move(*reply);
        }
        auto failure = std::make_unique<AskFailure>();
        failure->set_code(static_cast<int>(reply.status().code()));
        failure->set_message(std::string(reply.status().message()));
        return failure;
      }
      if (stop.stop_requested()) {
        break;
      }
    }
    return nullptr;
  });
}

TimerHandle ActorCell::TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                    const TellOptions& options) {
  TimerHandle timer = system_->TellEnvelope(to, std::move(envelope), options);
  if (timer) {
    std::vector<TimerHandle>& timers = extras().timers;
    if (timers.size() >= 16 && timers.size() == timers.capacity()) {
      // Forget finished timers before growing (amortised O(1)).
      timers.erase(std::remove_if(timers.begin(), timers.end(),
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
