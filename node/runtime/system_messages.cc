#include "node/runtime/system_messages.h"

#include "absl/strings/str_cat.h"

namespace troupe {

absl::string_view DeadLetterReasonName(DeadLetterReason reason) {
  switch (reason) {
    case v1::DEAD_LETTER_NO_SUCH_ACTOR:
      return "no such actor";
    case v1::DEAD_LETTER_ACTOR_STOPPED:
      return "actor stopped";
    case v1::DEAD_LETTER_MAILBOX_FULL:
      return "mailbox full";
    case v1::DEAD_LETTER_TOO_LARGE:
      return "too large";
    case v1::DEAD_LETTER_LINK_QUEUE_FULL:
      return "link queue full";
    case v1::DEAD_LETTER_NODE_DOWN:
      return "node down";
    case v1::DEAD_LETTER_LINK_CLOSED:
      return "link closed";
    case v1::DEAD_LETTER_UNKNOWN_TYPE:
      return "unknown type";
    default:
      return "unspecified";
  }
}

absl::string_view DeadLetterRemedy(DeadLetterReason reason) {
  switch (reason) {
    case v1::DEAD_LETTER_NO_SUCH_ACTOR:
      return "check the ref: its node has no such actor, or the ref names an "
             "earlier run of it";
    case v1::DEAD_LETTER_ACTOR_STOPPED:
      return "the actor had stopped: watch it to learn when, and send to its "
             "successor";
    case v1::DEAD_LETTER_MAILBOX_FULL:
      return "the actor is not keeping up: slow the senders, add actors, or "
             "raise --mailbox_capacity";
    case v1::DEAD_LETTER_TOO_LARGE:
      return "send smaller messages, or raise --max_message_bytes on every "
             "node";
    case v1::DEAD_LETTER_LINK_QUEUE_FULL:
      return "the peer or the network is not keeping up: slow the senders, "
             "or raise --link_queue_capacity";
    case v1::DEAD_LETTER_NODE_DOWN:
      return "the node is down or unreachable: watch its actors, and send "
             "again once it is back";
    case v1::DEAD_LETTER_LINK_CLOSED:
      return "the link closed as a node shut down: send again to the node "
             "that takes over";
    case v1::DEAD_LETTER_UNKNOWN_TYPE:
      return "link the message's type into the receiving node's binary";
    default:
      return "see the reason";
  }
}

absl::StatusCode DeadLetterCode(DeadLetterReason reason) {
  switch (reason) {
    case v1::DEAD_LETTER_NO_SUCH_ACTOR:
    case v1::DEAD_LETTER_ACTOR_STOPPED:
      return absl::StatusCode::kNotFound;
    case v1::DEAD_LETTER_MAILBOX_FULL:
    case v1::DEAD_LETTER_TOO_LARGE:
    case v1::DEAD_LETTER_LINK_QUEUE_FULL:
      return absl::StatusCode::kResourceExhausted;
    case v1::DEAD_LETTER_UNKNOWN_TYPE:
      return absl::StatusCode::kInvalidArgument;
    default:  // node down, link closed, or not said
      return absl::StatusCode::kUnavailable;
  }
}

absl::Status DeadLetterStatus(DeadLetterReason reason, absl::string_view target,
                              absl::string_view detail) {
  return absl::Status(
      DeadLetterCode(reason),
      absl::StrCat("the message to ", target, " was not delivered (",
                   DeadLetterReasonName(reason), detail.empty() ? "" : ": ",
                   detail, ")"));
}

absl::Status DeadLetterStatus(const DeadLetter& letter) {
  return DeadLetterStatus(
      letter.reason(), FromProto(letter.target()).ToString(), letter.detail());
}

const DeadLetter* DeadLetterForSlot(const google::protobuf::Message& message,
                                    absl::string_view slot_id) {
  if (message.GetDescriptor() != DeadLetter::descriptor()) {
    return nullptr;
  }
  const auto& letter = static_cast<const DeadLetter&>(message);
  if (letter.sender().id() == slot_id || letter.target().id() == slot_id) {
    return &letter;
  }
  return nullptr;
}

v1::Pid ToProto(const Pid& pid) {
  v1::Pid proto;
  proto.set_address(pid.address);
  proto.set_id(pid.id);
  proto.set_incarnation(pid.incarnation);
  proto.set_uid(pid.uid);
  return proto;
}

Pid FromProto(const v1::Pid& pid) {
  return Pid{pid.address(), pid.id(), pid.incarnation(), pid.uid()};
}

v1::Pid PidOf(const ActorRef& ref) {
  v1::Pid proto;
  if (ref) {
    proto.set_address(ref.address());
    proto.set_id(ref.id());
    proto.set_incarnation(ref.incarnation());
    proto.set_uid(ref.uid());
  }
  return proto;
}

Terminated MakeTerminated(const ActorRef& ref, TerminationReason reason) {
  Terminated terminated;
  *terminated.mutable_ref() = PidOf(ref);
  terminated.set_reason(reason);
  return terminated;
}

bool SameActor(const ActorRef& ref, const v1::Pid& pid) {
  return ref && ref.id() == pid.id() && ref.address() == pid.address() &&
         (ref.incarnation() == pid.incarnation() || ref.incarnation() == 0 ||
          pid.incarnation() == 0) &&
         (ref.uid() == pid.uid() || ref.uid() == 0 || pid.uid() == 0);
}

}  // namespace troupe
