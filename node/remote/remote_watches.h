// Remote watch: the two tables a link keeps, one per direction.
//   - WatchTable (outbound): which local watchers watch which actors of the
//     peer. One WATCH goes on the wire per watched actor, whichever
//     spelling of it each watcher used; the peer's WATCHED marks it in
//     place, its TERMINATED ends it; NODE_DOWN ends them all.
//   - InboundWatches: the peer's watches of this node's actors, each with
//     the stand-in that answers TERMINATED when the actor ends.
// Both say what to send and whom to tell; the link does it, outside its
// locks. No gRPC: tested on their own (tests/node/remote:remote_watches_test).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/process.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe {

// A watched actor, by id, incarnation and uid as watched.
using WatchKey = std::tuple<std::string, uint64_t, uint64_t>;
inline WatchKey WatchKeyOf(const Process& watchee) {
  return WatchKey{watchee.id(), watchee.incarnation(), watchee.uid()};
}
inline WatchKey WatchKeyOf(const v1::Pid& pid) {
  return WatchKey{pid.id(), pid.incarnation(), pid.uid()};
}

// Each watcher of one actor, with the actor as that watcher named it (one
// actor may be named by several spellings of its node's address), so each
// notice names the actor as its watcher knows it.
using Watchers = absl::flat_hash_map<ActorRef, std::shared_ptr<Process>>;

// Tells `watcher` that `watchee` ended with `reason`, or that its watch of
// `watchee` is in place. Thread-safe.
void NotifyTerminated(const ActorRef& watcher,
                      const std::shared_ptr<Process>& watchee,
                      TerminationReason reason);
void NotifyInPlace(const ActorRef& watcher,
                   const std::shared_ptr<Process>& watchee);
// NODE_DOWN to every watcher of every entry.
void NotifyAllDown(const absl::flat_hash_map<WatchKey, Watchers>& watches);

// The outbound table. Not thread-safe: its link guards it.
class WatchTable {
 public:
  // What a new watch needs: a WATCH on the wire (the actor's first
  // watcher), an in-place notice now (the WATCH was acknowledged), or
  // nothing yet (the acknowledgement is on its way).
  enum class Added { kSendWatch, kInPlace, kPending };
  Added Add(std::shared_ptr<Process> watchee, const ActorRef& watcher);
  // True when that was the actor's last watcher: an UNWATCH goes on the
  // wire. A watch whose WATCHED has not come yet leaves that WATCHED
  // expected, so it never marks a later watch of the actor in place.
  bool Remove(const Process& watchee, const ActorRef& watcher);
  // The peer placed the watch of `key`: the watchers to tell (none for a
  // stale or repeated WATCHED).
  Watchers OnWatched(const WatchKey& key);
  // The peer's TERMINATED for `key`: the watchers to tell; the watch ends.
  Watchers OnTerminated(const WatchKey& key);
  // Every watch, taken out (the link is down, closed or an alias);
  // expected WATCHEDs are forgotten with them.
  absl::flat_hash_map<WatchKey, Watchers> TakeAll();

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Watchers watchers;
    bool in_place = false;  // the peer acknowledged the WATCH
  };
  absl::flat_hash_map<WatchKey, Entry> entries_;
  // WATCHEDs still to come for watches that ended before theirs came.
  absl::flat_hash_map<WatchKey, int> stale_watched_;
};

// The inbound table, keyed by the pid as the peer named it. Shared with the
// stand-in watchers, which remove themselves when their watch fires, even
// after the link is gone. Thread-safe.
class InboundWatches {
 public:
  struct Entry {
    ActorRef target;
    ActorRef watcher;  // the stand-in in the target's watcher set
  };
  // False when `key` is watched already or the table is closed.
  bool Insert(WatchKey key, Entry entry);
  bool Contains(const WatchKey& key) const;
  std::optional<Entry> Remove(const WatchKey& key);
  // Removes `key` only if `watcher` still stands for it.
  void RemoveIfWatcher(const WatchKey& key, const Process* watcher);
  // Empties the table for good; what it held.
  std::vector<Entry> Close();

 private:
  mutable Mutex mu_;
  absl::flat_hash_map<WatchKey, Entry> entries_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace troupe
