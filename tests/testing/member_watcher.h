// MemberWatcher: one node's member events, for tests and benchmarks. It
// subscribes an inbox to the node's cluster actor (SubscribeMembers) and
// keeps the latest state of each member from CurrentMembers, MemberUp and
// MemberDown. Waits read events until a condition holds or the timeout
// passes. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "proto/troupe.pb.h"

namespace troupe::testing {

class MemberWatcher {
 public:
  // Watches the members of the node at `node` (host:port; "" = the node of
  // `system`), through an inbox of `system`, which must outlive this.
  explicit MemberWatcher(ActorSystem& system, const std::string& node = "");

  // Until `address` is in `state` (and of run `incarnation`, unless 0).
  bool WaitFor(const std::string& address, v1::MemberState state,
               uint64_t incarnation = 0,
               absl::Duration timeout = absl::Seconds(20));
  // Until `n` members are UP.
  bool WaitForUp(int n, absl::Duration timeout = absl::Seconds(20));

  // The latest of `address` (an empty Member if none came).
  const v1::Member& member(const std::string& address) {
    return members_[address];
  }

 private:
  bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout);

  Inbox inbox_;
  std::map<std::string, v1::Member> members_;
};

}  // namespace troupe::testing
