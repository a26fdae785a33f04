#include "tests/testing/member_watcher.h"

#include <utility>

#include "node/cluster/cluster.h"
#include "node/runtime/message.h"
#include "node/runtime/system_messages.h"
#include "proto/cluster.pb.h"

namespace troupe::testing {

MemberWatcher::MemberWatcher(ActorSystem& system, const std::string& node)
    : inbox_(system) {
  v1::SubscribeMembers subscribe;
  *subscribe.mutable_subscriber() = ToProto(inbox_.ref().pid());
  inbox_.Tell(ClusterActorOf(system, node), std::move(subscribe));
}

bool MemberWatcher::WaitFor(const std::string& address, v1::MemberState state,
                            uint64_t incarnation, absl::Duration timeout) {
  return WaitUntil(
      [&] {
        auto it = members_.find(address);
        return it != members_.end() && it->second.state() == state &&
               (incarnation == 0 || it->second.incarnation() == incarnation);
      },
      timeout);
}

bool MemberWatcher::WaitForUp(int n, absl::Duration timeout) {
  return WaitUntil(
      [&] {
        int up = 0;
        for (const auto& [address, member] : members_) {
          up += member.state() == v1::MEMBER_UP ? 1 : 0;
        }
        return up >= n;
      },
      timeout);
}

bool MemberWatcher::WaitUntil(const std::function<bool()>& done,
                              absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    absl::StatusOr<Inbox::Received> received =
        inbox_.Receive(deadline - absl::Now());
    if (!received.ok()) {
      return false;
    }
    const Message& message = *received->message;
    if (const auto* current = As<v1::CurrentMembers>(message)) {
      for (const v1::Member& member : current->members()) {
        members_[member.address()] = member;
      }
    } else if (const auto* up = As<v1::MemberUp>(message)) {
      members_[up->member().address()] = up->member();
    } else if (const auto* down = As<v1::MemberDown>(message)) {
      members_[down->member().address()] = down->member();
    }
  }
  return true;
}

}  // namespace troupe::testing
