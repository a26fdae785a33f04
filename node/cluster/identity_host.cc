#include "node/cluster/identity_host.h"

#include <algorithm>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/cluster_wire.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/logging.h"
#include "node/runtime/message.h"
#include "node/runtime/system_messages.h"
#include "proto/cluster.pb.h"

namespace troupe {

using runtime_internal::SystemInternals;

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
    Running(ctx);
    return actor_->Started(ctx);
  }

  // Passivation checks are the wrapper's own: one of an earlier instance
  // (before a restart; another nonce) is dropped too.
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* check = As<v1::PassivationCheck>(message)) {
      if (check->nonce() == nonce_) {
        quiet_checks_ = handled_ == handled_at_check_ ? quiet_checks_ + 1 : 0;
        handled_at_check_ = handled_;
        if (quiet_checks_ < 2 || !host_->Retire(ctx.Self().process()->uid())) {
          ArmCheck(ctx);
        }
      }
      return absl::OkStatus();
    }
    ++handled_;
    return actor_->Receive(ctx, message);
  }

  // The host hears of the end even when the kind's Stopped throws.
  void Stopped(ActorContext& ctx) override {
    absl::Cleanup ended = [&] { host_->Ended(ctx.Self().process()->uid()); };
    actor_->Stopped(ctx);
  }

  void PreRestart(ActorContext& ctx, const absl::Status& reason) override {
    actor_->PreRestart(ctx, reason);
  }
  absl::Status PostRestart(ActorContext& ctx,
                           const absl::Status& reason) override {
    Running(ctx);
    return actor_->PostRestart(ctx, reason);
  }
  SupervisorStrategy supervisor_strategy() const override {
    return actor_->supervisor_strategy();
  }

 private:
  void Running(ActorContext& ctx) {
    host_->Attach(ctx.Self());
    ArmCheck(ctx);
  }

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

IdentityHost::IdentityHost(std::shared_ptr<IdentityDirectory> directory,
                           std::string identity)
    : Process(SystemInternals::SharedAddress(directory->system()),
              IdentityHostId(identity), 0),
      directory_(std::move(directory)),
      identity_(std::move(identity)) {}

IdentityHost::~IdentityHost() { directory_->ForgetHost(identity_); }

// Sends to the activation are made under mu_, so none can land behind the
// PoisonPill of a retirement; forwards to another member's host are made
// outside it (a dead letter there may run callbacks).
void IdentityHost::SendUser(EnvelopePtr envelope) {
  ActorRef forward;
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
        forward = holder_;
        break;
      case State::kIdle:
        state_ = State::kActivating;
        begun_at_fence_ = directory_->FenceNumber();
        begin = true;
        pending_.push_back(std::move(envelope));
        break;
      case State::kActivating:
      case State::kRetiring:
        pending_.push_back(std::move(envelope));
        break;
    }
  }
  if (forward) {
    forward.process()->SendUser(std::move(envelope));
  } else if (begin) {
    Begin();
  }
}

void IdentityHost::SendSystem(SystemMessagePtr message) {
  if (!ReachesActivation(*message)) {
    return;
  }
  ActorRef forward;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kActive) {
      RetireLocked();
    } else if (state_ == State::kElsewhere) {
      forward = holder_;
    }
  }
  if (forward) {
    forward.process()->SendSystem(std::move(message));
  }
}

void IdentityHost::Attach(const ActorRef& cell) {
  absl::MutexLock lock(&mu_);
  if (cell_ == cell) {
    return;  // restarted: the same activation (a retiring one stays so)
  }
  cell_ = cell;
  directory_->ActivationStarted();
  if (directory_->FenceNumber() != begun_at_fence_) {
    // Fenced while it was being made: it must not run.
    state_ = State::kRetiring;
    directory_->system().Stop(cell);
    return;
  }
  directory_->log().Log(LogSeverity::kInfo,
                        absl::StrCat("cluster: identity ", identity_,
                                     " activated here (", cell.pid().id, ")"));
  state_ = State::kActive;
  for (EnvelopePtr& envelope : pending_) {
    cell_.process()->SendUser(std::move(envelope));
  }
  pending_.clear();
}

bool IdentityHost::Retire(uint64_t uid) {
  absl::MutexLock lock(&mu_);
  if (state_ != State::kActive || cell_.process()->uid() != uid) {
    return false;
  }
  RetireLocked();
  return true;
}

void IdentityHost::RetireLocked() {
  state_ = State::kRetiring;
  cell_.process()->SendUser(MakeEnvelope(PoisonPill(), ActorRef()));
}

void IdentityHost::Ended(uint64_t uid) {
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
    begun_at_fence_ = directory_->FenceNumber();
  }
  directory_->ActivationEnded();
  if (release) {
    directory_->claims()->Release(identity_);
  }
  if (begin) {
    Begin();
  }
}

// A claim or activation under way is dropped by the fence number; a
// holder elsewhere needs no lease of this node's, and is kept.
void IdentityHost::Fence() {
  ActorRef stop;
  {
    absl::MutexLock lock(&mu_);
    claimed_ = false;
    if (state_ == State::kActive || state_ == State::kRetiring) {
      state_ = State::kRetiring;
      stop = cell_;
    }
  }
  if (stop) {
    directory_->system().Stop(stop);
  }
}

void IdentityHost::Begin() {
  IdentityClaims* claims = directory_->claims();
  if (claims == nullptr) {
    Activate();
    return;
  }
  uint64_t fence = 0;
  {
    absl::MutexLock lock(&mu_);
    fence = begun_at_fence_;
  }
  claims->Claim(identity_, [self = shared_from_this(), fence](
                               absl::Status status, std::string holder) {
    self->Claimed(std::move(status), std::move(holder), fence);
  });
}

void IdentityHost::Claimed(absl::Status status, std::string holder,
                           uint64_t fence) {
  ActorSystem& system = directory_->system();
  if (status.ok() && directory_->FenceNumber() != fence) {
    status = absl::UnavailableError(
        "this node's etcd lease was lost while it claimed it");
  }
  if (status.code() == absl::StatusCode::kAlreadyExists &&
      holder != system.address()) {
    std::vector<EnvelopePtr> waiting;
    ActorRef forward;
    {
      absl::MutexLock lock(&mu_);
      state_ = State::kElsewhere;
      held_in_view_ = directory_->View();
      holder_ = system.Resolve(Pid{holder, IdentityHostId(identity_)});
      forward = holder_;
      waiting.swap(pending_);
    }
    for (EnvelopePtr& envelope : waiting) {
      forward.process()->SendUser(std::move(envelope));
    }
    return;
  }
  if (status.code() == absl::StatusCode::kAlreadyExists) {  // never a loop
    status = absl::InternalError(
        "etcd names this node's own address as "
        "another holder");
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
        std::unique_ptr<Actor> actor = make();
        if (actor == nullptr) {
          return nullptr;  // the runtime reports a factory that made none
        }
        return std::make_unique<Activation>(std::move(actor), host, after);
      },
      directory_->NextCellName(identity_), SpawnOptions{0, kind});
  if (!cell.ok()) {
    Fail(DeadLetterReason::DEAD_LETTER_NO_SUCH_ACTOR,
         absl::StrCat("cannot activate identity ", identity_, ": ",
                      cell.status().message()));
  }
}

void IdentityHost::Fail(DeadLetterReason reason, const std::string& why) {
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
    SystemInternals::DeadLetter(directory_->system(), self, std::move(envelope),
                                reason, why);
  }
}

}  // namespace troupe
