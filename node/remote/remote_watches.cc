#include "node/remote/remote_watches.h"

#include <utility>

#include "node/runtime/envelope.h"

namespace troupe {

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

void NotifyAllDown(const absl::flat_hash_map<WatchKey, Watchers>& watches) {
  for (const auto& [key, watchers] : watches) {
    for (const auto& [watcher, watchee] : watchers) {
      NotifyTerminated(watcher, watchee, kNodeDown);
    }
  }
}

// --- WatchTable --------------------------------------------------------------

WatchTable::Added WatchTable::Add(std::shared_ptr<Process> watchee,
                                  const ActorRef& watcher) {
  Entry& entry = entries_[WatchKeyOf(*watchee)];
  const bool first = entry.watchers.empty();
  entry.watchers[watcher] = std::move(watchee);
  if (first) {
    return Added::kSendWatch;
  }
  return entry.in_place ? Added::kInPlace : Added::kPending;
}

bool WatchTable::Remove(const Process& watchee, const ActorRef& watcher) {
  auto it = entries_.find(WatchKeyOf(watchee));
  if (it == entries_.end() || it->second.watchers.erase(watcher) == 0) {
    return false;
  }
  if (!it->second.watchers.empty()) {
    return false;
  }
  if (!it->second.in_place) {
    ++stale_watched_[it->first];  // its WATCHED is still to come
  }
  entries_.erase(it);
  return true;
}

Watchers WatchTable::OnWatched(const WatchKey& key) {
  if (auto stale = stale_watched_.find(key); stale != stale_watched_.end()) {
    // The answer to a WATCH whose watch has ended, not to the current one.
    if (--stale->second == 0) {
      stale_watched_.erase(stale);
    }
    return {};
  }
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.in_place) {
    return {};  // unwatched meanwhile, or told already
  }
  it->second.in_place = true;
  return it->second.watchers;
}

Watchers WatchTable::OnTerminated(const WatchKey& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return {};  // unwatched meanwhile
  }
  if (!it->second.in_place) {
    ++stale_watched_[key];  // an actor already gone: its WATCHED follows
  }
  Watchers watchers = std::move(it->second.watchers);
  entries_.erase(it);
  return watchers;
}

absl::flat_hash_map<WatchKey, Watchers> WatchTable::TakeAll() {
  absl::flat_hash_map<WatchKey, Watchers> all;
  for (auto& [key, entry] : entries_) {
    all.emplace(key, std::move(entry.watchers));
  }
  entries_.clear();
  stale_watched_.clear();  // what was on the link will not come
  return all;
}

// --- InboundWatches ----------------------------------------------------------

bool InboundWatches::Insert(WatchKey key, Entry entry) {
  MutexLock lock(&mu_);
  return !closed_ && entries_.emplace(std::move(key), std::move(entry)).second;
}

bool InboundWatches::Contains(const WatchKey& key) const {
  MutexLock lock(&mu_);
  return entries_.contains(key);
}

std::optional<InboundWatches::Entry> InboundWatches::Remove(
    const WatchKey& key) {
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  Entry entry = std::move(it->second);
  entries_.erase(it);
  return entry;
}

void InboundWatches::RemoveIfWatcher(const WatchKey& key,
                                     const Process* watcher) {
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.watcher.process() == watcher) {
    entries_.erase(it);
  }
}

std::vector<InboundWatches::Entry> InboundWatches::Close() {
  MutexLock lock(&mu_);
  closed_ = true;
  std::vector<Entry> all;
  all.reserve(entries_.size());
  for (auto& [key, entry] : entries_) {
    all.push_back(std::move(entry));
  }
  entries_.clear();
  return all;
}

}  // namespace troupe
