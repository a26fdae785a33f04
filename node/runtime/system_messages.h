// The runtime's own messages (generated from proto/troupe.proto), under
// short names, and the conversion of Pids to and from the wire.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
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

// Why a message became a dead letter (proto/troupe.proto lists each with
// its status code).
using DeadLetterReason = v1::DeadLetterReason;
inline constexpr DeadLetterReason kNoSuchActor = v1::DEAD_LETTER_NO_SUCH_ACTOR;
inline constexpr DeadLetterReason kActorStopped = v1::DEAD_LETTER_ACTOR_STOPPED;
inline constexpr DeadLetterReason kMailboxFull = v1::DEAD_LETTER_MAILBOX_FULL;
inline constexpr DeadLetterReason kTooLarge = v1::DEAD_LETTER_TOO_LARGE;
inline constexpr DeadLetterReason kLinkQueueFull =
    v1::DEAD_LETTER_LINK_QUEUE_FULL;
inline constexpr DeadLetterReason kNodeUnreachable = v1::DEAD_LETTER_NODE_DOWN;
inline constexpr DeadLetterReason kLinkClosed = v1::DEAD_LETTER_LINK_CLOSED;
inline constexpr DeadLetterReason kUnknownType = v1::DEAD_LETTER_UNKNOWN_TYPE;

// A few words for `reason` ("no such actor", "mailbox full", ...), for logs
// and the dead-letter tally.
absl::string_view DeadLetterReasonName(DeadLetterReason reason);
// What an operator can do about dead letters of `reason`, for log lines.
absl::string_view DeadLetterRemedy(DeadLetterReason reason);

// The one status an ask whose message became a dead letter for `reason`
// fails with (the table in proto/troupe.proto): NOT_FOUND only when there
// is no such actor (any more), RESOURCE_EXHAUSTED for a limit, UNAVAILABLE
// for a node or link, INVALID_ARGUMENT for a type the receiver cannot read.
// The message names `target` and says `detail`.
absl::StatusCode DeadLetterCode(DeadLetterReason reason);
absl::Status DeadLetterStatus(DeadLetterReason reason, absl::string_view target,
                              absl::string_view detail);
// The same for a DeadLetter message.
absl::Status DeadLetterStatus(const DeadLetter& letter);
// For a reply slot (an ask, a typed call's stream) with id `slot_id`: the
// notice `message` is when it is a DeadLetter of what the slot sent (its
// sender is the slot: slot ids are unique and send nothing else) or of an
// answer to the slot (its target: Envelope::answer); else null.
const DeadLetter* DeadLetterForSlot(const google::protobuf::Message& message,
                                    absl::string_view slot_id);

v1::Pid ToProto(const Pid& pid);
Pid FromProto(const v1::Pid& pid);
// The Pid to put into a message field for `ref` (a reply-to, a worker):
// `*request.mutable_reply_to() = PidOf(ctx.Self());`. The receiver turns it
// back into a ref with ctx.Ref(pid), or sends to it directly (Tell, Ask,
// Watch and Stop take a v1::Pid). Empty for nobody.
v1::Pid PidOf(const ActorRef& ref);

// Terminated{ref, reason}.
Terminated MakeTerminated(const ActorRef& ref, TerminationReason reason);

// True when `pid` (say, Terminated::ref) names the actor `ref` refers to.
// Incarnation or uid 0 on either side ("whichever run", "whichever actor
// has the name") matches any.
bool SameActor(const ActorRef& ref, const v1::Pid& pid);

}  // namespace troupe
