// Guardian: the supervisor of a node's top-level actors (protoactor's
// guardian.go, Akka's user guardian). An ordinary supervisor: a failed
// top-level actor reports to it as a child reports to its parent, and it
// decides with its strategy through Decide (supervision.h), the one place
// that applies a strategy's restart limit. Having no parent, it cannot
// escalate: an escalated failure stops the actor, logged.
#pragma once

#include <memory>
#include <string>

#include "node/runtime/process.h"
#include "node/runtime/supervision.h"

namespace troupe {

class Guardian final : public Process,
                       public std::enable_shared_from_this<Guardian> {
 public:
  // `address` and `incarnation` are the node's; its id is "$guardian".
  Guardian(NodeAddress address, uint64_t incarnation,
           SupervisorStrategy strategy);

  // Process. A failure report (kFailed) is decided at once, on the failing
  // actor's thread (the actor is suspended meanwhile), and the directive
  // sent back as a system message. Other system messages (the Terminated
  // of each top-level actor) and user messages are ignored: a guardian
  // has no mailbox. Thread-safe.
  void SendUser(EnvelopePtr envelope) override;
  void SendSystem(SystemMessagePtr message) override;
  bool IsTerminated() const override { return false; }

 private:
  const SupervisorStrategy strategy_;
};

}  // namespace troupe
