// MemberTable: each transition of the lifecycle in member_table.h, the
// events it returns, stale reports, newer runs, leaving, aliases and
// forgetting, on given times.
#include "node/cluster/member_table.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace troupe {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

class MemberTableTest : public ::testing::Test {
 protected:
  MemberTable table_{"10.0.0.1:7420", 11, kT0};

  v1::MemberState StateOf(const std::string& address) const {
    const v1::Member* member = table_.Find(address);
    return member == nullptr ? v1::MEMBER_STATE_UNSPECIFIED : member->state();
  }
};

TEST_F(MemberTableTest, ThisNodeIsUpFromTheStartAndOnlyLeaving) {
  EXPECT_EQ(StateOf("10.0.0.1:7420"), v1::MEMBER_UP);
  EXPECT_TRUE(table_.HeardFrom("10.0.0.1:7420", 99, kT0).empty());
  EXPECT_TRUE(table_.Down("10.0.0.1:7420", 11, "x", kT0).empty());
  table_.Remove("10.0.0.1:7420");
  EXPECT_EQ(StateOf("10.0.0.1:7420"), v1::MEMBER_UP);
  table_.LeaveSelf(kT0);
  EXPECT_EQ(StateOf("10.0.0.1:7420"), v1::MEMBER_LEAVING);
  ASSERT_FALSE(table_.Up().empty());
  EXPECT_EQ(table_.Up()[0].address(), "10.0.0.1:7420");
}

TEST_F(MemberTableTest, JoiningThenUpThenDownThenUpAgain) {
  EXPECT_TRUE(table_.HeardOf("10.0.0.2:7420", kT0));
  EXPECT_FALSE(table_.HeardOf("10.0.0.2:7420", kT0));
  EXPECT_EQ(StateOf("10.0.0.2:7420"), v1::MEMBER_JOINING);

  std::vector<MemberEvent> events = table_.HeardFrom("10.0.0.2:7420", 22, kT0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].up);
  EXPECT_EQ(events[0].member.incarnation(), 22u);
  EXPECT_TRUE(table_.HeardFrom("10.0.0.2:7420", 22, kT0).empty());  // once

  events = table_.Down("10.0.0.2:7420", 22, "detector", kT0 + absl::Seconds(1));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].up);
  EXPECT_EQ(events[0].member.reason(), "detector");
  EXPECT_EQ(events[0].member.since_unix_ms(),
            absl::ToUnixMillis(kT0 + absl::Seconds(1)));
  EXPECT_TRUE(table_.Down("10.0.0.2:7420", 22, "again", kT0).empty());

  // The same run heard from again (a healed link): UP again.
  events = table_.HeardFrom("10.0.0.2:7420", 22, kT0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].up);
  EXPECT_EQ(StateOf("10.0.0.2:7420"), v1::MEMBER_UP);
}

// Incarnations are random: a new run may have a smaller number.
TEST_F(MemberTableTest, TheRunHeardFromReplacesTheKnownOne) {
  table_.HeardFrom("10.0.0.2:7420", 22, kT0);
  std::vector<MemberEvent> events = table_.HeardFrom("10.0.0.2:7420", 5, kT0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].up);
  EXPECT_EQ(events[0].member.incarnation(), 22u);
  EXPECT_EQ(events[0].member.reason(), "replaced by a newer run of its node");
  EXPECT_TRUE(events[1].up);
  EXPECT_EQ(events[1].member.incarnation(), 5u);
  // The old run's late Terminated, or a leave: nothing.
  EXPECT_TRUE(table_.Down("10.0.0.2:7420", 22, "old", kT0).empty());
  table_.Leaving("10.0.0.2:7420", 22, kT0);
  EXPECT_EQ(StateOf("10.0.0.2:7420"), v1::MEMBER_UP);
  EXPECT_EQ(table_.Find("10.0.0.2:7420")->incarnation(), 5u);
  // A run replacing one that is DOWN already: only its MemberUp.
  table_.Down("10.0.0.2:7420", 5, "gone", kT0);
  events = table_.HeardFrom("10.0.0.2:7420", 77, kT0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].up);
}

TEST_F(MemberTableTest, AFailedContactSaysWhyWhileJoining) {
  table_.HeardOf("10.0.0.2:7420", kT0);
  table_.NoteFailure("10.0.0.2:7420", "connection refused");
  EXPECT_EQ(table_.Find("10.0.0.2:7420")->reason(),
            "not answering: connection refused");
  EXPECT_EQ(StateOf("10.0.0.2:7420"), v1::MEMBER_JOINING);
  table_.HeardFrom("10.0.0.2:7420", 22, kT0);
  table_.Down("10.0.0.2:7420", 22, "detector", kT0);
  table_.NoteFailure("10.0.0.2:7420", "connection refused");
  EXPECT_EQ(table_.Find("10.0.0.2:7420")->reason(), "detector");
}

TEST_F(MemberTableTest, ALeavingMemberGoesDownAsLeft) {
  table_.HeardFrom("10.0.0.2:7420", 22, kT0);
  table_.Leaving("10.0.0.2:7420", 21, kT0);  // another run: ignored
  EXPECT_EQ(StateOf("10.0.0.2:7420"), v1::MEMBER_UP);
  table_.Leaving("10.0.0.2:7420", 22, kT0);
  EXPECT_EQ(StateOf("10.0.0.2:7420"), v1::MEMBER_LEAVING);
  EXPECT_TRUE(table_.HeardFrom("10.0.0.2:7420", 22, kT0).empty());
  std::vector<MemberEvent> events =
      table_.Down("10.0.0.2:7420", 22, "link ended", kT0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].member.reason(), "left the cluster");
  // The up list a node sends has itself first and UP members only.
  table_.HeardFrom("10.0.0.3:7420", 33, kT0);
  std::vector<v1::Member> up = table_.Up();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].address(), "10.0.0.1:7420");
  EXPECT_EQ(up[1].address(), "10.0.0.3:7420");
}

TEST_F(MemberTableTest, ForgetsDownAndUnheardMembersButNotSeeds) {
  table_.HeardOf("10.0.0.9:7420", kT0);  // never answers
  table_.HeardOf("seed:7420", kT0);      // a seed, never answers
  table_.HeardFrom("10.0.0.2:7420", 22, kT0);
  table_.Down("10.0.0.2:7420", 22, "gone", kT0);
  table_.HeardFrom("10.0.0.3:7420", 33, kT0);  // UP: kept
  EXPECT_TRUE(
      table_.Forget(kT0 + absl::Minutes(9), absl::Minutes(10), {}).empty());
  std::vector<std::string> forgotten =
      table_.Forget(kT0 + absl::Minutes(10), absl::Minutes(10), {"seed:7420"});
  std::sort(forgotten.begin(), forgotten.end());
  EXPECT_EQ(forgotten,
            (std::vector<std::string>{"10.0.0.2:7420", "10.0.0.9:7420"}));
  std::vector<v1::Member> all = table_.Snapshot();
  ASSERT_EQ(all.size(), 3u);  // sorted by address
  EXPECT_EQ(all[0].address(), "10.0.0.1:7420");
  EXPECT_EQ(all[1].address(), "10.0.0.3:7420");
  EXPECT_EQ(all[2].address(), "seed:7420");
  table_.Remove("seed:7420");  // an alias found
  EXPECT_EQ(table_.Find("seed:7420"), nullptr);
}

}  // namespace
}  // namespace troupe
