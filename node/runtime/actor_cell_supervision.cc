// ActorCell, part two: failure and supervision (Fail, the parent's decision,
// directives, restart). See actor_cell.h.
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "node/runtime/actor_cell.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/guard.h"
#include "node/runtime/guardian.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"

namespace troupe {

// --- Supervision -----------------------------------------------------------

void ActorCell::Fail(const absl::Status& error, bool during_start) {
  suspended_ = true;
  auto failed = MakeSystem(SystemKind::kFailed, self_);
  failed->error = error;
  failed->during_start = during_start;
  // The supervisor: the parent, or the guardian for a top-level actor
  // (held by the system, not by every top-level cell).
  Process* supervisor = parent_ ? parent_.process() : system_->guardian_.get();
  supervisor->SendSystem(std::move(failed));
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
  auto* child = static_cast<ActorCell*>(message.ref.process());
  const Directive directive = Decide(
      strategy, Failure{message.ref, message.error, message.during_start},
      child->restart_window());
  if (directive == Directive::kEscalate) {
    extras_->escalated_child = message.ref;
    Fail(message.error, /*during_start=*/false);
    return;
  }
  SendDirective(self_, message.ref, directive, message.error);
}

void ActorCell::SendDirective(const ActorRef& supervisor, const ActorRef& child,
                              Directive directive, const absl::Status& error) {
  SystemMessagePtr order;
  switch (directive) {
    case Directive::kResume:
      order = MakeSystem(SystemKind::kResume, supervisor);
      break;
    case Directive::kRestart:
      order = MakeSystem(SystemKind::kRestart, supervisor);
      break;
    case Directive::kStop:
    case Directive::kEscalate:  // a child cannot escalate further down
      order = MakeSystem(SystemKind::kStop, supervisor);
      order->reason = kFailed;
      break;
  }
  order->error = error;
  child.process()->SendSystem(std::move(order));
}

void ActorCell::ApplyDirective(Directive directive, const absl::Status& error) {
  // A child whose failure this actor escalated shares its fate (on Stop it
  // is stopped with this actor, as every child is).
  if (extras_ != nullptr && extras_->escalated_child) {
    const ActorRef child = std::exchange(extras_->escalated_child, ActorRef());
    if (directive == Directive::kResume || directive == Directive::kRestart) {
      SendDirective(self_, child, directive, error);
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
    case Directive::kEscalate:  // never sent: a supervisor decides it
      suspended_ = false;
      BeginStop(kFailed);
      break;
  }
}

void ActorCell::RunStarted(bool restart, const absl::Status& reason) {
  const absl::Status status = GuardUserCode([&] {
    return restart ? actor_->PostRestart(*this, reason)
                   : actor_->Started(*this);
  });
  if (!status.ok()) {
    Fail(status, /*during_start=*/true);
  }
}

void ActorCell::Restart(const absl::Status& reason) {
  if (actor_ != nullptr) {
    const absl::Status pre = GuardUserCode([&] {
      actor_->PreRestart(*this, reason);
      return absl::OkStatus();
    });
    if (!pre.ok()) {
      Log(LogSeverity::kWarning, "runtime",
          absl::StrCat(self_.ToString(),
                       ": PreRestart failed: ", pre.ToString(),
                       " (it restarts anyway: fix the actor's PreRestart)"));
    }
  }
  if (extras_ != nullptr) {
    extras_->behavior.reset();
  }
  ++generation_;  // continuations of the failed instance's asks are dropped
  std::unique_ptr<Actor> fresh;
  const absl::Status made = GuardUserCode([&] {
    fresh = factory_();
    return fresh != nullptr
               ? absl::OkStatus()
               : absl::InternalError("actor factory returned null");
  });
  if (!made.ok()) {
    Log(LogSeverity::kError, "runtime",
        absl::StrCat(self_.ToString(), ": cannot restart: ", made.ToString(),
                     "; it stops FAILED (its factory failed: fix the factory "
                     "or what it depends on)"));
    suspended_ = false;
    BeginStop(kFailed);
    return;
  }
  actor_ = std::move(fresh);
  suspended_ = false;
  RunStarted(/*restart=*/true, reason);
}

}  // namespace troupe
