// Liveness: the failure detector's evidence about one peer, and its verdict.
//
// Every frame from a peer, on any call (its call to this node, or the reply
// side of this node's call to it), is a sign of life. All of them report to
// the peer's one PeerLiveness: when the peer was last heard and how long
// its silences have lately been. The detector judges that record: the peer
// is down once silent for longer than
//   max(failure_threshold, kGapFactor x its longest recent gap)
//     + the link's round trip,
// capped at max_failure_threshold. The round trip is added because a frame
// is late by as much as the path's delay varies, which a round trip bounds
// (TCP's retransmission timeout grows with the round trip for the same
// reason, RFC 6298). On a healthy link (a frame at least
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
  // The link's measured round trip (its handshake's), 0 when unknown.
  absl::Duration round_trip = absl::ZeroDuration();
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
  // A call measured the path's round trip (its handshake's): the longest
  // is allowed for.
  void NoteRoundTrip(absl::Duration round_trip);

  Silence silence(absl::Time now) const;
  // Why the peer should be declared down at `now`, or nullopt.
  std::optional<std::string> Judge(absl::Time now,
                                   const LinkOptions& options) const;

 private:
  mutable Mutex mu_;
  Liveness liveness_ ABSL_GUARDED_BY(mu_);
  absl::Duration round_trip_ ABSL_GUARDED_BY(mu_);
};

// How long `silence` may last before its peer is declared down (see the
// banner).
absl::Duration AllowedSilence(const Silence& silence,
                              const LinkOptions& options);

// Why the peer should be declared down at `now`, or nullopt.
std::optional<std::string> JudgeSilence(const Silence& silence, absl::Time now,
                                        const LinkOptions& options);

}  // namespace troupe
