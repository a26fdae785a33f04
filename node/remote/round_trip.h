// RoundTrip: one side of a link call's round-trip measurement, taken all
// the time, for the failure detector (liveness.h).
//
// Why: a handshake measures the path once, but its delay changes after
// (congestion, a new route, a fault), and a frame the path loses is sent
// again by TCP only after a retransmission timeout that grows with the
// round trip (RFC 6298). A detector that knows only the handshake's round
// trip mistakes that wait for a silent peer.
//
// How (NTP's on-wire exchange, RFC 5905, reduced): once per heartbeat
// interval a side stamps a probe, its own clock's reading, on the next
// frame it writes (a heartbeat when the call is quiet). The other side
// returns the last probe it read on the next frame it writes, with how
// long it held it. The prober's sample is now - probe - held. Only
// differences between one clock's readings are used, so the nodes' clocks
// need not agree; an echo of an older probe, or one carried back by
// another call of the same node, measures the path just as well.
//
// Thread-safe: the writer stamps and the reader reads, on different
// threads. A frame with nothing due costs one relaxed atomic load.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "node/runtime/clock.h"
#include "node/runtime/sync.h"
#include "proto/troupe.pb.h"

namespace troupe {

// A sample longer than this is no path's round trip: a corrupt or made-up
// echo, which is ignored.
constexpr absl::Duration kMaxRoundTripSample = absl::Minutes(1);

class RoundTrip {
 public:
  // `clock` (the links' clock, LinkOptions::clock) must outlive it.
  explicit RoundTrip(const Clock& clock) : clock_(clock) {}
  RoundTrip(const RoundTrip&) = delete;
  RoundTrip& operator=(const RoundTrip&) = delete;

  // The next frame stamped carries a probe (the heartbeat tick asks).
  void RequestProbe();
  // Stamps what is due on `frame`, which is about to be written: the
  // probe, if asked for, and the echo of the last probe read, if it has
  // not been returned yet.
  void Stamp(v1::Frame* frame);
  // A frame was read at `now` (on the clock given): its probe is kept to be
  // returned; the round trip its echo measures is returned, or nullopt
  // when it carries none or the echo is not one of this clock's recent
  // readings (then it is ignored).
  std::optional<absl::Duration> Read(const v1::Frame& frame, absl::Time now);
  // A new call begins (its Hello): a probe read on the last call, from a
  // peer that may since be another process, is not returned, and no probe
  // is owed.
  void Reset();

 private:
  const Clock& clock_;
  // Set when a probe or an echo is due: Stamp's fast path.
  std::atomic<bool> due_{false};
  Mutex mu_;
  bool probe_asked_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t echo_probe_ ABSL_GUARDED_BY(mu_) = 0;  // 0 = nothing to return
  absl::Time echo_read_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace troupe
