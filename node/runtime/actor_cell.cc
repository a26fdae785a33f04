// ActorCell, part one: mailboxes, scheduling, system messages, stopping.
// Supervision and the ActorContext methods are in actor_cell_supervision.cc
// and actor_cell_context.cc.
#include "node/runtime/actor_cell.h"

#include <time.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/guard.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

// A clock read cheap enough for every spawn (a few ns, no syscall; ticks
// every few ms).
int64_t CoarseMonotonicMs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

}  // namespace

ActorCell::ActorCell(ActorSystem* system, std::string id, ActorFactory factory,
                     ActorRef parent, const SpawnOptions& options,
                     uint64_t serial, uint64_t uid, KindStats* kind)
    : Process(system->shared_address(), std::move(id), system->incarnation(),
              uid),
      system_(system),
      factory_(std::move(factory)),
      parent_(std::move(parent)),
      mailbox_capacity_(options.mailbox_capacity),
      top_level_(!parent_),
      serial_(serial),
      kind_(kind),
      spawned_at_ms_(CoarseMonotonicMs()) {}

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
  // Counted whether or not the mailbox is bounded (its depth is shown by
  // ListActors and Inspect).
  const uint64_t queued = queued_.fetch_add(1, std::memory_order_relaxed);
  // Signed: messages queued after our add may already be taken, so taken
  // can pass `queued` (then the mailbox is far from full).
  if (mailbox_capacity_ > 0 &&
      static_cast<int64_t>(queued - taken_.load(std::memory_order_relaxed)) >=
          static_cast<int64_t>(mailbox_capacity_)) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
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
  if (taken_in_run_ != 0) {  // before the release: then another may run it
    taken_.store(taken_.load(std::memory_order_relaxed) + taken_in_run_,
                 std::memory_order_relaxed);
    taken_in_run_ = 0;
  }
  ReleaseOrReschedule(std::move(keepalive));
}

void ActorCell::Drop() {
  // `scheduled_` stays set: nothing schedules the cell again, and it is
  // freed once the last ref goes (possibly right here).
  std::shared_ptr<ActorCell> keepalive = std::move(run_keepalive_);
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
        WatchersChanged();
      }
      break;
    case SystemKind::kUnwatch:
      if (extras_ != nullptr) {
        extras_->watchers.erase(message->ref);
        WatchersChanged();
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
  queued_.fetch_add(1, std::memory_order_relaxed);
  user_queue_.Push(
      MakeEnvelope(MakeTerminated(ref, reason), ActorRef()).release());
}

// --- User messages ---------------------------------------------------------

EnvelopePtr ActorCell::PopUser() {
  EnvelopePtr envelope(static_cast<Envelope*>(user_queue_.Pop()));
  if (envelope == nullptr) {
    return envelope;
  }
  if (mailbox_capacity_ > 0) {  // exact: senders check the bound against it
    taken_.store(taken_.load(std::memory_order_relaxed) + 1,
                 std::memory_order_relaxed);
  } else {
    ++taken_in_run_;
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
  const absl::Status status = RunHandler([&] {
    if (extras_ != nullptr && extras_->behavior != nullptr) {
      return (*extras_->behavior)(*this, message);
    }
    return actor_->Receive(*this, message);
  });
  current_ = nullptr;
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
      Log(LogSeverity::kWarning, "runtime",
          absl::StrCat(self_.ToString(),
                       ": Stopped failed: ", stopped.ToString(),
                       " (it is stopped anyway; what Stopped should have "
                       "released may not be: fix the actor's Stopped)"));
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
  if (extras_ != nullptr) {
    WatchersChanged();
  }
  state_.store(State::kTerminated, std::memory_order_release);
  // Its queued messages become dead letters before the system hears of
  // the end, so a shutdown that waited for every actor has counted them.
  DrainUserQueue();
  system_->OnActorTerminated(this);
  std::unique_ptr<Extras> extras = std::move(extras_);
  watcher_count_.store(0, std::memory_order_relaxed);  // all told below
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

absl::Duration ActorCell::age() const {
  return absl::Milliseconds(CoarseMonotonicMs() - spawned_at_ms_);
}

ActorSnapshot ActorCell::snapshot() const {
  ActorSnapshot snapshot;
  snapshot.id = id();
  snapshot.uid = uid();
  snapshot.kind = kind_->name;
  snapshot.mailbox_depth = mailbox_depth();
  snapshot.handled = handled();
  snapshot.age = age();
  return snapshot;
}

void ActorCell::WatchersChanged() {
  watcher_count_.store(
      static_cast<uint32_t>(extras_ != nullptr ? extras_->watchers.size() : 0),
      std::memory_order_relaxed);
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
