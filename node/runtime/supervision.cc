#include "node/runtime/supervision.h"

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

}  // namespace troupe
