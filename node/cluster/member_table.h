// MemberTable: the members one node knows, and the rules by which their
// states change (README, "Cluster", "Membership"). Pure bookkeeping: the
// cluster actor feeds it what it learns (a member answered, was declared
// down, said it is leaving) and publishes the events it returns.
//
// One entry per address, for the newest incarnation heard from there:
//   unknown  --HeardOf-->          JOINING (incarnation 0)
//   JOINING, DOWN --HeardFrom-->   UP      (MemberUp)
//   UP, LEAVING --Down-->          DOWN    (MemberDown)
//   UP --Leaving-->                LEAVING
//   any --HeardFrom(another run)-->  the known run DOWN ("replaced"), then
//                                    the run heard from UP
// Incarnations are random (DESIGN.md, "Refs"), so which of two runs is newer
// cannot be read from them: the run a node hears from directly is the one
// at that address now (one process is bound there, and a dead run's link is
// closed; two live runs behind one advertised name, a misconfiguration,
// would replace each other back and forth). Down and Leaving name a run and
// change nothing for another (a late Terminated of a run already replaced).
// This node's own entry is UP from the start and LEAVING once it leaves;
// nothing else changes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/cluster.pb.h"

namespace troupe {

// A state change to publish to subscribers: a v1::MemberUp or
// v1::MemberDown of `member`.
struct MemberEvent {
  bool up = false;
  v1::Member member;
};

// Not thread-safe: one owner (the cluster actor).
class MemberTable {
 public:
  MemberTable(std::string self_address, uint64_t self_incarnation,
              absl::Time now);

  // `address` was named (a seed, or a member another node has UP): JOINING
  // if unknown. True when it was unknown.
  bool HeardOf(absl::string_view address, absl::Time now);

  // The run `incarnation` at `address` answered or contacted this node: it
  // is UP, replacing any other run known there. Returns the events (none
  // for a run UP already, or LEAVING).
  std::vector<MemberEvent> HeardFrom(absl::string_view address,
                                     uint64_t incarnation, absl::Time now);

  // The run `incarnation` at `address` is down (`reason`): DOWN, unless it
  // is another run than the one known, or DOWN already. A LEAVING member's
  // reason stays "left the cluster" when `reason` is a link's end.
  std::vector<MemberEvent> Down(absl::string_view address, uint64_t incarnation,
                                absl::string_view reason, absl::Time now);

  // The run said it is leaving: LEAVING (only from UP).
  void Leaving(absl::string_view address, uint64_t incarnation, absl::Time now);
  // This node leaves: its own entry becomes LEAVING.
  void LeaveSelf(absl::Time now);

  // A contact of `address` failed (`why`): while it is JOINING, its reason
  // says so (what an operator reads to learn why a node does not join; a
  // DOWN member keeps why it went down). No change of state.
  void NoteFailure(absl::string_view address, absl::string_view why);

  // Drops `address` (a spelling found to be an alias of another member, or
  // of this node). Never this node's own entry.
  void Remove(absl::string_view address);

  // Drops the members DOWN, or JOINING and never heard from, since `now -
  // after` or earlier, except those in `keep` (the seeds); returns their
  // addresses.
  std::vector<std::string> Forget(absl::Time now, absl::Duration after,
                                  const absl::flat_hash_set<std::string>& keep);

  // The entry for `address`, or nullptr.
  const v1::Member* Find(absl::string_view address) const;
  bool IsUp(absl::string_view address) const;

  // Every entry, sorted by address (this node's included).
  std::vector<v1::Member> Snapshot() const;
  // This node's entry first, then every other UP member: what a node tells
  // those it contacts.
  std::vector<v1::Member> Up() const;

  const std::string& self_address() const { return self_address_; }

 private:
  void Set(v1::Member& member, v1::MemberState state, absl::string_view reason,
           absl::Time now);

  const std::string self_address_;
  absl::flat_hash_map<std::string, v1::Member> members_;
};

}  // namespace troupe
