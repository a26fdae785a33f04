#include "node/runtime/supervision.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "node/runtime/guard.h"
#include "node/runtime/logging.h"

namespace troupe {

SupervisorStrategy SupervisorStrategy::Default() {
  SupervisorStrategy strategy;
  strategy.decider = [](const Failure& failure) {
    return failure.during_start ? Directive::kStop : Directive::kRestart;
  };
  return strategy;
}

SupervisorStrategy SupervisorStrategy::Always(Directive directive) {
  SupervisorStrategy strategy;
  strategy.decider = [directive](const Failure&) { return directive; };
  return strategy;
}

bool RestartWindow::Allow(const SupervisorStrategy& strategy, absl::Time now) {
  if (strategy.max_restarts < 0) {
    return true;
  }
  restarts_.erase(
      restarts_.begin(),
      std::find_if(restarts_.begin(), restarts_.end(),
                   [&](absl::Time at) { return now - at <= strategy.within; }));
  if (static_cast<int>(restarts_.size()) >= strategy.max_restarts) {
    return false;
  }
  restarts_.push_back(now);
  return true;
}

Directive Decide(const SupervisorStrategy& strategy, const Failure& failure,
                 RestartWindow& window) {
  Directive directive = Directive::kStop;
  const absl::Status decided = GuardUserCode([&] {
    directive = strategy.decider ? strategy.decider(failure) : Directive::kStop;
    return absl::OkStatus();
  });
  if (!decided.ok()) {
    directive = Directive::kEscalate;  // a throwing decider fails its owner
  }
  if (directive == Directive::kRestart &&
      !window.Allow(strategy, absl::Now())) {
    Log(LogSeverity::kWarning, "runtime",
        absl::StrCat(failure.child.ToString(), " restarted more than ",
                     strategy.max_restarts, " times within ",
                     absl::FormatDuration(strategy.within),
                     "; stopping it (its supervisor's strategy allows no "
                     "more: fix the cause of the failures logged with it, or "
                     "give the supervisor a strategy with more restarts)"));
    directive = Directive::kStop;
  }
  return directive;
}

}  // namespace troupe
