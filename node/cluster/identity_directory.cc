#include "node/cluster/identity_directory.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "node/cluster/rendezvous.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/envelope.h"
#include "node/runtime/logging.h"
#include "node/runtime/message.h"
#include "node/runtime/process.h"
#include "node/runtime/system_messages.h"
#include "proto/cluster.pb.h"

namespace troupe {

using runtime_internal::SystemInternals;

// An identity never ends, so a watch of it (an ask's among them) is not
// passed to an activation, whose end is not the identity's; a watcher on
// another node still hears NODE_DOWN when its link to the ref's node is
// declared down. Only a stop reaches an activation.
bool IgnoredBy(const SystemMessage& message) {
  return message.kind != SystemKind::kStop;
}

// The host: the identity's activation on this node, made when a message
// comes and there is none (see the header for passivation). Every send to
// the activation is made under mu_, so none can land behind the PoisonPill
// of a retirement.
class IdentityHost final : public Process,
                           public std::enable_shared_from_this<IdentityHost> {
 public:
  IdentityHost(std::shared_ptr<IdentityDirectory> directory,
               std::string identity)
      : Process(SystemInternals::SharedAddress(directory->system()),
                IdentityHostId(identity), 0),
        directory_(std::move(directory)),
        identity_(std::move(identity)) {}

  void SendUser(EnvelopePtr envelope) override {
    bool begin = false;
    {
      absl::MutexLock lock(&mu_);
      if (state_ == State::kElsewhere && held_in_view_ != directory_->View()) {
        state_ = State::kIdle;  // the members changed: claim again
      }
      switch (state_) {
        case State::kActive:
          cell_.process()->SendUser(std::move(envelope));
          return;
        case State::kElsewhere:
          holder_.process()->SendUser(std::move(envelope));
          return;
        case State::kIdle:
          state_ = State::kActivating;
          begin = true;
          break;
        case State::kActivating:
        case State::kRetiring:
          break;
      }
      pending_.push_back(std::move(envelope));
    }
    if (begin) {
      Begin();
    }
  }

  // A stop goes to the activation there is (it passivates now); nothing
  // else does (see IgnoredBy).
  void SendSystem(SystemMessagePtr message) override {
    if (IgnoredBy(*message)) {
      return;
    }
    ActorRef to;
    {
      absl::MutexLock lock(&mu_);
      to = state_ == State::kActive      ? cell_
           : state_ == State::kElsewhere ? holder_
                                         : ActorRef();
    }
    if (to) {
      to.process()->SendSystem(std::move(message));
    }
  }

  bool IsTerminated() const override { return false; }

  // The activation runs (its Started): what waited goes to it.
  void Attach(const ActorRef& cell) {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kRetiring && cell_ == cell) {
      return;  // restarted while retiring: its PoisonPill is still queued
    }
    if (cell_ != cell) {
      directory_->log().Log(
          LogSeverity::kInfo,
          absl::StrCat("cluster: identity ", identity_, " activated here (",
                       cell.pid().id, ")"));
    }
    cell_ = cell;
    state_ = State::kActive;
    for (EnvelopePtr& envelope : pending_) {
      cell_.process()->SendUser(std::move(envelope));
    }
    pending_.clear();
  }

  // The activation `uid` has been idle: it is sent a PoisonPill, unless it
  // is not the current one; true if it was.
  bool Retire(uint64_t uid) {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kActive || cell_.process()->uid() != uid) {
      return false;
    }
    state_ = State::kRetiring;
    cell_.process()->SendUser(MakeEnvelope(PoisonPill(), ActorRef()));
    return true;
  }

  // The activation `uid` ended (retired, stopped, failed, fenced): its
  // claim is given up, and the next one is made if messages wait.
  void Ended(uint64_t uid) {
    bool release = false;
    bool begin = false;
    {
      absl::MutexLock lock(&mu_);
      if (!cell_ || cell_.process()->uid() != uid) {
        return;
      }
      directory_->log().Log(LogSeverity::kInfo,
                            absl::StrCat("cluster: identity ", identity_,
                                         " ended here (", cell_.pid().id, ")"));
      cell_ = ActorRef();
      release = claimed_;
      claimed_ = false;
      begin = !pending_.empty();
      state_ = begin ? State::kActivating : State::kIdle;
    }
    if (release) {
      directory_->claims()->Release(identity_);
    }
    if (begin) {
      Begin();
    }
  }

  // The node's claims are gone: stop the activation now, claim nothing.
  void Fence() {
    ActorRef cell;
    {
      absl::MutexLock lock(&mu_);
      claimed_ = false;
      if (state_ == State::kElsewhere) {
        state_ = State::kIdle;
      } else if (state_ == State::kActive) {
        state_ = State::kRetiring;
        cell = cell_;
      }
    }
    if (cell) {
      directory_->system().Stop(cell);
    }
  }

 private:
  enum class State {
    kIdle,        // no activation here
    kActivating,  // claiming, or spawned and not yet started
    kActive,      // cell_ runs
    kRetiring,    // cell_ was told to stop; new messages wait
    kElsewhere,   // another member holds the claim: sent to holder_
  };

  void Begin() {
    IdentityClaims* claims = directory_->claims();
    if (claims == nullptr) {
      Activate();
      return;
    }
    claims->Claim(identity_, [self = shared_from_this()](absl::Status status,
                                                         std::string holder) {
      self->Claimed(std::move(status), std::move(holder));
    });
  }

  void Claimed(absl::Status status, std::string holder) {
    ActorSystem& system = directory_->system();
    if (status.code() == absl::StatusCode::kAlreadyExists &&
        holder == system.address()) {  // claims never say so; never a loop
      status = absl::InternalError("its claim names this node as another");
    } else if (status.code() == absl::StatusCode::kAlreadyExists) {
      absl::MutexLock lock(&mu_);
      state_ = State::kElsewhere;
      held_in_view_ = directory_->View();
      holder_ = system.Resolve(Pid{holder, IdentityHostId(identity_)});
      for (EnvelopePtr& envelope : pending_) {
        holder_.process()->SendUser(std::move(envelope));
      }
      pending_.clear();
      return;
    }
    if (!status.ok()) {
      Fail(DeadLetterReason::DEAD_LETTER_NODE_DOWN,
           absl::StrCat("could not claim identity ", identity_, ": ",
                        status.message()));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      claimed_ = true;
    }
    Activate();
  }

  void Activate();

  // What waited becomes dead letters saying why; the claim is given up.
  void Fail(DeadLetterReason reason, const std::string& why) {
    std::vector<EnvelopePtr> lost;
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      lost.swap(pending_);
      release = claimed_;
      claimed_ = false;
      state_ = State::kIdle;
    }
    if (release) {
      directory_->claims()->Release(identity_);
    }
    const ActorRef self(shared_from_this());
    for (EnvelopePtr& envelope : lost) {
      SystemInternals::DeadLetter(directory_->system(), self,
                                  std::move(envelope), reason, why);
    }
  }

  const std::shared_ptr<IdentityDirectory> directory_;
  const std::string identity_;

  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kIdle;
  bool claimed_ ABSL_GUARDED_BY(mu_) = false;
  ActorRef cell_ ABSL_GUARDED_BY(mu_);
  ActorRef holder_ ABSL_GUARDED_BY(mu_);
  uint64_t held_in_view_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<EnvelopePtr> pending_ ABSL_GUARDED_BY(mu_);
};

// The router: each message to the host of the identity's owner in this
// node's view (the target is kept until the view changes).
class IdentityRouter final : public Process {
 public:
  IdentityRouter(std::shared_ptr<IdentityDirectory> directory,
                 std::string identity)
      : Process(SystemInternals::SharedAddress(directory->system()),
                IdentityRouterId(identity), 0),
        directory_(std::move(directory)),
        identity_(std::move(identity)) {}

  void SendUser(EnvelopePtr envelope) override {
    Target().process()->SendUser(std::move(envelope));
  }
  void SendSystem(SystemMessagePtr message) override {
    if (!IgnoredBy(*message)) {
      Target().process()->SendSystem(std::move(message));
    }
  }
  bool IsTerminated() const override { return false; }

 private:
  ActorRef Target() {
    uint64_t view = 0;
    const std::string owner = directory_->OwnerOf(identity_, &view);
    absl::MutexLock lock(&mu_);
    if (view != view_ || !target_) {
      view_ = view;
      ActorSystem& system = directory_->system();
      target_ = owner.empty() || owner == system.address()
                    ? ActorRef(directory_->Host(identity_))
                    : system.Resolve(Pid{owner, IdentityHostId(identity_)});
    }
    return target_;
  }

  const std::shared_ptr<IdentityDirectory> directory_;
  const std::string identity_;
  absl::Mutex mu_;
  uint64_t view_ ABSL_GUARDED_BY(mu_) = 0;
  ActorRef target_ ABSL_GUARDED_BY(mu_);
};

namespace {

// What runs as an activation: the kind's actor, told to its host when it
// starts and ends, and retired after `passivate_after` without a message
// (checked every half of it: idle for two checks in a row, so between 1 and
// 1.5 times passivate_after).
class Activation final : public Actor {
 public:
  Activation(std::unique_ptr<Actor> actor, std::shared_ptr<IdentityHost> host,
             absl::Duration passivate_after)
      : actor_(std::move(actor)),
        host_(std::move(host)),
        check_every_(std::max(passivate_after / 2, absl::Milliseconds(1))) {
    absl::BitGen random;
    nonce_ = absl::Uniform<uint64_t>(random);
  }

  absl::Status Started(ActorContext& ctx) override {
    host_->Attach(ctx.Self());
    ArmCheck(ctx);
    return actor_->Started(ctx);
  }

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* check = As<v1::PassivationCheck>(message);
        check != nullptr && check->nonce() == nonce_) {
      quiet_checks_ = handled_ == handled_at_check_ ? quiet_checks_ + 1 : 0;
      handled_at_check_ = handled_;
      if (quiet_checks_ < 2 || !host_->Retire(ctx.Self().process()->uid())) {
        ArmCheck(ctx);
      }
      return absl::OkStatus();
    }
    ++handled_;
    return actor_->Receive(ctx, message);
  }

  void Stopped(ActorContext& ctx) override {
    actor_->Stopped(ctx);
    host_->Ended(ctx.Self().process()->uid());
  }

  void PreRestart(ActorContext& ctx, const absl::Status& reason) override {
    actor_->PreRestart(ctx, reason);
  }
  absl::Status PostRestart(ActorContext& ctx,
                           const absl::Status& reason) override {
    host_->Attach(ctx.Self());
    ArmCheck(ctx);
    return actor_->PostRestart(ctx, reason);
  }
  SupervisorStrategy supervisor_strategy() const override {
    return actor_->supervisor_strategy();
  }

 private:
  void ArmCheck(ActorContext& ctx) {
    v1::PassivationCheck check;
    check.set_nonce(nonce_);
    ctx.Tell(ctx.Self(), std::move(check), TellOptions{check_every_});
  }

  const std::unique_ptr<Actor> actor_;
  const std::shared_ptr<IdentityHost> host_;
  const absl::Duration check_every_;
  uint64_t nonce_ = 0;
  uint64_t handled_ = 0;
  uint64_t handled_at_check_ = 0;
  int quiet_checks_ = 0;
};

}  // namespace

void IdentityHost::Activate() {
  const std::string kind = identity_.substr(0, identity_.find(':'));
  absl::StatusOr<ActorFactory> make = directory_->Activation(kind);
  if (!make.ok()) {
    Fail(DeadLetterReason::DEAD_LETTER_NO_SUCH_ACTOR,
         absl::StrCat("cannot activate identity ", identity_, ": ",
                      make.status().message()));
    return;
  }
  absl::StatusOr<ActorRef> cell = directory_->system().Spawn(
      [make = *std::move(make), host = shared_from_this(),
       after = directory_->passivate_after()]() -> std::unique_ptr<Actor> {
        return std::make_unique<Activation>(make(), host, after);
      },
      directory_->NextCellName(identity_));
  if (!cell.ok()) {
    Fail(DeadLetterReason::DEAD_LETTER_NO_SUCH_ACTOR,
         absl::StrCat("cannot activate identity ", identity_, ": ",
                      cell.status().message()));
  }
}

IdentityDirectory::IdentityDirectory(ActorSystem& system,
                                     ActivationFactory activate,
                                     absl::Duration passivate_after,
                                     std::unique_ptr<IdentityClaims> claims)
    : system_(system),
      activate_(std::move(activate)),
      passivate_after_(passivate_after),
      claims_(std::move(claims)) {
  up_.push_back(system.address());
}

IdentityDirectory::~IdentityDirectory() = default;

ActorRef IdentityDirectory::ResolveIdentity(absl::string_view id) {
  absl::string_view identity = id.substr(1);
  const bool host = absl::ConsumePrefix(&identity, "!");
  if (identity.find(':') == absl::string_view::npos) {
    return ActorRef();
  }
  if (host) {
    return ActorRef(Host(std::string(identity)));
  }
  absl::MutexLock lock(&mu_);
  std::weak_ptr<IdentityRouter>& slot = routers_[identity];
  std::shared_ptr<IdentityRouter> router = slot.lock();
  if (router == nullptr) {
    router = std::make_shared<IdentityRouter>(shared_from_this(),
                                              std::string(identity));
    slot = router;
  }
  return ActorRef(std::move(router));
}

std::shared_ptr<IdentityHost> IdentityDirectory::Host(
    const std::string& identity) {
  absl::MutexLock lock(&mu_);
  std::weak_ptr<IdentityHost>& slot = hosts_[identity];
  std::shared_ptr<IdentityHost> host = slot.lock();
  if (host == nullptr) {
    host = std::make_shared<IdentityHost>(shared_from_this(), identity);
    slot = host;
  }
  return host;
}

void IdentityDirectory::SetMembers(std::vector<std::string> up) {
  std::sort(up.begin(), up.end());
  absl::MutexLock lock(&mu_);
  if (up != up_) {
    up_ = std::move(up);
    ++view_;
  }
  // Entries nobody holds any more go (at most once per membership change).
  absl::erase_if(routers_,
                 [](const auto& entry) { return entry.second.expired(); });
  absl::erase_if(hosts_,
                 [](const auto& entry) { return entry.second.expired(); });
}

uint64_t IdentityDirectory::View() const {
  absl::MutexLock lock(&mu_);
  return view_;
}

std::string IdentityDirectory::OwnerOf(absl::string_view identity,
                                       uint64_t* view) const {
  absl::MutexLock lock(&mu_);
  *view = view_;
  return RendezvousOwner(up_, identity);
}

void IdentityDirectory::Fence() {
  std::vector<std::shared_ptr<IdentityHost>> hosts;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [identity, weak] : hosts_) {
      if (std::shared_ptr<IdentityHost> host = weak.lock()) {
        hosts.push_back(std::move(host));
      }
    }
  }
  for (const std::shared_ptr<IdentityHost>& host : hosts) {
    host->Fence();
  }
}

std::string IdentityDirectory::NextCellName(const std::string& identity) {
  absl::MutexLock lock(&mu_);
  return absl::StrCat(identity, "#", ++cells_made_);
}

}  // namespace troupe
