// ActorCell: the local Process behind a spawned actor. Owns the actor
// instance, its two mailboxes (system messages first, then user messages),
// its place in the hierarchy, its watchers, timers and input sources, and
// runs it on the dispatcher one message at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/dispatcher.h"
#include "node/runtime/envelope.h"
#include "node/runtime/guard.h"
#include "node/runtime/introspection.h"
#include "node/runtime/kind_stats.h"
#include "node/runtime/mpsc_queue.h"
#include "node/runtime/process.h"

namespace troupe {

class ActorSystem;

class ActorCell final : public Process,
                        public ActorContext,
                        public Runnable,
                        public std::enable_shared_from_this<ActorCell> {
 public:
  // Use ActorSystem::CreateActor. The cell is inert until Start().
  // `parent`: nobody for a top-level actor (supervised by the system's
  // guardian). `serial`: the registry key of a top-level generated id,
  // else 0.
  // `uid`: the actor's own identity on this node run (never 0, never
  // reused; see pid.h).
  // `kind`: the statistics of the actor's kind (owned by the system).
  ActorCell(ActorSystem* system, std::string id, ActorFactory factory,
            ActorRef parent, const SpawnOptions& options, uint64_t serial,
            uint64_t uid, KindStats* kind);
  ~ActorCell() override;

  // Gives the cell its first instance (made by the spawner, so a failing
  // factory fails the spawn) and its own ref. Once, after registration and
  // before Start.
  void Init(std::unique_ptr<Actor> actor);

  // Hands the cell to the dispatcher: Started runs first, then whatever was
  // sent meanwhile. Until then nothing runs it (it is created holding its
  // schedule token), so the spawner can record it first. Call once.
  void Start();

  bool top_level() const { return top_level_; }
  uint64_t serial() const { return serial_; }

  // --- Introspection (ListActors, Inspect). Any thread; each value is a
  // relaxed read, so together they are a moment's picture, not a snapshot.
  KindStats& kind() const { return *kind_; }
  // User messages queued and not yet taken (a message being handled is
  // not counted).
  uint64_t mailbox_depth() const {
    const uint64_t taken = taken_.load(std::memory_order_relaxed);
    const uint64_t queued = queued_.load(std::memory_order_relaxed);
    return queued > taken ? queued - taken : 0;
  }
  // User messages and continuations taken from the mailbox: handled, or,
  // once the actor is stopping, turned into dead letters. For an unbounded
  // mailbox, as of the end of the actor's last run (up to `throughput`
  // messages ago; mailbox_depth likewise).
  uint64_t handled() const { return taken_.load(std::memory_order_relaxed); }
  // Watchers placed and not yet removed or told.
  uint32_t watcher_count() const {
    return watcher_count_.load(std::memory_order_relaxed);
  }
  // Time since the spawn, to the coarse clock's few milliseconds.
  absl::Duration age() const;
  // All of the above, with its id, uid and kind name.
  ActorSnapshot snapshot() const;

  // Process. Thread-safe.
  void SendUser(EnvelopePtr envelope) override;
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override {
    return state_.load(std::memory_order_acquire) == State::kTerminated;
  }

  // Runnable: handles system messages, then up to the throughput limit of
  // user messages. Dispatcher threads only.
  void Run() override;
  // Runnable: the dispatcher stopped before running it; lets go of the
  // cell's hold on itself (~ActorCell frees what is still queued).
  void Drop() override;

  // This actor's recent restarts, for its supervisor's Decide. Used on the
  // supervisor's thread while this cell is suspended.
  RestartWindow& restart_window() { return extras().restarts; }

  // Sends `directive` (from `supervisor`) to `child` as a system message:
  // kResume, kRestart, or kStop with reason FAILED (kEscalate too: a child
  // cannot escalate further down). Thread-safe.
  static void SendDirective(const ActorRef& supervisor, const ActorRef& child,
                            Directive directive, const absl::Status& error);

  // ActorContext: only from this actor's own Receive and hooks.
  const ActorRef& Self() const override { return self_; }
  const ActorRef& Sender() const override;
  const google::protobuf::MethodDescriptor* Method() const override {
    return current_ != nullptr ? current_->method : nullptr;
  }
  const ActorRef& Parent() const override { return parent_; }
  std::vector<ActorRef> Children() const override;
  ActorSystem& System() override { return *system_; }
  ActorRef Ref(const v1::Pid& pid) override;
  void Forward(const ActorRef& to) override;
  using ActorContext::Forward;
  void AskThen(const ActorRef& to, EnvelopePtr envelope, absl::Duration timeout,
               AskContinuation then) override;
  void ActivateThen(const Message& request, absl::Duration timeout,
                    RefContinuation then) override;
  absl::StatusOr<ActorRef> Spawn(ActorFactory factory, absl::string_view name,
                                 const SpawnOptions& options) override;
  using ActorContext::Spawn;
  void Watch(const ActorRef& ref) override;
  using ActorContext::Watch;
  void Unwatch(const ActorRef& ref) override;
  using ActorContext::Unwatch;
  void Stop() override;
  void Stop(const ActorRef& ref) override;
  using ActorContext::Stop;
  void Become(Behavior behavior) override;
  void Unbecome() override;
  InputSourceHandle AddInputSource(InputSourceFn fn) override;
  void PipeToSelf(std::future<MessagePtr> future) override;
  TimerHandle TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                           const TellOptions& options) override;

 private:
  enum class State : uint8_t { kNew, kRunning, kStopping, kTerminated };

  // What most actors never use, allocated on first use (keeps idle actors
  // small). Actor thread only.
  struct Extras {
    absl::flat_hash_map<const Process*, ActorRef> children;
    absl::flat_hash_set<ActorRef> watchers;
    absl::flat_hash_set<ActorRef> watching;
    std::vector<TimerHandle> timers;
    std::vector<std::shared_ptr<InputSourceState>> sources;
    std::unique_ptr<Behavior> behavior;
    ActorRef escalated_child;  // failed child whose error this actor escalated
    RestartWindow restarts;    // see restart_window()
    // Ref(pid)'s cache; cleared when it reaches kRefCacheSize.
    absl::flat_hash_map<Pid, ActorRef> refs;
  };
  static constexpr size_t kRefCacheSize = 256;

  ActorRef DefaultSender() const override { return self_; }
  Extras& extras();
  void ScheduleIfIdle();
  void ReleaseOrReschedule(std::shared_ptr<ActorCell> keepalive);
  void HandleSystem(SystemMessagePtr message);
  EnvelopePtr PopUser();  // the next user message (keeps the bound count)
  void HandleUser(EnvelopePtr envelope);
  void HandleTerminated(const SystemMessage& message);
  void HandleChildFailed(const SystemMessage& message);
  void ApplyDirective(Directive directive, const absl::Status& error);
  void Fail(const absl::Status& error, bool during_start);
  void RunStarted(bool restart, const absl::Status& reason);
  void Restart(const absl::Status& reason);
  void BeginStop(TerminationReason reason);
  void MaybeFinishStop();
  void FinishStop();
  void DrainUserQueue();
  // Queues Terminated{ref, reason} behind the messages already queued.
  void DeliverTerminated(const ActorRef& ref, TerminationReason reason);
  void ReplyToDeadWatch(const SystemMessage& message);
  // Queues an ask's continuation (any thread); dropped once terminated.
  void DeliverContinuation(EnvelopePtr continuation);
  // Runs a continuation unless its instance has been replaced.
  void RunContinuation(EnvelopePtr envelope);
  // Runs one user message's handler (`handler` returns its status) under
  // GuardUserCode; counts it for its kind (before it runs), and times one
  // message in kHandlingSampleEvery on this thread (kind_stats.h).
  template <typename Handler>
  absl::Status RunHandler(Handler&& handler);
  // Keeps watcher_count_ equal to the number of watchers.
  void WatchersChanged();

  ActorSystem* const system_;
  const ActorFactory factory_;
  std::unique_ptr<Actor> actor_;
  ActorRef self_;    // keeps the cell alive until it terminates
  ActorRef parent_;  // nobody for a top-level actor
  MpscQueue system_queue_;
  MpscQueue user_queue_;
  // User messages ever queued (senders add, and take back a refused one),
  // and ever taken (the actor's thread only: a store, not a locked add, so
  // a busy mailbox pays one contended add per message, not two). Beside
  // the queue, whose line senders and the actor touch anyway.
  std::atomic<uint64_t> queued_{0};
  std::atomic<uint64_t> taken_{0};
  // Created true: the spawner holds the token until Start().
  std::atomic<bool> scheduled_{true};
  std::atomic<State> state_{State::kNew};
  // The dispatcher's reference while scheduled: owned by whoever set
  // scheduled_ to true (see ScheduleIfIdle / ReleaseOrReschedule).
  std::shared_ptr<ActorCell> run_keepalive_;
  const size_t mailbox_capacity_;
  const bool top_level_;  // supervised by the system's guardian
  const uint64_t serial_;
  KindStats* const kind_;
  const int64_t spawned_at_ms_;             // CLOCK_MONOTONIC_COARSE
  std::atomic<uint32_t> watcher_count_{0};  // the actor's thread writes
  // Unbounded mailbox: taken in this run, added to taken_ at its end (a
  // store per message would pull the line senders add to, ~10 % of fan-in).
  uint32_t taken_in_run_ = 0;
  // Actor thread only:
  bool suspended_ = false;       // failed; awaiting the supervisor's directive
  bool stop_requested_ = false;  // ctx.Stop(): stop once the call returns
  // The instance: +1 at each restart (16 bits fit beside the flags, so an
  // idle actor is no larger; a continuation is misattributed only if the
  // actor restarts a multiple of 65,536 times while its ask is pending).
  uint16_t generation_ = 0;
  TerminationReason stop_reason_ = v1::STOPPED;
  const Envelope* current_ = nullptr;
  std::unique_ptr<Extras> extras_;
};

template <typename Handler>
absl::Status ActorCell::RunHandler(Handler&& handler) {
  // Counted first, so that whoever sees the handler's effects (its reply)
  // sees the count too.
  kind_->processed.Add();
  absl::Status status;
  if (SampledOnThisThread<KindStats, kHandlingSampleEvery>()) {
    const auto start = std::chrono::steady_clock::now();
    status = GuardUserCode(handler);
    kind_->handling.Observe(
        absl::FromChrono(std::chrono::steady_clock::now() - start));
  } else {
    status = GuardUserCode(handler);
  }
  return status;
}

}  // namespace troupe
