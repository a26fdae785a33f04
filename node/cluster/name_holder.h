// NameHolder: the cluster-wide names one member holds, embedded (README,
// "Cluster-wide names"): the names that hash to it among the UP members.
// A name is held for an actor while that actor's member is UP in this
// node's table as the run the actor belongs to; another claim then gets
// ALREADY_EXISTS naming it. A claim for an actor whose member is not UP
// here (yet) is refused as UNAVAILABLE: its registrant claims it again.
// Not thread-safe: the cluster actor's own state.
#pragma once

#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "node/cluster/member_table.h"
#include "proto/cluster.pb.h"

namespace troupe {

class NameHolder {
 public:
  // `table` (this node's members) and `cluster` (its name, for errors)
  // must outlive the holder.
  NameHolder(const MemberTable& table, const std::string& cluster)
      : table_(table), cluster_(cluster) {}

  // Takes `claim` unless a live actor other than its ref has the name.
  v1::NameReply Hold(const v1::NameClaim& claim);
  // Lets go of the name if it still names `release.ref`.
  void Release(const v1::NameRelease& release);
  // Who has `name`: OK with the ref, or NOT_FOUND.
  v1::NameReply Find(const std::string& name) const;
  // Lets go of the names of actors that are no longer live here, and of
  // those `mine` says hash elsewhere now.
  void Prune(const std::function<bool(const std::string& name)>& mine);

 private:
  // The actor's member is UP here, as the run `pid` names.
  bool Live(const v1::Pid& pid) const;

  const MemberTable& table_;
  const std::string& cluster_;
  absl::flat_hash_map<std::string, v1::Pid> held_;
};

// The text of a NameReply saying `name` is taken by `holder`.
std::string NameTaken(const std::string& name, const v1::Pid& holder);

}  // namespace troupe
