#include "node/runtime/actor_system.h"

#include <future>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "node/runtime/activator_protocol.h"
#include "node/runtime/actor_cell.h"
#include "node/runtime/ask_process.h"
#include "node/runtime/guard.h"
#include "node/runtime/guardian.h"
#include "node/runtime/incarnation.h"
#include "node/runtime/logging.h"
#include "node/runtime/registry.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
#include "node/runtime/timed_tell.h"

namespace troupe {
ActorSystem::ActorSystem(ActorSystemOptions options)
    : address_(MakeNodeAddress(options.address)),
      incarnation_(options.incarnation != 0 ? options.incarnation
                                            : NewIncarnation()),
      throughput_(options.throughput > 0 ? options.throughput : 1),
      guardian_(std::make_shared<Guardian>(
          address_, incarnation_, std::move(options.guardian_strategy))),
      dispatcher_(options.threads) {
#ifdef NDEBUG
  // Debian's Abseil is built with mutex deadlock detection on, which updates
  // a global lock graph on every lock; optimised builds turn it off
  // (process-wide; debug and test builds keep it).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

ActorSystem::~ActorSystem() {
  Shutdown(absl::ZeroDuration());
  AwaitTermination();
  {
    MutexLock lock(&mu_);
    shutdown_timer_.Cancel();
    mu_.Await(absl::Condition(
        +[](int* running) { return *running == 0; }, &sources_running_));
  }
  timers_.Shutdown();
  dispatcher_.Shutdown();
}

absl::StatusOr<std::shared_ptr<ActorCell>> ActorSystem::CreateActor(
    ActorFactory factory, absl::string_view name, const ActorRef& parent,
    const SpawnOptions& options) {
  if (!name.empty()) {
    if (absl::Status valid = ValidateActorName(name); !valid.ok()) {
      return valid;
    }
  }
  if (!factory) {
    return absl::InvalidArgumentError("actor factory is empty");
  }
  const uint64_t serial = name.empty() ? registry_.NextSerial() : 0;
  // The uid: a serial of this node run, so never reused while the
  // incarnation lasts (a generated id's own serial serves).
  const uint64_t uid = serial != 0 ? serial : registry_.NextSerial();
  std::string local =
      name.empty() ? Registry::SerialId(serial) : std::string(name);
  std::string id =
      parent ? absl::StrCat(parent.id(), "/", local) : std::move(local);
  std::unique_ptr<Actor> actor;
  if (absl::Status made = GuardUserCode([&] {
        actor = factory();
        return absl::OkStatus();
      });
      !made.ok()) {
    return absl::InternalError(
        absl::StrCat("actor factory for '", id, "' failed: ", made.message()));
  }
  if (actor == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("actor factory for '", id, "' returned null"));
  }
  // Only a top-level generated id is the serial alone (a child's is
  // "parent/$serial"): only those are registered by serial.
  const Actor& instance = *actor;
  KindStats* kind = options.kind.empty() ? kinds_.ForType(typeid(instance))
                                         : kinds_.ForName(options.kind);
  auto cell = std::make_shared<ActorCell>(this, std::move(id),
                                          std::move(factory), parent, options,
                                          parent ? 0 : serial, uid, kind);
  // Registered before Init: a cell refused here (id taken) does not yet hold
  // its own ref, so it is simply freed. Until Start nothing runs it, so a ref
  // found through the registry meanwhile only queues messages.
  if (!registry_.Insert(cell.get())) {
    return absl::AlreadyExistsError(absl::StrCat(
        "an actor named '", cell->id(), "' is already alive on ", address()));
  }
  cell->Init(std::move(actor));
  kind->spawned.fetch_add(1, std::memory_order_relaxed);
  return cell;
}

absl::StatusOr<ActorRef> ActorSystem::Spawn(ActorFactory factory,
                                            absl::string_view name,
                                            const SpawnOptions& options) {
  // Counted before the flag is read (both seq_cst): a spawn racing with
  // Shutdown either sees the flag and backs out, or is counted before
  // AwaitTermination can see zero.
  top_level_alive_.fetch_add(1, std::memory_order_seq_cst);
  if (shutting_down_.load(std::memory_order_seq_cst)) {
    TopLevelGone();
    return absl::FailedPreconditionError(
        "the actor system is shutting down; no new top-level actors");
  }
  auto cell = CreateActor(std::move(factory), name, ActorRef(), options);
  if (!cell.ok()) {
    TopLevelGone();
    return cell.status();
  }
  ActorRef ref(*cell);
  (*cell)->Start();
  // Shutdown pills the top-level actors it finds in the registry; one
  // registered after it looked sees the flag here and is pilled instead.
  if (shutting_down_.load(std::memory_order_seq_cst)) {
    Tell(ref, PoisonPill());
  }
  return ref;
}

void ActorSystem::TopLevelGone() {
  if (top_level_alive_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
    // The last one: take the lock so AwaitTermination re-checks.
    MutexLock lock(&mu_);
  }
}

void ActorSystem::OnActorTerminated(ActorCell* cell) {
  registry_.Erase(cell);
  cell->kind().terminated.fetch_add(1, std::memory_order_relaxed);
  if (cell->top_level()) {
    TopLevelGone();
  }
}

absl::StatusOr<ActorRef> ActorSystem::Lookup(absl::string_view id) const {
  std::shared_ptr<ActorCell> cell = registry_.Find(id);
  if (cell == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no actor named '", id, "' is alive on ", address()));
  }
  return ActorRef(std::move(cell));
}

ActorRef ActorSystem::Resolve(const Pid& pid) const {
  if (pid.address == address()) {
    return ResolveLocal(pid.id, pid.incarnation, pid.uid);
  }
  if (RemoteResolver* remote =
          remote_resolver_.load(std::memory_order_acquire)) {
    return remote->ResolveRemote(pid);
  }
  return ActorRef(std::make_shared<DeadProcess>(
      const_cast<ActorSystem*>(this), MakeNodeAddress(pid.address), pid.id,
      pid.incarnation, pid.uid, "this node has no links to other nodes"));
}

ActorRef ActorSystem::ResolveLocal(absl::string_view id, uint64_t incarnation,
                                   uint64_t uid) const {
  std::string detail;
  if (incarnation != 0 && incarnation != incarnation_) {
    detail = "the ref names an earlier run of this node";
  } else if (!id.empty() && id[0] == kIdentityIdPrefix) {
    // No actor's name begins so (ValidateActorName): the cluster's.
    if (IdentityResolver* resolver =
            identity_resolver_.load(std::memory_order_acquire);
        resolver != nullptr && uid == 0) {
      if (ActorRef identity = resolver->ResolveIdentity(id)) {
        return identity;
      }
    }
  } else if (std::shared_ptr<ActorCell> cell = registry_.Find(id)) {
    if (uid == 0 || cell->uid() == uid) {
      return ActorRef(std::move(cell));
    }
    // The name was reused: the ref's actor is gone, and the one that has
    // its name now is another actor (a stale ref never reaches it).
    detail = "the actor the ref names is gone; a later actor has its name";
  } else if (std::shared_ptr<Process> reply = registry_.FindReply(id)) {
    if (uid == 0 || reply->uid() == uid) {
      return ActorRef(std::move(reply));
    }
  }
  return ActorRef(std::make_shared<DeadProcess>(
      const_cast<ActorSystem*>(this), address_, std::string(id),
      incarnation != 0 ? incarnation : incarnation_, uid, std::move(detail)));
}

bool ActorSystem::IsLocalActor(const ActorRef& ref) {
  return dynamic_cast<const ActorCell*>(ref.process()) != nullptr;
}

std::string ActorSystem::NewReplyId(absl::string_view prefix) {
  // The random part keeps reply addresses unguessable: whoever may send to
  // this node cannot answer, or read, another party's ask or inbox.
  thread_local absl::BitGen random;
  return absl::StrCat(prefix, Base36(registry_.NextSerial()), "-",
                      Base36(absl::Uniform<uint64_t>(random)));
}

absl::StatusOr<ActorRef> ActorSystem::Resolve(absl::string_view text) const {
  absl::StatusOr<Pid> pid = ParsePid(text);
  if (!pid.ok()) {
    return pid.status();
  }
  return Resolve(*pid);
}

void ActorSystem::Stop(const ActorRef& ref) {
  if (ref) {
    ref.process()->SendSystem(MakeSystem(SystemKind::kStop, ActorRef()));
  }
}

void ActorSystem::Shutdown(absl::Duration timeout) {
  {
    MutexLock lock(&mu_);  // so AwaitTermination re-checks
    if (shutting_down_.exchange(true, std::memory_order_seq_cst)) {
      return;  // no top-level spawn from here on
    }
  }
  for (const ActorRef& ref : TopLevelActors()) {
    Tell(ref, PoisonPill());
  }
  TimerHandle timer = timers_.ScheduleOnce(timeout, [this] {
    for (const ActorRef& ref : TopLevelActors()) {
      Stop(ref);
    }
  });
  MutexLock lock(&mu_);
  shutdown_timer_ = std::move(timer);
}

void ActorSystem::AwaitTermination() {
  AwaitTermination(absl::InfiniteDuration());
}

bool ActorSystem::AwaitTermination(absl::Duration timeout) {
  MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](ActorSystem* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->shutting_down_.load(std::memory_order_seq_cst) &&
                   self->top_level_alive_.load(std::memory_order_seq_cst) == 0;
          },
          this),
      timeout);
}

std::vector<ActorRef> ActorSystem::TopLevelActors() const {
  std::vector<ActorRef> actors;
  for (std::shared_ptr<ActorCell>& cell : registry_.TopLevel()) {
    actors.emplace_back(std::move(cell));
  }
  return actors;
}

absl::StatusOr<ActorPage> ActorSystem::ListActors(
    absl::string_view kind, size_t page_size,
    absl::string_view page_token) const {
  if (page_size == 0) {
    return absl::InvalidArgumentError("a page holds at least one actor");
  }
  return registry_.List(kind, page_size, page_token);
}

absl::StatusOr<ActorDetail> ActorSystem::Inspect(absl::string_view id,
                                                 size_t children_limit) const {
  std::shared_ptr<ActorCell> cell = registry_.Find(id);
  if (cell == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no actor named '", id, "' is alive on ", address()));
  }
  ActorDetail detail;
  detail.actor = cell->snapshot();
  if (const size_t slash = id.rfind('/'); slash != absl::string_view::npos) {
    detail.parent = std::string(id.substr(0, slash));
  }
  detail.watchers = cell->watcher_count();
  std::tie(detail.children, detail.children_count) =
      registry_.Children(id, children_limit);
  return detail;
}

SystemStats ActorSystem::stats() const {
  SystemStats stats;
  for (const KindStats* kind : kinds_.All()) {
    SystemStats::Kind& out = stats.kinds.emplace_back();
    out.name = kind->name;
    const uint64_t terminated =
        kind->terminated.load(std::memory_order_relaxed);
    out.spawned = kind->spawned.load(std::memory_order_relaxed);
    // Relaxed reads may see an end before its spawn: never below 0.
    out.alive = std::max<int64_t>(0, static_cast<int64_t>(out.spawned) -
                                         static_cast<int64_t>(terminated));
    out.processed = kind->processed.Get();
    out.handling = kind->handling.Read();
    stats.actors_alive += out.alive;
    stats.actors_spawned += out.spawned;
    stats.messages_processed += out.processed;
  }
  stats.dead_letters = dead_letters_.count();
  stats.dead_letters_by_reason = dead_letters_.count_by_reason();
  stats.mailbox_overflows = mailbox_overflows_.load(std::memory_order_relaxed);
  stats.ask_latency = ask_latency_.Read();
  // Ended first: a relaxed read may see an ask's end before its beginning.
  stats.asks_completed = asks_ended_.Get();
  stats.asks_in_flight = std::max<int64_t>(
      0, static_cast<int64_t>(asks_begun_.Get() - stats.asks_completed));
  return stats;
}

void ActorSystem::DeadLetter(const ActorRef& target, EnvelopePtr envelope,
                             DeadLetterReason reason,
                             absl::string_view detail) {
  if (Is<PoisonPill>(envelope->message())) {
    return;  // stopping what has stopped is harmless, not a lost message
  }
  ActorRef sender = std::move(envelope->sender);
  // An undeliverable answer is told to the caller it was for, when the
  // caller could still hear of it (typed_call: Envelope::answer).
  const bool tell_target =
      envelope->answer && (reason == kTooLarge || reason == kUnknownType);
  dead_letters_.Publish(target, envelope->TakeMessage(), sender, reason, detail,
                        tell_target ? target : sender);
}

TimerHandle ActorSystem::TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                                      const TellOptions& options) {
  return TellWithOptions(timers_, to, std::move(envelope), options,
                         [this](const ActorRef& target, EnvelopePtr letter,
                                DeadLetterReason reason) {
                           DeadLetter(target, std::move(letter), reason);
                         });
}

std::future<absl::StatusOr<ActorRef>> ActorSystem::Activate(
    const Message& request, absl::Duration timeout) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<ActorRef>>>();
  std::future<absl::StatusOr<ActorRef>> future = promise->get_future();
  absl::StatusOr<Pid> activator = ActivatorFor(request, address());
  if (!activator.ok()) {
    promise->set_value(activator.status());
    return future;
  }
  AskAsync(Resolve(*activator), MakeEnvelope(CloneMessage(request), ActorRef()),
           timeout,
           [this, promise,
            node = activator->address](absl::StatusOr<MessagePtr> reply) {
             absl::StatusOr<v1::Pid> pid =
                 ActivatorReply(std::move(reply), node);
             if (!pid.ok()) {
               promise->set_value(pid.status());
             } else {
               promise->set_value(Ref(*pid));
             }
           });
  return future;
}

void ActorSystem::AskAsync(const ActorRef& to, EnvelopePtr envelope,
                           absl::Duration timeout, AskCallback done) {
  auto ask = std::make_shared<AskProcess>(this, NewReplyId("$ask"), to,
                                          std::move(done));
  if (!to || to.process()->IsTerminated()) {
    ask->Complete(absl::NotFoundError(absl::StrCat(
        "no actor ", to.ToString(), " is alive to answer the ask")));
    return;
  }
  // Registered so a reply from another node finds it (a local target may
  // forward the ask there); Complete unregisters it.
  RegisterReply(ask);
  // The timer owns the reply slot until it fires or the ask completes (which
  // cancels it): a target that drops the message must still time the ask
  // out, not leave it pending.
  ask->set_timer(timers_.ScheduleOnce(timeout, [ask, timeout] {
    ask->Complete(absl::DeadlineExceededError(
        absl::StrCat("no reply within ", absl::FormatDuration(timeout))));
  }));
  if (!IsLocal(to)) {
    // A remote target is watched (as Erlang's gen:call monitors), so its
    // node going down or its stopping fails the ask at once.
    ask->WatchTarget();
  }
  envelope->sender = ActorRef(ask);
  to.process()->SendUser(std::move(envelope));
}

InputSourceHandle ActorSystem::StartInputSource(
    const ActorRef& target, InputSourceFn fn,
    std::shared_ptr<InputSourceState> state) {
  {
    MutexLock lock(&mu_);
    ++sources_running_;
  }
  std::thread([this, target, fn = std::move(fn), state]() mutable {
    {
      // Everything the source holds is released before the count drops, so
      // the system may be destroyed as soon as it reaches zero.
      ActorRef to = std::move(target);
      InputSourceFn next = std::move(fn);
      std::shared_ptr<InputSourceState> source = std::move(state);
      const StopToken token(source.get());
      while (!source->stop_requested()) {
        MessagePtr message;
        if (absl::Status ran = GuardUserCode([&] {
              message = next(token);
              return absl::OkStatus();
            });
            !ran.ok()) {
          Log(LogSeverity::kError, "runtime",
              absl::StrCat("input source of ", to.ToString(),
                           " failed: ", ran.message(),
                           "; the source ended, the actor runs on (fix the "
                           "source function, or restart the actor)"));
          break;
        }
        if (message == nullptr) {
          break;
        }
        EnvelopePtr envelope = MakeEnvelope(std::move(message), ActorRef());
        envelope->observer = source;
        to.process()->SendUser(std::move(envelope));
        if (!source->AwaitHandled()) {
          break;
        }
      }
    }
    MutexLock lock(&mu_);
    --sources_running_;
  }).detach();
  return InputSourceHandle(state);
}

}  // namespace troupe
