// The round-trip exchange (round_trip.h) between two sides of a call, on
// simulated time: each side reads its own ManualClock, and the clocks are
// an hour apart, as two machines' monotonic clocks are.
#include "node/remote/round_trip.h"

#include <optional>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "node/runtime/clock.h"
#include "proto/troupe.pb.h"

namespace troupe {
namespace {

struct Sides {
  Sides() { far_clock.Advance(absl::Hours(1)); }
  // Each side reads a frame at its own clock's now.
  std::optional<absl::Duration> ReadNear(const v1::Frame& frame) {
    return near.Read(frame, near_clock.Now());
  }
  std::optional<absl::Duration> ReadFar(const v1::Frame& frame) {
    return far.Read(frame, far_clock.Now());
  }
  // Both clocks move: time passes for both machines.
  void Pass(absl::Duration d) {
    near_clock.Advance(d);
    far_clock.Advance(d);
  }
  ManualClock near_clock;
  ManualClock far_clock;
  RoundTrip near{near_clock};
  RoundTrip far{far_clock};
};

TEST(RoundTripTest, AnEchoMeasuresThePathAndNotTheTimeItWasHeld) {
  Sides s;
  s.near.RequestProbe();
  v1::Frame out;
  s.near.Stamp(&out);
  ASSERT_NE(out.probe(), 0u);
  EXPECT_FALSE(out.has_echo());

  s.Pass(absl::Milliseconds(120));  // the path, one way
  EXPECT_FALSE(s.ReadFar(out).has_value()) << "a probe is not a sample";
  s.Pass(absl::Milliseconds(70));  // the far side writes nothing for a while
  v1::Frame back;
  s.far.Stamp(&back);
  ASSERT_TRUE(back.has_echo());
  EXPECT_EQ(back.echo().probe(), out.probe());
  EXPECT_EQ(back.echo().held_micros(), 70'000u);
  EXPECT_EQ(back.probe(), 0u) << "the far side was not asked to probe";

  s.Pass(absl::Milliseconds(80));  // the path back
  const std::optional<absl::Duration> sample = s.ReadNear(back);
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(*sample, absl::Milliseconds(200));
}

TEST(RoundTripTest, EachEchoIsReturnedOnceAndOnlyTheLatestProbe) {
  Sides s;
  v1::Frame first, second;
  s.near.RequestProbe();
  s.near.Stamp(&first);
  s.Pass(absl::Milliseconds(100));
  s.near.RequestProbe();
  s.near.Stamp(&second);
  // Both arrive before the far side writes: it returns the latest.
  s.Pass(absl::Milliseconds(50));
  s.ReadFar(first);
  s.ReadFar(second);
  v1::Frame back, again;
  s.far.Stamp(&back);
  s.far.Stamp(&again);
  ASSERT_TRUE(back.has_echo());
  EXPECT_EQ(back.echo().probe(), second.probe());
  EXPECT_FALSE(again.has_echo()) << "returned once";
  EXPECT_EQ(again.ByteSizeLong(), 0u) << "nothing due: nothing stamped";
}

TEST(RoundTripTest, BothSidesProbeAtOnce) {
  Sides s;
  v1::Frame out, back;
  s.near.RequestProbe();
  s.near.Stamp(&out);
  s.Pass(absl::Milliseconds(100));
  s.ReadFar(out);
  s.far.RequestProbe();
  s.far.Stamp(&back);  // its own probe and the echo, on one frame
  ASSERT_NE(back.probe(), 0u);
  ASSERT_TRUE(back.has_echo());
  s.Pass(absl::Milliseconds(100));
  EXPECT_EQ(s.ReadNear(back), absl::Milliseconds(200));
  v1::Frame reply;
  s.Pass(absl::Milliseconds(10));
  s.near.Stamp(&reply);
  s.Pass(absl::Milliseconds(100));
  EXPECT_EQ(s.ReadFar(reply), absl::Milliseconds(200));
}

TEST(RoundTripTest, ANewCallReturnsNothingOfTheLast) {
  Sides s;
  v1::Frame out;
  s.near.RequestProbe();
  s.near.Stamp(&out);
  s.ReadFar(out);
  s.far.RequestProbe();
  s.far.Reset();  // the far side's call ended; a new one begins
  v1::Frame back;
  s.far.Stamp(&back);
  EXPECT_EQ(back.ByteSizeLong(), 0u) << "no echo, and no probe owed";
}

TEST(RoundTripTest, AnEchoThatIsNoReadingOfThisClockIsIgnored) {
  Sides s;
  const uint64_t now =
      static_cast<uint64_t>(absl::ToUnixMicros(s.near_clock.Now()));
  const auto echo_of = [](uint64_t probe, uint64_t held) {
    v1::Frame frame;
    frame.mutable_echo()->set_probe(probe);
    frame.mutable_echo()->set_held_micros(held);
    return frame;
  };
  EXPECT_FALSE(s.ReadNear(echo_of(now + 1'000, 0)).has_value())
      << "from the future";
  EXPECT_FALSE(s.ReadNear(echo_of(now - 3'600'000'000, 0)).has_value())
      << "an hour ago: longer than kMaxRoundTripSample";
  EXPECT_FALSE(s.ReadNear(echo_of(now - 1'000, 2'000)).has_value())
      << "held longer than the whole exchange";
  EXPECT_FALSE(s.ReadNear(echo_of(0, 0)).has_value()) << "no probe";
  EXPECT_EQ(s.ReadNear(echo_of(now - 1'000, 400)), absl::Microseconds(600));
}

}  // namespace
}  // namespace troupe
