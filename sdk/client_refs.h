// What a client's refs are made of (internal to the SDK): the process behind
// a ref handed out by a Client, which sends through the client's inbox
// stream, and the Watch call behind Client::Watch.
#pragma once

#include <memory>

#include "node/runtime/actor_ref.h"
#include "node/runtime/pid.h"

namespace troupe {

class ClientCore;

// A ref to `pid` whose messages go through `core` (dropped, with a log
// line, once the client is gone); a system Stop becomes a Stop call.
ActorRef MakeClusterRef(std::weak_ptr<ClientCore> core, const Pid& pid);

// Starts a Watch call of `ref`: its Terminated, or NODE_DOWN when the call
// to the node breaks (NOT_FOUND when the node refuses the ref), is queued
// for Client::Receive. Nothing is queued once the client is closing.
void StartWatchCall(std::shared_ptr<ClientCore> core, const ActorRef& ref);

}  // namespace troupe
