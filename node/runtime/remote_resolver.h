// RemoteResolver: the runtime's one hook for remoting. An ActorSystem with
// an endpoint (node/remote) installs one, and refs to actors of other nodes
// are made by it; without one such refs lead to dead letters.
#pragma once

#include "node/runtime/actor_ref.h"
#include "node/runtime/pid.h"

namespace troupe {

class RemoteResolver {
 public:
  virtual ~RemoteResolver() = default;
  // A ref for `pid`, whose address is another node's. Never fails: a ref
  // that cannot be reached turns what is sent to it into dead letters.
  // Thread-safe.
  virtual ActorRef ResolveRemote(const Pid& pid) = 0;
};

}  // namespace troupe
