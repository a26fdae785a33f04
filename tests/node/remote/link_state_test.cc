// The link's states and rules, on simulated time (the caller's clock is
// made-up instants) with stand-in calls: connect on demand, the handshake's
// own deadline, no backoff after a link that was up and a doubling one
// after failed attempts, failing versus leaving, closing, aliases.
#include "node/remote/link_state.h"

#include <memory>

#include "gtest/gtest.h"

namespace troupe {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000);
absl::Time At(int64_t ms) { return kStart + absl::Milliseconds(ms); }

class StandInCall final : public LinkCall {
 public:
  size_t Write(const v1::Frame&) override { return 1; }
  void CloseWrites() override {}
  void Cancel() override {}
};

using Next = LinkStateMachine::Next;

TEST(LinkStateTest, ConnectsOnDemandAndIsJudgedByTheConnectTimeoutUntilUp) {
  LinkOptions options;
  LinkStateMachine link(options);
  EXPECT_EQ(link.Decide(At(0), /*has_items=*/false), Next::kIdle);
  EXPECT_EQ(link.Decide(At(0), /*has_items=*/true), Next::kConnect);
  auto call = std::make_shared<StandInCall>();
  link.Connecting(call, At(0));
  EXPECT_EQ(link.state(), LinkState::kConnecting);
  EXPECT_EQ(link.Decide(At(1), true), Next::kBlocked);
  EXPECT_FALSE(link.HandshakeOverdue(At(0) + options.connect_timeout));
  EXPECT_TRUE(link.HandshakeOverdue(At(1) + options.connect_timeout));
  EXPECT_EQ(link.Up(/*peer_incarnation=*/7, At(40)), absl::Milliseconds(40))
      << "the handshake's round trip";
  EXPECT_EQ(link.state(), LinkState::kUp);
  EXPECT_EQ(link.peer_incarnation(), 7u);
  EXPECT_EQ(link.Decide(At(41), true), Next::kWrite);
  EXPECT_EQ(link.call(), call);
  EXPECT_FALSE(link.HandshakeOverdue(At(100000))) << "up: the detector judges";
  link.WriteFailed(call.get());
  EXPECT_EQ(link.Decide(At(42), true), Next::kBlocked)
      << "nothing more on a broken call; its end declares the peer down";
}

TEST(LinkStateTest, AfterALinkThatWasUpTheNextAttemptIsAtOnce) {
  LinkStateMachine link{LinkOptions()};
  auto call = std::make_shared<StandInCall>();
  link.Connecting(call, At(0));
  link.Up(1, At(10));
  LinkStateMachine::Ended ended =
      link.Fail("node x is down: silent", false, At(1000));
  EXPECT_TRUE(ended.changed);
  EXPECT_TRUE(ended.was_up);
  EXPECT_EQ(ended.call, call) << "the caller cancels it";
  EXPECT_EQ(link.downs(), 1u);
  EXPECT_EQ(link.Decide(At(1000), true), Next::kDrain)
      << "what was queued when it went down";
  EXPECT_EQ(link.drain_cause(), kNodeUnreachable);
  EXPECT_EQ(link.drain_why(), "node x is down: silent");
  EXPECT_FALSE(link.RefusesWatch(At(1000)));
  EXPECT_EQ(link.Decide(At(1000), true), Next::kConnect) << "no backoff";
}

TEST(LinkStateTest, FailedAttemptsBackOffDoublingUpToTheCap) {
  LinkOptions options;
  options.max_backoff = absl::Milliseconds(300);
  LinkStateMachine link(options);
  const int64_t expected_ms[] = {50, 100, 200, 300, 300};
  int64_t now = 0;
  for (int64_t backoff : expected_ms) {
    ASSERT_EQ(link.Decide(At(now), true), Next::kConnect);
    link.Connecting(std::make_shared<StandInCall>(), At(now));
    LinkStateMachine::Ended ended = link.Fail("refused", false, At(now));
    EXPECT_TRUE(ended.was_connecting);
    EXPECT_EQ(link.Decide(At(now), true), Next::kDrain);  // the down itself
    // Within the backoff: drained and watches refused; then a new attempt.
    EXPECT_TRUE(link.RefusesWatch(At(now + backoff - 1)));
    EXPECT_EQ(link.Decide(At(now + backoff - 1), true), Next::kDrain);
    EXPECT_FALSE(link.RefusesWatch(At(now + backoff)));
    now += backoff;
  }
  // A drain that kept a peer's TERMINATED ends the backoff at once.
  ASSERT_EQ(link.Decide(At(now), true), Next::kConnect);
  link.Connecting(std::make_shared<StandInCall>(), At(now));
  link.Fail("refused", false, At(now));
  EXPECT_TRUE(link.RetryNow());
  EXPECT_EQ(link.Decide(At(now), true), Next::kDrain);
  EXPECT_EQ(link.Decide(At(now), true), Next::kConnect);
}

TEST(LinkStateTest, NothingToEndIsNoChange) {
  LinkStateMachine link{LinkOptions()};
  EXPECT_FALSE(link.Fail("x", /*watched=*/false, At(0)).changed);
  EXPECT_EQ(link.downs(), 0u);
  EXPECT_TRUE(link.Fail("x", /*watched=*/true, At(0)).changed)
      << "an idle link with watches: they are told NODE_DOWN";
}

TEST(LinkStateTest, APeerThatLeftKeepsItsCallUntilItEndsIt) {
  LinkStateMachine link{LinkOptions()};
  auto call = std::make_shared<StandInCall>();
  link.Connecting(call, At(0));
  link.Up(1, At(1));
  LinkStateMachine::Ended ended = link.Leave("left", false, At(5));
  EXPECT_EQ(ended.call, call) << "the caller closes its writes";
  EXPECT_EQ(link.state(), LinkState::kDown);
  EXPECT_FALSE(link.Unused()) << "the peer is still reading";
  EXPECT_FALSE(link.CallEnded(call.get())) << "not a failure: it left";
  EXPECT_TRUE(link.Unused());
  EXPECT_TRUE(link.TakeCalls().empty());
}

TEST(LinkStateTest, AClosedLinkDrainsForGoodAndItsCallEndsQuietly) {
  LinkStateMachine link{LinkOptions()};
  auto call = std::make_shared<StandInCall>();
  link.Connecting(call, At(0));
  link.Up(1, At(1));
  EXPECT_EQ(link.Close(), call);
  EXPECT_EQ(link.Decide(At(2), true), Next::kDrain);
  EXPECT_EQ(link.drain_cause(), kLinkClosed);
  EXPECT_FALSE(link.RetryNow());
  EXPECT_TRUE(link.RefusesWatch(At(100000)));
  EXPECT_EQ(link.TakeCalls().size(), 1u) << "for Abort";
  EXPECT_FALSE(link.CallEnded(call.get()));
}

TEST(LinkStateTest, AnAliasNeverGoesDown) {
  LinkStateMachine link{LinkOptions()};
  auto call = std::make_shared<StandInCall>();
  link.Connecting(call, At(0));
  EXPECT_EQ(link.BecomeAlias(), call);
  EXPECT_EQ(link.state(), LinkState::kAlias);
  EXPECT_FALSE(link.Fail("x", true, At(1)).changed);
  EXPECT_FALSE(link.CallEnded(call.get())) << "taken before it was cancelled";
  EXPECT_TRUE(link.Unused());
}

}  // namespace
}  // namespace troupe
