// ActorCell, part one: mailboxes, scheduling, system messages, stopping.
// Supervision and the ActorContext methods are in actor_cell_supervision.cc
// and actor_cell_context.cc.
#include "node/runtime/actor_cell.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/guard.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"

namespace troupe {

ActorCell::ActorCell(ActorSystem* system, std::string id, ActorFactory factory,
                     ActorRef parent, const SpawnOptions& options,
                     uint64_t serial, uint64_t uid)
    : Process(system->shared_address(), std::move(id), system->incarnation(),
              uid),
      system_(system),
      factory_(std::move(factory)),
      parent_(std::move(parent)),
      mailbox_capacity_(options.mailbox_capacity),
      top_level_(!parent_),
      serial_(serial) {}

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

void ActorCell::Init(std::unique_ptr<Actor> actor) {
  actor_ = std::move(actor);
  self_ = ActorRef(shared_from_this());
}

void ActorCell::Start() {
  run_keepalive_ = shared_from_this();
  system_->dispatcher().Schedule(this);
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
                        kActorStopped);
    return;
  }
  if (mailbox_capacity_ > 0 &&
      mailbox_size_.fetch_add(1, std::memory_order_relaxed) >=
          mailbox_capacity_) {
    mailbox_size_.fetch_sub(1, std::memory_order_relaxed);
    system_->CountOverflow();
    system_->DeadLetter(
        ActorRef(shared_from_this()), std::move(envelope), kMailboxFull,
        absl::StrCat("its mailbox holds at most ", mailbox_capacity_));
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
    auto reply =
        MakeSystem(SystemKind::kTerminated, ActorRef(shared_from_this()));
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
  if (state_.load(std::memory_order_relaxed) == State::kNew) {
    state_.store(State::kRunning, std::memory_order_release);
    RunStarted(/*restart=*/false, absl::OkStatus());
  }
  int budget = system_->throughput();
  // On a thread that borrowed the run (Dispatcher::CallerRuns: a gRPC
  // thread, which also serves the node's I/O): no message is begun once
  // kCallerRunSlice has passed; the rest go to the pool.
  const absl::Time slice_end = Dispatcher::RunningForCaller()
                                   ? absl::Now() + Dispatcher::kCallerRunSlice
                                   : absl::InfiniteFuture();
  for (;;) {
    if (stop_requested_) {  // ctx.Stop() in the last Receive or hook
      stop_requested_ = false;
      BeginStop(kStopped);
    }
    if (MpscNode* node = system_queue_.Pop(); node != nullptr) {
      HandleSystem(SystemMessagePtr(static_cast<SystemMessage*>(node)));
      continue;
    }
    const State state = state_.load(std::memory_order_relaxed);
    if (state == State::kTerminated) {
      DrainUserQueue();  // messages that raced with the termination
      break;
    }
    if (state != State::kRunning || suspended_ || budget == 0 ||
        (slice_end != absl::InfiniteFuture() && absl::Now() >= slice_end)) {
      break;
    }
    EnvelopePtr envelope = PopUser();
    if (envelope == nullptr) {
      break;
    }
    --budget;
    HandleUser(std::move(envelope));
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
    case SystemKind::kWatchInPlace:
      break;  // an actor is told of the end either way
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
  DeliverTerminated(message.ref, message.reason);
}

void ActorCell::DeliverTerminated(const ActorRef& ref,
                                  TerminationReason reason) {
  user_queue_.Push(
      MakeEnvelope(MakeTerminated(ref, reason), ActorRef()).release());
  if (mailbox_capacity_ > 0) {
    mailbox_size_.fetch_add(1, std::memory_order_relaxed);
  }
}

// --- User messages ---------------------------------------------------------

EnvelopePtr ActorCell::PopUser() {
  EnvelopePtr envelope(static_cast<Envelope*>(user_queue_.Pop()));
  if (envelope != nullptr && mailbox_capacity_ > 0) {
    mailbox_size_.fetch_sub(1, std::memory_order_relaxed);
  }
  return envelope;
}

void ActorCell::HandleUser(EnvelopePtr envelope) {
  if (envelope->is_continuation()) {
    RunContinuation(std::move(envelope));
    return;
  }
  const Message& message = envelope->message();
  if (Is<PoisonPill>(message)) {
    BeginStop(kStopped);
    return;
  }
  current_ = envelope.get();
  const absl::Status status = GuardUserCode([&] {
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
    const absl::Status stopped = GuardUserCode([&] {
      actor_->Stopped(*this);
      return absl::OkStatus();
    });
    if (!stopped.ok()) {
      Log(LogSeverity::kWarning,
          absl::StrCat(self_.ToString(),
                       ": Stopped failed: ", stopped.ToString()));
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
  // Its queued messages become dead letters before the system hears of
  // the end, so a shutdown that waited for every actor has counted them.
  DrainUserQueue();
  system_->OnActorTerminated(this);
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
  while (EnvelopePtr envelope = PopUser()) {
    if (envelope->is_continuation() || Is<Terminated>(envelope->message())) {
      continue;  // this actor's own business, not a lost message
    }
    system_->DeadLetter(target, std::move(envelope), kActorStopped);
  }
}

}  // namespace troupe
