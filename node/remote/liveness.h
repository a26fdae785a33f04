// Liveness: the failure detector's evidence about one peer, and its verdict.
//
// Every frame from a peer, on any call (its call to this node, or the reply
// side of this node's call to it), is a sign of life. All of them report to
// the peer's one PeerLiveness: when the peer was last heard and how long
// its silences have lately been. The detector judges that record: the peer
// is down once silent for longer than
//   max(failure_threshold, kGapFactor x its longest recent gap)
//     + SRTT + 4 x RTTVAR,
// capped at max_failure_threshold. SRTT and RTTVAR are RFC 6298's smoothed
// round trip and its variation, over the round trips the peer's calls
// measure all the time (round_trip.h) and at their handshakes; their sum
// is TCP's retransmission timeout without its floor. It is added because
// a frame the path loses is sent again only after that timeout, and the
// frames behind it wait too: on a 200 ms path that loses packets, a
// silence of 600 ms is one lost frame, not a dead peer (measured:
// cluster_latency_test). On a healthy link (a frame at least
// every heartbeat interval) that is the configured threshold, so a frozen
// or dead peer is found in well under a second; a peer whose frames have
// lately come in long gaps (its machine overloaded, or this one) is given
// time in proportion, instead of being declared down while it works. This
// is the idea of the phi-accrual detector in its simplest form. A recent
// gap counts for half as much after kGapHalfLife.
#pragma once

#include <algorithm>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "node/remote/link_options.h"
#include "node/runtime/sync.h"

namespace troupe {

constexpr double kGapFactor = 3.0;
constexpr absl::Duration kGapHalfLife = absl::Seconds(5);

// What the calls to one peer say.
struct Silence {
  absl::Time last_heard = absl::InfinitePast();
  absl::Duration recent_gap = absl::ZeroDuration();
  // What the path's round trips allow for: SRTT + 4 x RTTVAR (see the
  // banner); 0 before the first is measured.
  absl::Duration round_trip_allowance = absl::ZeroDuration();
};

// RFC 6298's estimate of a path's round trip, section 2: the first sample
// R sets SRTT = R and RTTVAR = R / 2; each later one R' sets
// RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, then SRTT = 7/8 SRTT + 1/8 R'.
// TCP takes about one sample per round trip; the links take one per
// heartbeat interval on each call (~20 a second per peer), so these gains
// follow a change of the path within about half a second, and on a steady
// path RTTVAR falls toward 0 and the sum toward SRTT (RFC 7323, appendix G,
// would scale the gains down; the failure threshold already covers a
// steady path's jitter). Not thread-safe: its owner guards it.
class RoundTripEstimate {
 public:
  // A measured round trip (>= 0; a negative one is ignored).
  void Add(absl::Duration sample);
  bool measured() const { return measured_; }
  // SRTT + 4 x RTTVAR; 0 before the first sample.
  absl::Duration Allowance() const { return srtt_ + 4 * rttvar_; }
  absl::Duration smoothed() const { return srtt_; }

 private:
  bool measured_ = false;
  absl::Duration srtt_ = absl::ZeroDuration();
  absl::Duration rttvar_ = absl::ZeroDuration();
};

// The record behind a PeerLiveness. Not thread-safe: its owner guards it.
class Liveness {
 public:
  // The call starts as if the peer had just been heard.
  explicit Liveness(absl::Time now) : last_heard_(now) {}

  // A frame came in at `now`.
  void Heard(absl::Time now);
  // As if heard at `now`, but without recording the silence before it as
  // a gap (a new call begins).
  void Restart(absl::Time now) { last_heard_ = std::max(last_heard_, now); }
  // The record as of `now` (older gaps decayed).
  Silence silence(absl::Time now) const;

 private:
  absl::Time last_heard_;
  absl::Duration longest_gap_ = absl::ZeroDuration();  // as of gap_at_
  absl::Time gap_at_ = absl::InfinitePast();
};

// One peer's evidence, in one place: every call to or from the peer (this
// node's call to it and its calls to this node) reports each frame it reads
// here, and the detector judges the peer once, as one. Thread-safe.
class PeerLiveness {
 public:
  explicit PeerLiveness(absl::Time now) : liveness_(now) {}

  // A frame came in on any call at `now`.
  void Heard(absl::Time now);
  // A call to or from the peer begins (its handshake): the peer counts as
  // heard at `now`, without the time since it was last heard counting as a
  // gap in its speech (the time between calls is not one). What the other
  // calls have shown (recent gaps, round trips) is kept.
  void Restart(absl::Time now);
  // A call measured the path's round trip from an echo (round_trip.h): it
  // updates the peer's RoundTripEstimate.
  void NoteRoundTrip(absl::Duration round_trip);
  // A call's handshake took `took` (the dial, or the Hello's answer): a
  // few round trips, so it only seeds an estimate that has no sample yet
  // (the echoes refine it within a tick or two), and never moves one.
  void NoteHandshake(absl::Duration took);

  Silence silence(absl::Time now) const;
  // The smoothed round trip (SRTT); 0 before the first is measured.
  absl::Duration round_trip() const;
  // Why the peer should be declared down at `now`, or nullopt.
  std::optional<std::string> Judge(absl::Time now,
                                   const LinkOptions& options) const;

 private:
  mutable Mutex mu_;
  Liveness liveness_ ABSL_GUARDED_BY(mu_);
  RoundTripEstimate round_trip_ ABSL_GUARDED_BY(mu_);
};

// How long `silence` may last before its peer is declared down (see the
// banner).
absl::Duration AllowedSilence(const Silence& silence,
                              const LinkOptions& options);

// Why the peer should be declared down at `now`, or nullopt.
std::optional<std::string> JudgeSilence(const Silence& silence, absl::Time now,
                                        const LinkOptions& options);

}  // namespace troupe
