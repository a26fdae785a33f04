// Envelope and SystemMessage: what travels through a mailbox. An envelope
// owns its message (moved in, never serialized for a local send) and names
// the sender; both are allocated once per send.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope_observer.h"
#include "node/runtime/message.h"
#include "node/runtime/mpsc_queue.h"
#include "node/runtime/system_messages.h"

namespace troupe {

class Envelope : public MpscNode {
 public:
  // Tells the observer (if any) that the message was handled or dropped.
  virtual ~Envelope() {
    if (observer != nullptr) {
      observer->EnvelopeGone();
    }
  }
  Envelope(const Envelope&) = delete;
  Envelope& operator=(const Envelope&) = delete;

  const Message& message() const { return *message_; }
  // Moves the message out into its own object; message() must not be used
  // afterwards.
  virtual MessagePtr TakeMessage() = 0;

  // True for an ask's continuation (ActorContext::Ask): run by the asking
  // actor, never a message of its own (message() is empty), and dropped
  // without a dead letter when the actor is gone.
  bool is_continuation() const { return is_continuation_; }

  ActorRef sender;
  // The proto service method this message calls (a typed call: see
  // node/typed/), or null for a plain message. Points into the generated
  // descriptor pool, which lives as long as the program; carried across
  // nodes by its full name.
  const google::protobuf::MethodDescriptor* method = nullptr;
  // An answer to a typed call (a reply, a stream's item or end) on its way
  // to the caller: if it cannot be delivered for a reason the caller could
  // hear of (too large, a type the caller's node cannot read), the dead
  // letter's notice goes to its target, the caller, which fails the call
  // with that cause, rather than to its sender (nobody). Carried across
  // nodes.
  bool answer = false;
  // Set by a sender that keeps one message in flight (an input source, a
  // periodic tell): told when this envelope is gone.
  std::shared_ptr<EnvelopeObserver> observer;

 protected:
  explicit Envelope(ActorRef from, bool is_continuation = false)
      : sender(std::move(from)), is_continuation_(is_continuation) {}
  Message* message_ = nullptr;

 private:
  const bool is_continuation_;
};

// An envelope holding a message of static type T inline (one allocation).
template <typename T>
class ValueEnvelope final : public Envelope {
 public:
  template <typename U>
  ValueEnvelope(U&& value, ActorRef from)
      : Envelope(std::move(from)), value_(std::forward<U>(value)) {
    message_ = &value_;
  }
  MessagePtr TakeMessage() override {
    return std::make_unique<T>(std::move(value_));
  }

 private:
  T value_;
};

// An envelope holding a message already on the heap.
class OwningEnvelope final : public Envelope {
 public:
  OwningEnvelope(MessagePtr message, ActorRef from)
      : Envelope(std::move(from)), owned_(std::move(message)) {
    message_ = owned_.get();
  }
  MessagePtr TakeMessage() override { return std::move(owned_); }

 private:
  MessagePtr owned_;
};

// Wraps a protobuf message (moved when an rvalue, copied otherwise).
template <typename T, typename = std::enable_if_t<kIsMessage<T>>>
EnvelopePtr MakeEnvelope(T&& message, ActorRef sender) {
  return std::make_unique<ValueEnvelope<std::decay_t<T>>>(
      std::forward<T>(message), std::move(sender));
}
inline EnvelopePtr MakeEnvelope(MessagePtr message, ActorRef sender) {
  return std::make_unique<OwningEnvelope>(std::move(message),
                                          std::move(sender));
}
// A copy of `envelope` (a deep copy of its message; the same sender and
// method), for a periodic tell's ticks and ActorContext::Forward.
inline EnvelopePtr CloneEnvelope(const Envelope& envelope) {
  EnvelopePtr copy =
      MakeEnvelope(CloneMessage(envelope.message()), envelope.sender);
  copy->method = envelope.method;
  copy->answer = envelope.answer;
  return copy;
}

// Text is carried as a google.protobuf.StringValue.
inline EnvelopePtr MakeEnvelope(absl::string_view text, ActorRef sender) {
  return MakeEnvelope(Text(text), std::move(sender));
}

enum class SystemKind : uint8_t {
  kStop,          // stop now (overtakes user messages)
  kWatch,         // ref wants Terminated when this actor ends
  kUnwatch,       // ref no longer does
  kTerminated,    // ref (watched, or a child) ended with `reason`
  kFailed,        // child ref failed with `error`; decide its fate
  kResume,        // supervisor's directive: keep state, drop the message
  kRestart,       // supervisor's directive: fresh instance, keep the mailbox
  kWatchInPlace,  // ref's node has placed this watcher's watch of ref (a
                  // remote watch; a local one is in place once sent)
};

struct SystemMessage : MpscNode {
  SystemMessage(SystemKind k, ActorRef r) : kind(k), ref(std::move(r)) {}
  SystemKind kind;
  ActorRef ref;
  TerminationReason reason =
      v1::TERMINATION_REASON_UNSPECIFIED;  // kStop, kTerminated
  absl::Status error;                      // kFailed, kResume, kRestart
  bool during_start = false;               // kFailed
};

inline SystemMessagePtr MakeSystem(SystemKind kind, ActorRef ref) {
  return std::make_unique<SystemMessage>(kind, std::move(ref));
}

}  // namespace troupe
