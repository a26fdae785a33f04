// Inbox: a mailbox for code that is not an actor (a test, main(), the SDK):
// it has a ref, so actors can reply to it, watch through it, and read what
// arrives with a timeout (actorio's Reference, Akka's Inbox).
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/sync.h"
#include "node/runtime/teller.h"

namespace troupe {

class ActorSystem;
class InboxProcess;  // the inbox's Process (inbox.cc)

class Inbox final : public Requester {
 public:
  struct Received {
    MessagePtr message;
    ActorRef sender;
  };

  // `system` must outlive the inbox.
  explicit Inbox(ActorSystem& system);
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // The inbox's own ref: messages sent to it queue here.
  const ActorRef& ref() const { return ref_; }

  // The oldest message, waiting up to `timeout`; DEADLINE_EXCEEDED when
  // none came. Thread-safe.
  absl::StatusOr<Received> Receive(absl::Duration timeout);
  // Receives until a message of type T arrives (others are dropped);
  // DEADLINE_EXCEEDED when none did within `timeout` overall.
  template <typename T>
  absl::StatusOr<T> ReceiveAs(absl::Duration timeout);

  // Terminated{ref, reason} arrives here once when `ref` ends. Idempotent.
  void Watch(const ActorRef& ref);
  void Unwatch(const ActorRef& ref);
  // The same for a Pid as it arrived inside a message.
  void Watch(const v1::Pid& pid) { Watch(Ref(pid)); }
  void Unwatch(const v1::Pid& pid) { Unwatch(Ref(pid)); }

  // Requester: sends with this inbox as the sender. Thread-safe.
  ActorRef Ref(const v1::Pid& pid) override;
  TimerHandle TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                           const TellOptions& options) override;
  void AskAsync(const ActorRef& to, EnvelopePtr envelope,
                absl::Duration timeout, AskCallback done) override;
  std::future<absl::StatusOr<ActorRef>> Activate(
      const Message& request, absl::Duration timeout) override;

 private:
  ActorRef DefaultSender() const override { return ref_; }

  ActorSystem& system_;
  std::shared_ptr<InboxProcess> process_;
  ActorRef ref_;
};

template <typename T>
absl::StatusOr<T> Inbox::ReceiveAs(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<Received> received = Receive(deadline - absl::Now());
    if (!received.ok()) {
      return received.status();
    }
    if (const T* typed = As<T>(*received->message); typed != nullptr) {
      return *typed;
    }
  }
}

}  // namespace troupe
