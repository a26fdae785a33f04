// ReplyWatchers: the watchers of a reply process (an ask's reply slot, a
// client's inbox). Such a process is a ref a user can obtain (the sender
// of an ask), so it is watchable like an actor: each watcher gets
// Terminated{STOPPED} exactly once, when the process ends (the ask
// completes or times out, the inbox's stream ends), or at once when it has
// already ended.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/sync.h"

namespace troupe {

class ReplyWatchers {
 public:
  // Handles kWatch and kUnwatch sent to `self` (other kinds are not for
  // it); true when `message` was one of them. Thread-safe.
  bool Handle(const ActorRef& self, const SystemMessage& message);
  // `self` has ended: every watcher, now and later, is told. Idempotent.
  // Thread-safe.
  void End(const ActorRef& self);

 private:
  static void Notify(const ActorRef& self, const ActorRef& watcher);

  Mutex mu_;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<ActorRef> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace troupe
