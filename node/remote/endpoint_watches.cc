// Endpoint, part two: the watch table. Which local watchers watch which
// actors of the peer (one WATCH on the wire per watched actor, whichever
// spelling of it each watcher used), the peer's WATCHED and TERMINATED for
// them, and NODE_DOWN for all of them when the peer is declared down.
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "node/remote/endpoint.h"
#include "node/remote/remote_watches.h"
#include "node/remote/remoting.h"

namespace troupe {

void Endpoint::Watch(std::shared_ptr<Process> watchee,
                     const ActorRef& watcher) {
  if (!watcher || ForwardOrDeferWatch(watchee, watcher, /*watch=*/true)) {
    return;
  }
  bool refused = false;
  WatchTable::Added added = WatchTable::Added::kPending;
  {
    MutexLock lock(&mu_);
    if (link_.RefusesWatch(remoting_->Now())) {
      refused = true;  // known down: answer now, do not queue
    } else {
      added = watches_.Add(watchee, watcher);
    }
  }
  if (refused) {
    NotifyTerminated(watcher, watchee, kNodeDown);
  } else if (added == WatchTable::Added::kSendWatch) {
    auto item = std::make_unique<OutItem>(OutItem::Kind::kWatch);
    item->target = std::move(watchee);
    Enqueue(std::move(item));
  } else if (added == WatchTable::Added::kInPlace) {
    NotifyInPlace(watcher, watchee);
  }
}

void Endpoint::Unwatch(const std::shared_ptr<Process>& watchee,
                       const ActorRef& watcher) {
  if (ForwardOrDeferWatch(watchee, watcher, /*watch=*/false)) {
    return;
  }
  bool last = false;
  {
    MutexLock lock(&mu_);
    last = watches_.Remove(*watchee, watcher);
  }
  if (last) {
    auto item = std::make_unique<OutItem>(OutItem::Kind::kUnwatch);
    item->target = watchee;
    Enqueue(std::move(item));
  }
}

void Endpoint::SendTerminated(const v1::Pid& pid,
                              v1::TerminationReason reason) {
  auto item = std::make_unique<OutItem>(OutItem::Kind::kTerminated);
  item->pid = std::make_unique<v1::Pid>(pid);
  item->reason = reason;
  Enqueue(std::move(item));
}

void Endpoint::SendWatched(const v1::Pid& pid) {
  auto item = std::make_unique<OutItem>(OutItem::Kind::kWatched);
  item->pid = std::make_unique<v1::Pid>(pid);
  Enqueue(std::move(item));
}

void Endpoint::OnWatched(const v1::Pid& pid) {
  Watchers watchers;
  {
    MutexLock lock(&mu_);
    watchers = watches_.OnWatched(WatchKeyOf(pid));
  }
  for (const auto& [watcher, watchee] : watchers) {
    NotifyInPlace(watcher, watchee);
  }
}

void Endpoint::OnTerminated(const v1::Pid& pid, v1::TerminationReason reason) {
  Watchers watchers;
  {
    MutexLock lock(&mu_);
    watchers = watches_.OnTerminated(WatchKeyOf(pid));
  }
  for (const auto& [watcher, watchee] : watchers) {
    NotifyTerminated(watcher, watchee, reason);
  }
}

}  // namespace troupe
