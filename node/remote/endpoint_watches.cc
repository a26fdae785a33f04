// Endpoint, part two: the watch table. Which local watchers watch which
// actors of the peer (one WATCH on the wire per watched actor, whichever
// spelling of it each watcher used), the peer's WATCHED and TERMINATED for
// them, and NODE_DOWN for all of them when the peer is declared down.
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "node/remote/endpoint.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

// Tells `watcher` that `watchee` (as the watcher named it) ended.
void NotifyTerminated(const ActorRef& watcher,
                      const std::shared_ptr<Process>& watchee,
                      TerminationReason reason) {
  auto notice = MakeSystem(SystemKind::kTerminated, ActorRef(watchee));
  notice->reason = reason;
  watcher.process()->SendSystem(std::move(notice));
}

void NotifyInPlace(const ActorRef& watcher,
                   const std::shared_ptr<Process>& watchee) {
  watcher.process()->SendSystem(
      MakeSystem(SystemKind::kWatchInPlace, ActorRef(watchee)));
}

}  // namespace

void Endpoint::Watch(std::shared_ptr<Process> watchee,
                     const ActorRef& watcher) {
  if (!watcher || ForwardOrDeferWatch(watchee, watcher, /*watch=*/true)) {
    return;
  }
  bool refused = false;
  bool first = false;
  bool in_place = false;
  {
    MutexLock lock(&mu_);
    if (closed_ || (state_ == LinkState::kDown && absl::Now() < retry_at_)) {
      refused = true;  // known down: answer now, do not queue
    } else {
      WatchEntry& entry = watches_[WatchKeyOf(*watchee)];
      first = entry.watchers.empty();
      if (first) {
        entry.watchee = watchee;
      }
      entry.watchers[watcher] = watchee;
      in_place = entry.in_place;
    }
  }
  if (refused) {
    NotifyTerminated(watcher, watchee, kNodeDown);
  } else if (first) {
    auto item = std::make_unique<OutItem>(OutItem::Kind::kWatch);
    item->target = std::move(watchee);
    Enqueue(std::move(item));
  } else if (in_place) {
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
    auto it = watches_.find(WatchKeyOf(*watchee));
    if (it == watches_.end() || it->second.watchers.erase(watcher) == 0) {
      return;
    }
    last = it->second.watchers.empty();
    if (last) {
      if (!it->second.in_place) {
        ++stale_watched_[it->first];  // its WATCHED is still to come
      }
      watches_.erase(it);
    }
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
    const WatchKey key{pid.id(), pid.incarnation(), pid.uid()};
    if (auto stale = stale_watched_.find(key); stale != stale_watched_.end()) {
      // The answer to a WATCH whose watch has ended, not to the current one.
      if (--stale->second == 0) {
        stale_watched_.erase(stale);
      }
      return;
    }
    auto it = watches_.find(key);
    if (it == watches_.end() || it->second.in_place) {
      return;  // unwatched meanwhile, or told already
    }
    it->second.in_place = true;
    watchers = it->second.watchers;
  }
  for (const auto& [watcher, watchee] : watchers) {
    NotifyInPlace(watcher, watchee);
  }
}

void Endpoint::OnTerminated(const v1::Pid& pid, v1::TerminationReason reason) {
  WatchEntry entry;
  {
    MutexLock lock(&mu_);
    auto it = watches_.find(WatchKey{pid.id(), pid.incarnation(), pid.uid()});
    if (it == watches_.end()) {
      return;  // unwatched meanwhile
    }
    if (!it->second.in_place) {
      ++stale_watched_[it->first];  // an actor already gone: WATCHED follows
    }
    entry = std::move(it->second);
    watches_.erase(it);
  }
  for (const auto& [watcher, watchee] : entry.watchers) {
    NotifyTerminated(watcher, watchee, reason);
  }
}

void Endpoint::NotifyDown(WatchTable watches) {
  for (const auto& [key, entry] : watches) {
    for (const auto& [watcher, watchee] : entry.watchers) {
      NotifyTerminated(watcher, watchee, kNodeDown);
    }
  }
}

}  // namespace troupe
