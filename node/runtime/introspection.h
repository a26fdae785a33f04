// What ActorSystem::ListActors and ActorSystem::Inspect report about live
// actors, for operators (README "Operations"; ActorService.ListActors and
// Inspect in proto/operations.proto).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace troupe {

// One live actor, read without stopping it: each field is a relaxed read,
// so together they are a moment's picture, not an atomic snapshot.
struct ActorSnapshot {
  std::string id;
  uint64_t uid = 0;
  std::string kind;  // kind_stats.h
  // User messages queued and not yet taken; for an unbounded mailbox, as
  // of the end of the actor's last run.
  uint64_t mailbox_depth = 0;
  // User messages taken from its mailbox (handled, or dead letters once it
  // is stopping); likewise as of its last run.
  uint64_t handled = 0;
  absl::Duration age;  // since its spawn, to a few milliseconds
};

struct ActorPage {
  std::vector<ActorSnapshot> actors;
  // Empty when the listing is complete; else what ListActors takes next.
  std::string next_page_token;
};

struct ActorDetail {
  ActorSnapshot actor;
  std::string parent;  // its parent's id; empty for a top-level actor
  uint32_t watchers = 0;
  std::vector<std::string> children;  // ids, at most the limit asked for
  size_t children_count = 0;
};

}  // namespace troupe
