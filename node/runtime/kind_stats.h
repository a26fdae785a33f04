// KindStats and KindTable: the runtime's statistics per kind of actor, for
// Stats and the node's metrics (README "Operations").
//
// An actor's kind is the name it was spawned under (SpawnOptions::kind: a
// node's registered kinds set it; the node's own actors are "troupe.*"),
// else its C++ class, demangled. Either
// way the set of kinds is fixed by the program, not by its traffic, so a
// kind is a safe metric label: actor ids and keys never are.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "node/runtime/latency_histogram.h"
#include "node/runtime/sharded_counter.h"
#include "node/runtime/sync.h"

namespace troupe {

struct KindStats {
  explicit KindStats(std::string kind_name) : name(std::move(kind_name)) {}
  KindStats(const KindStats&) = delete;
  KindStats& operator=(const KindStats&) = delete;

  const std::string name;
  // Actors of this kind spawned, and terminated; alive = the difference.
  // Relaxed: statistics, not synchronisation.
  std::atomic<uint64_t> spawned{0};
  std::atomic<uint64_t> terminated{0};
  // User messages handled (Receive returned), by any actor of the kind.
  ShardedCounter processed;
  // Time to handle one user message, sampled: one message in
  // kHandlingSampleEvery on each dispatcher thread is timed (timing every
  // one would cost two clock reads, ~40 ns, on a 120 ns message hop).
  LatencyHistogram handling;
};

// Messages per timed message (LatencyHistogram KindStats::handling).
inline constexpr uint32_t kHandlingSampleEvery = 64;

class KindTable {
 public:
  // Beyond this many kinds, further names share the entry kOtherKind (a
  // program that makes classes or kind names without bound would otherwise
  // make metric series without bound).
  static constexpr size_t kMaxKinds = 1000;
  static constexpr absl::string_view kOtherKind = "other";

  KindTable();
  KindTable(const KindTable&) = delete;
  KindTable& operator=(const KindTable&) = delete;

  // The entry for the kind `name` (made on first use). The pointer lives as
  // long as the table. Thread-safe; takes a lock.
  KindStats* ForName(absl::string_view name);
  // The entry for actors of the C++ class `type`, named by its demangled
  // name. Thread-safe; lock-free once the class was seen (a spawn-path
  // lookup: one atomic load and a hash of the type).
  KindStats* ForType(const std::type_info& type);
  // Every entry, in the order they were made. Thread-safe.
  std::vector<const KindStats*> All() const;

 private:
  using TypeMap = absl::flat_hash_map<const std::type_info*, KindStats*>;

  mutable Mutex mu_;
  std::vector<std::unique_ptr<KindStats>> kinds_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, KindStats*> by_name_ ABSL_GUARDED_BY(mu_);
  // Copy on write: readers load the newest map; every map made is kept
  // until the table goes (classes are few, so the copies are too).
  std::atomic<const TypeMap*> by_type_;
  std::vector<std::unique_ptr<TypeMap>> type_maps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace troupe
