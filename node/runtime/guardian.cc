#include "node/runtime/guardian.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "node/runtime/actor_cell.h"
#include "node/runtime/envelope.h"
#include "node/runtime/logging.h"

namespace troupe {

Guardian::Guardian(NodeAddress address, uint64_t incarnation,
                   SupervisorStrategy strategy)
    : Process(std::move(address), "$guardian", incarnation),
      strategy_(std::move(strategy)) {}

void Guardian::SendUser(EnvelopePtr /*envelope*/) {}

void Guardian::SendSystem(SystemMessagePtr message) {
  if (message->kind != SystemKind::kFailed) {
    return;
  }
  // Only the runtime's own top-level cells have the guardian as parent.
  auto* child = static_cast<ActorCell*>(message->ref.process());
  const Failure failure{message->ref, message->error, message->during_start};
  Directive directive = Decide(strategy_, failure, child->restart_window());
  if (directive == Directive::kEscalate) {
    Log(LogSeverity::kError, "runtime",
        absl::StrCat(message->ref.ToString(), " failed (",
                     message->error.ToString(),
                     ") and escalated to the guardian; stopping it (give its "
                     "parent a supervisor strategy that handles the failure, "
                     "or fix its cause)"));
    directive = Directive::kStop;
  }
  ActorCell::SendDirective(ActorRef(shared_from_this()), message->ref,
                           directive, message->error);
}

}  // namespace troupe
