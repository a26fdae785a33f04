// Registry: the live actors of one node by id, for Lookup and Resolve.
//
// Most actors are anonymous, with a generated id "$<serial in base 36>";
// those are keyed by their serial number (an integer: no string hashing, and
// no chasing of another actor's id string on a probe), named ones by id. Both
// are sharded, each shard under its own lock. Reply processes (an ask's
// reply slot, an inbox) are not actors but must be reachable by id too, so a
// reply from another node finds them; they are kept by weak reference.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "node/runtime/sync.h"

namespace troupe {

class ActorCell;
class Process;

// n in base 36 (digits 0-9a-z).
std::string Base36(uint64_t n);

class Registry {
 public:
  // A fresh serial number for a generated id. Thread-safe.
  uint64_t NextSerial() {
    return next_serial_.fetch_add(1, std::memory_order_relaxed);
  }
  // The generated id for `serial`: "$" + base 36.
  static std::string SerialId(uint64_t serial);
  // The serial of a generated id, or nothing for any other id.
  static std::optional<uint64_t> ParseSerialId(absl::string_view id);

  // Adds `cell` under cell->id() (by serial when cell->serial() != 0).
  // False when the id is taken. Thread-safe.
  bool Insert(ActorCell* cell);
  // Removes `cell` (which must have been inserted). Thread-safe.
  void Erase(const ActorCell* cell);
  // The live actor with `id`, or null. Thread-safe.
  std::shared_ptr<ActorCell> Find(absl::string_view id) const;
  // Adds a reply process under its id (which must be unique: "$ask..." or
  // "$inbox..." with a fresh serial). Thread-safe.
  void InsertReply(const std::shared_ptr<Process>& process);
  // Removes the reply process with `id` (harmless when absent).
  void EraseReply(const std::string& id);
  // The reply process with `id`, or null. Thread-safe.
  std::shared_ptr<Process> FindReply(absl::string_view id) const;

  // Every live top-level actor. Thread-safe.
  std::vector<std::shared_ptr<ActorCell>> TopLevel() const;

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable Mutex mu;
    absl::flat_hash_map<uint64_t, ActorCell*> by_serial ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<absl::string_view, ActorCell*> by_id
        ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, std::weak_ptr<Process>> replies
        ABSL_GUARDED_BY(mu);
  };
  Shard& ShardForSerial(uint64_t serial) const;
  Shard& ShardForId(absl::string_view id) const;

  std::atomic<uint64_t> next_serial_{1};  // 0 means "named"
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace troupe
