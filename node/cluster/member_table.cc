#include "node/cluster/member_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace troupe {

MemberTable::MemberTable(std::string self_address, uint64_t self_incarnation,
                         absl::Time now)
    : self_address_(std::move(self_address)) {
  v1::Member& self = members_[self_address_];
  self.set_address(self_address_);
  self.set_incarnation(self_incarnation);
  Set(self, v1::MEMBER_UP, "", now);
}

void MemberTable::Set(v1::Member& member, v1::MemberState state,
                      absl::string_view reason, absl::Time now) {
  member.set_state(state);
  member.set_reason(std::string(reason));
  member.set_since_unix_ms(absl::ToUnixMillis(now));
}

bool MemberTable::HeardOf(absl::string_view address, absl::Time now) {
  auto [it, inserted] = members_.try_emplace(address);
  if (inserted) {
    it->second.set_address(std::string(address));
    Set(it->second, v1::MEMBER_JOINING, "", now);
  }
  return inserted;
}

std::vector<MemberEvent> MemberTable::HeardFrom(absl::string_view address,
                                                uint64_t incarnation,
                                                absl::Time now) {
  std::vector<MemberEvent> events;
  if (address == self_address_ || incarnation == 0) {
    return events;
  }
  HeardOf(address, now);
  v1::Member& member = members_.find(address)->second;
  if (member.incarnation() != 0 && incarnation != member.incarnation()) {
    if (member.state() == v1::MEMBER_UP ||
        member.state() == v1::MEMBER_LEAVING) {
      Set(member, v1::MEMBER_DOWN, "replaced by a newer run of its node", now);
      events.push_back({false, member});
    }
  } else if (member.state() == v1::MEMBER_UP ||
             member.state() == v1::MEMBER_LEAVING) {
    return events;  // already UP (or leaving: it does not come back)
  }
  member.set_incarnation(incarnation);
  Set(member, v1::MEMBER_UP, "", now);
  events.push_back({true, member});
  return events;
}

std::vector<MemberEvent> MemberTable::Down(absl::string_view address,
                                           uint64_t incarnation,
                                           absl::string_view reason,
                                           absl::Time now) {
  std::vector<MemberEvent> events;
  auto it = members_.find(address);
  if (address == self_address_ || it == members_.end() ||
      it->second.incarnation() != incarnation) {
    return events;  // unknown, or another run
  }
  v1::Member& member = it->second;
  if (member.state() != v1::MEMBER_UP && member.state() != v1::MEMBER_LEAVING) {
    return events;
  }
  const bool left = member.state() == v1::MEMBER_LEAVING;
  Set(member, v1::MEMBER_DOWN, left ? "left the cluster" : reason, now);
  events.push_back({false, member});
  return events;
}

void MemberTable::Leaving(absl::string_view address, uint64_t incarnation,
                          absl::Time now) {
  auto it = members_.find(address);
  if (address != self_address_ && it != members_.end() &&
      it->second.incarnation() == incarnation &&
      it->second.state() == v1::MEMBER_UP) {
    Set(it->second, v1::MEMBER_LEAVING, "said it is leaving", now);
  }
}

void MemberTable::LeaveSelf(absl::Time now) {
  Set(members_[self_address_], v1::MEMBER_LEAVING, "leaving", now);
}

void MemberTable::NoteFailure(absl::string_view address,
                              absl::string_view why) {
  auto it = members_.find(address);
  if (it != members_.end() && it->second.state() == v1::MEMBER_JOINING) {
    it->second.set_reason(absl::StrCat("not answering: ", why));
  }
}

void MemberTable::Remove(absl::string_view address) {
  if (address != self_address_) {
    members_.erase(address);
  }
}

std::vector<std::string> MemberTable::Forget(
    absl::Time now, absl::Duration after,
    const absl::flat_hash_set<std::string>& keep) {
  std::vector<std::string> forgotten;
  const int64_t before = absl::ToUnixMillis(now - after);
  for (const auto& [address, member] : members_) {
    const bool gone = member.state() == v1::MEMBER_DOWN ||
                      member.state() == v1::MEMBER_JOINING;
    if (gone && member.since_unix_ms() <= before && !keep.contains(address)) {
      forgotten.push_back(address);
    }
  }
  for (const std::string& address : forgotten) {
    members_.erase(address);
  }
  return forgotten;
}

const v1::Member* MemberTable::Find(absl::string_view address) const {
  auto it = members_.find(address);
  return it == members_.end() ? nullptr : &it->second;
}

bool MemberTable::IsUp(absl::string_view address) const {
  const v1::Member* member = Find(address);
  return member != nullptr && member->state() == v1::MEMBER_UP;
}

std::vector<v1::Member> MemberTable::Snapshot() const {
  std::vector<v1::Member> out;
  out.reserve(members_.size());
  for (const auto& [address, member] : members_) {
    out.push_back(member);
  }
  std::sort(out.begin(), out.end(),
            [](const v1::Member& a, const v1::Member& b) {
              return a.address() < b.address();
            });
  return out;
}

std::vector<v1::Member> MemberTable::Up() const {
  std::vector<v1::Member> out;
  out.push_back(members_.at(self_address_));
  for (const auto& [address, member] : members_) {
    if (address != self_address_ && member.state() == v1::MEMBER_UP) {
      out.push_back(member);
    }
  }
  return out;
}

}  // namespace troupe
