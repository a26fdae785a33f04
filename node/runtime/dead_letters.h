// DeadLetters: the node's stream of messages that could not be delivered
// (unknown id, stopped actor, old incarnation, full mailbox, node down).
// Every dead letter is counted, offered to subscribers, logged (rate-limited)
// and, when its sender is an actor, returned to it as DeadLetter{target,
// message, sender}.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/message.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe {

struct DeadLetterEvent {
  ActorRef target;
  const Message* message;    // valid during the callback only
  ActorRef sender;           // nobody when sent from outside any actor
  DeadLetterReason reason;   // why (system_messages.h)
  absl::string_view detail;  // what happened, for a person; may be empty
};

class DeadLetters {
 public:
  using Callback = std::function<void(const DeadLetterEvent&)>;

  DeadLetters() = default;
  DeadLetters(const DeadLetters&) = delete;
  DeadLetters& operator=(const DeadLetters&) = delete;

  // Calls `callback` for every later dead letter, on the thread that found
  // it (keep it short and thread-safe). Returns an id for Unsubscribe.
  // Thread-safe.
  uint64_t Subscribe(Callback callback);
  // After this returns the callback is not called again. Thread-safe; must
  // not be called from inside a callback.
  void Unsubscribe(uint64_t id);

  // Records a dead letter: counts, notifies subscribers, logs at most once a
  // second (with how many were not logged), and sends DeadLetter{target,
  // message, sender, reason, detail} to `notify` (the sender; for an
  // undeliverable answer, its target) when it is an actor or a reply slot
  // (an ask fails with the reason's status) and the message is not itself
  // a DeadLetter. A TOO_LARGE notice carries the message's type only (it
  // must fit where the message did not). Takes the message. Thread-safe.
  void Publish(const ActorRef& target, MessagePtr message,
               const ActorRef& sender, DeadLetterReason reason,
               absl::string_view detail, const ActorRef& notify);

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Counts indexed by DeadLetterReason; they sum to count() (read apart,
  // so a snapshot may be a few letters off). Thread-safe.
  std::array<uint64_t, v1::DeadLetterReason_ARRAYSIZE> count_by_reason() const;

 private:
  struct Subscriber {
    uint64_t id;
    Callback callback;
  };

  std::atomic<uint64_t> count_{0};
  std::array<std::atomic<uint64_t>, v1::DeadLetterReason_ARRAYSIZE>
      by_reason_{};
  Mutex mu_;
  std::vector<std::shared_ptr<const Subscriber>> subscribers_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Time last_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t unlogged_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace troupe
