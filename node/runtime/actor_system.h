// ActorSystem: one node's local actor runtime. Spawns top-level actors,
// sends from outside any actor, resolves refs, and shuts down. Owns the
// dispatcher (worker threads), the timer scheduler, the name registry and
// the dead-letter stream. No gRPC: remoting plugs in through Process.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/dead_letters.h"
#include "node/runtime/dispatcher.h"
#include "node/runtime/identity_resolver.h"
#include "node/runtime/input_source.h"
#include "node/runtime/introspection.h"
#include "node/runtime/kind_stats.h"
#include "node/runtime/latency_histogram.h"
#include "node/runtime/registry.h"
#include "node/runtime/remote_resolver.h"
#include "node/runtime/sharded_counter.h"
#include "node/runtime/supervision.h"
#include "node/runtime/sync.h"
#include "node/runtime/teller.h"
#include "node/runtime/timer_scheduler.h"

namespace troupe {

class ActorCell;
class AskProcess;
class DeadProcess;
class Guardian;
namespace runtime_internal {
class SystemInternals;
}  // namespace runtime_internal

struct ActorSystemOptions {
  // Dispatcher worker threads; 0 = one per core.
  int threads = 0;
  // Messages an actor handles before it yields its worker to others.
  int throughput = 100;
  // The node's address in refs (host:port); kLocalAddress without an
  // endpoint.
  std::string address = std::string(kLocalAddress);
  // 0 = a fresh random incarnation.
  uint64_t incarnation = 0;
  // How the system guardian supervises top-level actors (it cannot
  // escalate: Escalate stops the actor). Its decider runs on the failing
  // actor's thread, so for two actors at once: it must be thread-safe.
  SupervisorStrategy guardian_strategy = SupervisorStrategy::Default();
};

// A moment's picture of a system's counters (each read relaxed, so two
// may disagree by what happened between their reads). Counters only grow.
struct SystemStats {
  struct Kind {
    std::string name;  // see kind_stats.h
    int64_t alive = 0;
    uint64_t spawned = 0;
    uint64_t processed = 0;
    LatencyHistogram::Snapshot handling;  // sampled (KindStats::handling)
  };
  int64_t actors_alive = 0;
  uint64_t actors_spawned = 0;
  uint64_t messages_processed = 0;
  uint64_t dead_letters = 0;
  // Indexed by DeadLetterReason (proto/troupe.proto).
  std::array<uint64_t, v1::DeadLetterReason_ARRAYSIZE> dead_letters_by_reason{};
  uint64_t mailbox_overflows = 0;
  // Every kind an actor was spawned as, in the order first seen.
  std::vector<Kind> kinds;
  // Asks begun and not yet completed (AskAsync, and every ask built on it).
  int64_t asks_in_flight = 0;
  uint64_t asks_completed = 0;
  // From the ask to its completion (a reply, a failure, or the timeout),
  // sampled: one ask in kAskSampleEvery on each asking thread is timed.
  LatencyHistogram::Snapshot ask_latency;
};

// Asks per timed ask (SystemStats::ask_latency): an ask takes microseconds,
// so one in 16 costs its two clock reads and histogram update on ~1 % of
// them (measured with local_bench's local_ask, README "Operations").
inline constexpr uint32_t kAskSampleEvery = 16;

class ActorSystem final : public Requester {
 public:
  // Starts the worker and timer threads. In optimised builds (NDEBUG) it
  // also turns off Abseil's mutex deadlock detection, process-wide.
  explicit ActorSystem(ActorSystemOptions options = {});
  // Shuts down if that has not happened (Shutdown(0): actors are stopped),
  // waits for every actor and input source to end, then stops the threads.
  // Must not be called from an actor.
  ~ActorSystem();
  ActorSystem(const ActorSystem&) = delete;
  ActorSystem& operator=(const ActorSystem&) = delete;

  // Spawns a top-level actor named `name` (a generated "$..." name when
  // empty). ALREADY_EXISTS if the name is taken, INVALID_ARGUMENT for a bad
  // name, FAILED_PRECONDITION once Shutdown has begun. Thread-safe.
  template <typename A>
  absl::StatusOr<ActorRef> Spawn(absl::string_view name = "",
                                 const SpawnOptions& options = {}) {
    return Spawn([] { return std::unique_ptr<Actor>(new A()); }, name, options);
  }
  absl::StatusOr<ActorRef> Spawn(ActorFactory factory,
                                 absl::string_view name = "",
                                 const SpawnOptions& options = {});

  // The live actor with this id, or NOT_FOUND. Thread-safe.
  absl::StatusOr<ActorRef> Lookup(absl::string_view id) const;

  // A ref for `pid`. Never fails: a pid of this node whose actor is not
  // alive (or of an older incarnation) gives a ref whose messages become
  // dead letters and whose watchers get NOT_FOUND. A pid of another node
  // goes to the remote resolver (a dead ref when there is none).
  // Thread-safe.
  ActorRef Resolve(const Pid& pid) const;
  // As Resolve for a pid of this node, whatever address it names (a peer
  // may spell this node's address differently). Also finds reply processes
  // (asks, inboxes). Incarnation 0 matches the current run; uid 0 matches
  // whichever actor has `id` now, any other uid only that actor (a ref to
  // an actor that is gone never reaches a later one of the same name).
  ActorRef ResolveLocal(absl::string_view id, uint64_t incarnation,
                        uint64_t uid = 0) const;
  // Parses troupe://address/id and resolves it; INVALID_ARGUMENT on a
  // malformed text.
  absl::StatusOr<ActorRef> Resolve(absl::string_view text) const;
  // Teller::Ref: Resolve for a Pid received inside a message. Thread-safe.
  ActorRef Ref(const v1::Pid& pid) override { return Resolve(FromProto(pid)); }

  // Stops `ref` (a system message: overtakes its queued messages, which
  // become dead letters). Harmless for a dead actor. Thread-safe.
  void Stop(const ActorRef& ref);
  void Stop(const v1::Pid& pid) { Stop(Ref(pid)); }

  // Begins shutdown and returns at once (so an actor may call it): sends a
  // PoisonPill to every top-level actor, and stops those still alive after
  // `timeout`. New top-level spawns fail from now on. Idempotent.
  void Shutdown(absl::Duration timeout);
  // Blocks until Shutdown has begun and every actor has stopped. Must not
  // be called from an actor.
  void AwaitTermination();
  // As above, up to `timeout`; true when terminated.
  bool AwaitTermination(absl::Duration timeout);

  DeadLetters& dead_letters() { return dead_letters_; }
  SystemStats stats() const;

  // A page of this node's live actors, of `kind` only when not empty
  // (README "Operations"). `page_size` 1..; `page_token` "" for the first
  // page, then each page's next_page_token until it is empty. Stable
  // order: an actor alive throughout is listed exactly once. A page reads
  // a bounded part of the registry (Registry::List), so a node with a
  // million actors keeps serving while it is listed. INVALID_ARGUMENT for
  // a token that does not parse; a token of another listing (another node
  // or kind) is not detected: the listing resumes at its position.
  // Thread-safe.
  absl::StatusOr<ActorPage> ListActors(absl::string_view kind, size_t page_size,
                                       absl::string_view page_token) const;
  // The actor alive as `id` now: its snapshot, parent, watcher count, and
  // up to `children_limit` children (with their count). Answers while the
  // actor is busy or stuck: nothing is asked of it. NOT_FOUND when no
  // actor `id` is alive. Thread-safe.
  absl::StatusOr<ActorDetail> Inspect(absl::string_view id,
                                      size_t children_limit = 100) const;
  const std::string& address() const { return *address_; }
  uint64_t incarnation() const { return incarnation_; }

  // Requester: sends from outside any actor (sender: nobody). Thread-safe.
  TimerHandle TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                           const TellOptions& options) override;
  std::future<absl::StatusOr<ActorRef>> Activate(
      const Message& request, absl::Duration timeout) override;
  // Requester::AskAsync; `done` runs on the thread that completes the ask
  // (a timer, the replying actor's or a link's thread). Thread-safe.
  void AskAsync(const ActorRef& to, EnvelopePtr envelope,
                absl::Duration timeout, AskCallback done) override;

 private:
  // The runtime's own classes, and remoting and the node's services through
  // runtime_internal::SystemInternals (actor_system_internal.h), call what
  // follows; programs cannot.
  friend class ActorCell;
  friend class AskProcess;
  friend class DeadProcess;
  friend class runtime_internal::SystemInternals;

  // Installs how refs to other nodes are made. Call once, before the system
  // is used; `resolver` must outlive every use of the system.
  void set_remote_resolver(RemoteResolver* resolver) {
    remote_resolver_.store(resolver, std::memory_order_release);
  }
  // Installs how identity ids (identity_resolver.h) are resolved, and keeps
  // `resolver` alive. Once: false (and nothing changes) when there is one.
  bool set_identity_resolver(std::shared_ptr<IdentityResolver> resolver) {
    IdentityResolver* none = nullptr;
    MutexLock lock(&identity_mu_);
    if (!identity_resolver_.compare_exchange_strong(
            none, resolver.get(), std::memory_order_acq_rel)) {
      return false;
    }
    identity_resolver_owner_ = std::move(resolver);
    return true;
  }
  // True when `ref` names an actor or reply process of this node.
  bool IsLocal(const ActorRef& ref) const {
    return ref && &ref.address() == address_.get();
  }
  // True when `ref` is an actor of this node (not a reply process: an ask's
  // reply slot, an inbox, a watch), alive or not.
  static bool IsLocalActor(const ActorRef& ref);
  // Makes a reply process (ask, inbox) reachable by id, for replies from
  // other nodes; Unregister when it is done. Thread-safe.
  void RegisterReply(const std::shared_ptr<Process>& process) {
    registry_.InsertReply(process);
  }
  void UnregisterReply(const std::string& id) { registry_.EraseReply(id); }
  // A fresh, unguessable id with `prefix` ("$ask", "$inbox") for a reply
  // process.
  std::string NewReplyId(absl::string_view prefix);
  Dispatcher& dispatcher() { return dispatcher_; }
  TimerScheduler& timers() { return timers_; }
  int throughput() const { return throughput_; }
  const NodeAddress& shared_address() const { return address_; }
  // Creates and registers an actor; the caller records it, then calls
  // Start(). `parent` is nobody for a top-level one.
  absl::StatusOr<std::shared_ptr<ActorCell>> CreateActor(
      ActorFactory factory, absl::string_view name, const ActorRef& parent,
      const SpawnOptions& options);
  // Called by a cell once, when it has terminated.
  void OnActorTerminated(ActorCell* cell);
  // Publishes a dead letter with the envelope's message and sender (a
  // PoisonPill is dropped instead: stopping twice is harmless). `detail`
  // says what happened, for a person; `reason` is what a program acts on.
  void DeadLetter(const ActorRef& target, EnvelopePtr envelope,
                  DeadLetterReason reason, absl::string_view detail = "");
  // Runs `fn` on a thread of its own for `target` (see input_source.h).
  InputSourceHandle StartInputSource(const ActorRef& target, InputSourceFn fn,
                                     std::shared_ptr<InputSourceState> state);
  void CountOverflow() {
    mailbox_overflows_.fetch_add(1, std::memory_order_relaxed);
  }

  ActorRef DefaultSender() const override { return ActorRef(); }
  // A snapshot of the live top-level actors (from the registry).
  std::vector<ActorRef> TopLevelActors() const;
  // One top-level actor fewer (wakes AwaitTermination at zero).
  void TopLevelGone();

  const NodeAddress address_;
  const uint64_t incarnation_;
  const int throughput_;
  // Supervises the top-level actors (their parent).
  const std::shared_ptr<Guardian> guardian_;

  DeadLetters dead_letters_;
  Registry registry_;
  std::atomic<RemoteResolver*> remote_resolver_{nullptr};
  // Set once (set_identity_resolver); the owner is never read.
  std::atomic<IdentityResolver*> identity_resolver_{nullptr};
  Mutex identity_mu_;
  std::shared_ptr<IdentityResolver> identity_resolver_owner_
      ABSL_GUARDED_BY(identity_mu_);
  // Actors alive, spawned and messages handled are the sums over kinds_.
  KindTable kinds_;
  std::atomic<uint64_t> mailbox_overflows_{0};
  ShardedCounter asks_begun_;
  ShardedCounter asks_ended_;
  LatencyHistogram ask_latency_;  // sampled (kAskSampleEvery)
  // Top-level actors spawned and not yet terminated (counted from before
  // registration, so AwaitTermination cannot miss one being spawned).
  std::atomic<int64_t> top_level_alive_{0};

  mutable Mutex mu_;
  // Set once, under mu_ (so AwaitTermination re-checks); read lock-free.
  std::atomic<bool> shutting_down_{false};
  TimerHandle shutdown_timer_ ABSL_GUARDED_BY(mu_);
  int sources_running_ ABSL_GUARDED_BY(mu_) = 0;

  // Declared last: destroyed first, so their threads stop before the state
  // above goes away.
  TimerScheduler timers_;
  Dispatcher dispatcher_;
};

}  // namespace troupe
