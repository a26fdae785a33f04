#include "node/runtime/reply_watchers.h"

#include <utility>

#include "node/runtime/system_messages.h"

namespace troupe {

bool ReplyWatchers::Handle(const ActorRef& self, const SystemMessage& message) {
  if (message.kind == SystemKind::kUnwatch) {
    MutexLock lock(&mu_);
    watchers_.erase(message.ref);
    return true;
  }
  if (message.kind != SystemKind::kWatch) {
    return false;
  }
  if (!message.ref) {
    return true;
  }
  {
    MutexLock lock(&mu_);
    if (!ended_) {
      watchers_.insert(message.ref);
      return true;
    }
  }
  Notify(self, message.ref);
  return true;
}

void ReplyWatchers::End(const ActorRef& self) {
  absl::flat_hash_set<ActorRef> watchers;
  {
    MutexLock lock(&mu_);
    if (ended_) {
      return;
    }
    ended_ = true;
    watchers.swap(watchers_);
  }
  for (const ActorRef& watcher : watchers) {
    Notify(self, watcher);
  }
}

void ReplyWatchers::Notify(const ActorRef& self, const ActorRef& watcher) {
  auto notice = MakeSystem(SystemKind::kTerminated, self);
  notice->reason = kStopped;
  watcher.process()->SendSystem(std::move(notice));
}

}  // namespace troupe
