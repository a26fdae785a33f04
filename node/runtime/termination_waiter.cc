#include "node/runtime/termination_waiter.h"

#include <utility>

#include "node/runtime/actor_system.h"
#include "node/runtime/actor_system_internal.h"

namespace troupe {

TerminationWaiter::TerminationWaiter(ActorSystem& system, ActorRef target,
                                     Callback done)
    : Process(runtime_internal::SystemInternals::SharedAddress(system),
              runtime_internal::SystemInternals::NewReplyId(system, "$wait"),
              system.incarnation()),
      target_(std::move(target)),
      done_(std::move(done)) {}

void TerminationWaiter::Watch(ActorSystem& system, const ActorRef& target,
                              Callback done) {
  auto waiter =
      std::make_shared<TerminationWaiter>(system, target, std::move(done));
  target.process()->SendSystem(
      MakeSystem(SystemKind::kWatch, ActorRef(waiter)));
}

void TerminationWaiter::SendSystem(SystemMessagePtr message) {
  if (message->kind != SystemKind::kTerminated || message->ref != target_ ||
      fired_.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  std::exchange(done_, nullptr)(message->reason);
}

}  // namespace troupe
