// The runtime's own messages (generated from proto/troupe.proto), under
// short names, and the conversion of Pids to and from the wire.
#pragma once

#include "node/runtime/actor_ref.h"
#include "node/runtime/pid.h"
#include "proto/troupe.pb.h"

namespace troupe {

// Sent to watchers and the parent when an actor ends.
using Terminated = v1::Terminated;
// Returned to an actor whose message could not be delivered.
using DeadLetter = v1::DeadLetter;
// Stops its receiver after the messages queued before it.
using PoisonPill = v1::PoisonPill;
// Delivered by PipeToSelf(AskFuture) when the ask failed.
using AskFailure = v1::AskFailure;

using TerminationReason = v1::TerminationReason;
inline constexpr TerminationReason kStopped = v1::STOPPED;
inline constexpr TerminationReason kFailed = v1::FAILED;
inline constexpr TerminationReason kNotFound = v1::NOT_FOUND;
inline constexpr TerminationReason kNodeDown = v1::NODE_DOWN;

v1::Pid ToProto(const Pid& pid);
Pid FromProto(const v1::Pid& pid);

// Terminated{ref, reason}.
Terminated MakeTerminated(const ActorRef& ref, TerminationReason reason);

// True when `pid` (say, Terminated::ref) names the actor `ref` refers to.
// Incarnation 0 on either side ("whichever run") matches any.
bool SameActor(const ActorRef& ref, const v1::Pid& pid);

}  // namespace troupe
