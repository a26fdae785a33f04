// The failure detector's verdicts, on a made-up clock.
#include "node/remote/liveness.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace troupe {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000);

absl::Time At(int64_t ms) { return kStart + absl::Milliseconds(ms); }

TEST(LivenessTest, AHealthyLinkKeepsTheConfiguredThreshold) {
  const LinkOptions options;
  Liveness liveness(kStart);
  for (int64_t ms = 100; ms <= 1000; ms += 100) {
    liveness.Heard(At(ms));  // a heartbeat every interval
  }
  const Silence silence = liveness.silence(At(1000));
  EXPECT_EQ(AllowedSilence(silence, options), options.failure_threshold);
  EXPECT_FALSE(JudgeSilence(silence, At(1600), options).has_value());
  const auto why = JudgeSilence(silence, At(1601), options);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "nothing heard from it for 601 ms (allowed 600 ms)");
}

TEST(LivenessTest, ALateAnsweringPeerIsGivenTimeInProportion) {
  const LinkOptions options;
  Liveness liveness(kStart);
  liveness.Heard(At(100));
  liveness.Heard(At(500));  // a 400 ms gap: an overloaded peer
  const Silence silence = liveness.silence(At(500));
  EXPECT_EQ(AllowedSilence(silence, options), absl::Milliseconds(1200));
  EXPECT_FALSE(JudgeSilence(silence, At(1700), options).has_value());
  EXPECT_TRUE(JudgeSilence(silence, At(1701), options).has_value());
}

TEST(LivenessTest, TheAllowanceIsCapped) {
  LinkOptions options;
  options.max_failure_threshold = absl::Seconds(2);
  Liveness liveness(kStart);
  liveness.Heard(At(4000));
  EXPECT_EQ(AllowedSilence(liveness.silence(At(4000)), options),
            absl::Seconds(2));
}

TEST(LivenessTest, OldGapsFade) {
  const LinkOptions options;
  Liveness liveness(kStart);
  liveness.Heard(At(1000));  // one slow second
  EXPECT_EQ(liveness.silence(At(1000)).recent_gap, absl::Seconds(1));
  // A half-life later it counts for half; much later, not at all.
  const absl::Time later = At(1000) + kGapHalfLife;
  EXPECT_EQ(absl::ToInt64Milliseconds(liveness.silence(later).recent_gap), 500);
  EXPECT_EQ(
      AllowedSilence(liveness.silence(At(1000) + 4 * kGapHalfLife), options),
      options.failure_threshold);
  // A shorter gap does not replace a longer recent one.
  liveness.Heard(At(1300));
  EXPECT_GT(liveness.silence(At(1300)).recent_gap, absl::Milliseconds(900));
}

TEST(LivenessTest, MergeTakesTheLatestFrameAndTheLongestGap) {
  Silence a{At(100), absl::Milliseconds(50)};
  const Silence b{At(50), absl::Milliseconds(300)};
  a.Merge(b);
  EXPECT_EQ(a.last_heard, At(100));
  EXPECT_EQ(a.recent_gap, absl::Milliseconds(300));
  // A peer heard on any call is alive: the merged silence is the shortest.
  EXPECT_FALSE(JudgeSilence(a, At(700), LinkOptions()).has_value());
}

}  // namespace
}  // namespace troupe
