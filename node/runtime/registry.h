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
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/runtime/introspection.h"
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

  // Up to `page_size` live actors (of `kind` only, when not empty) after
  // the place `page_token` names ("" = the start), in a fixed order: shard
  // by shard, generated ids by serial, then names in byte order. A page
  // stops starting new shards once it has scanned kListScanLimit actors
  // (so it scans at most that plus one shard), and may hold fewer: the
  // token is empty only once the listing is complete. Each shard is locked
  // while it is read (a spawn into it waits that long: ~1 ms for 60,000
  // actors). INVALID_ARGUMENT for a token not made here. Thread-safe.
  static constexpr size_t kListScanLimit = 200000;
  // A page also stops once its actors' ids and kinds come to about this
  // many bytes (at least one actor per page), so that a page of long ids
  // stays well inside gRPC's 4 MiB default message limit.
  static constexpr size_t kListPageBytes = 1 << 20;
  absl::StatusOr<ActorPage> List(absl::string_view kind, size_t page_size,
                                 absl::string_view page_token) const;
  // The ids of `id`'s live children (at most `limit`, in no set order), and
  // how many it has. Reads every named actor: for an operator, not a hot
  // path. Thread-safe.
  std::pair<std::vector<std::string>, size_t> Children(absl::string_view id,
                                                       size_t limit) const;

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
