// Supervision: what a supervisor decides when a child fails. One-for-one:
// the directive applies to the failing child only. Every supervisor (a
// parent actor, and the system guardian for top-level actors) decides
// through Decide, the one place that applies a strategy and its restart
// limit (protoactor's strategy_one_for_one.go).
#pragma once

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/runtime/actor_ref.h"

namespace troupe {

enum class Directive {
  kResume,    // keep the instance and its state; drop the failing message
  kRestart,   // new instance from the factory (PreRestart/PostRestart); the
              // mailbox is kept, the failing message dropped
  kStop,      // stop the child (its watchers get Terminated{FAILED})
  kEscalate,  // fail the parent with the same error: the grandparent decides
};

struct Failure {
  ActorRef child;
  // The error: what Receive (or Started) returned, or INTERNAL carrying the
  // text of a thrown exception.
  absl::Status error;
  // True when the child failed in Started, before handling any message.
  bool during_start = false;
};

struct SupervisorStrategy {
  // Chooses the directive. Runs on the parent's thread.
  std::function<Directive(const Failure&)> decider;
  // A child restarted more than max_restarts times within `within` is
  // stopped instead (negative: no limit).
  int max_restarts = 10;
  absl::Duration within = absl::Minutes(1);

  // Restart on failure in Receive (up to 10 times a minute, then stop);
  // Stop on failure in Started (a child that cannot start will not by
  // restarting). Used by the system guardian for top-level actors.
  static SupervisorStrategy Default();
  // Always the same directive (restart limits still apply to kRestart).
  static SupervisorStrategy Always(Directive directive);
};

// A child's recent restarts, checked against its supervisor's limit. Owned
// by the child's cell; used by its supervisor while the child is suspended
// (so by one thread at a time; not thread-safe).
class RestartWindow {
 public:
  // Records a restart at `now` and returns true; false, recording nothing,
  // when that would be more than strategy.max_restarts within
  // strategy.within (always true for a negative max_restarts).
  bool Allow(const SupervisorStrategy& strategy, absl::Time now);

 private:
  std::vector<absl::Time> restarts_;  // oldest first; a handful at most
};

// The directive for `failure`: the strategy's decider (kStop when it has
// none; kEscalate when it fails, by status or exception), then the restart
// limit (a kRestart beyond it becomes kStop, and a warning says so).
// Whether kEscalate can be carried out is the supervisor's business: the
// guardian, having no parent, stops the child. Runs on the supervisor's
// thread.
Directive Decide(const SupervisorStrategy& strategy, const Failure& failure,
                 RestartWindow& window);

}  // namespace troupe
