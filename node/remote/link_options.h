// LinkOptions: how a node talks to its peers: heartbeats and the failure
// detector, the per-peer queue bound, batch and message size limits, and
// reconnect backoff.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/runtime/clock.h"

namespace troupe {

// TLS material, as PEM text. A node uses all three (its certificate and
// key, and the CA that signed its peers' and clients' certificates); a
// client needs the CA, and a certificate and key only to present one.
struct TlsPem {
  std::string cert;
  std::string key;
  std::string ca;
  bool enabled() const { return !ca.empty(); }
};

struct LinkOptions {
  // A link that has sent nothing for this long sends a heartbeat frame.
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  // A peer silent for this long (no frame of any kind on any call,
  // heartbeats included) is declared down. Six heartbeat intervals: a frozen
  // peer is detected in 0.6-0.7 s, and a busy one, whose every data frame
  // also counts as a sign of life, is not mistaken for a frozen one. A node
  // starved of CPU for longer than this cannot tell its starvation from a
  // silent peer (README, "Failure detection"): where that is expected, set
  // a larger one with SetFailureThreshold (troupe_node --failure_threshold),
  // as Akka's acceptable-heartbeat-pause (3 s) and Erlang's net_ticktime
  // (60 s) are set.
  absl::Duration failure_threshold = absl::Milliseconds(600);
  // A peer whose frames have lately come in long gaps is allowed three
  // times its longest recent gap instead, plus the link's round trip, up
  // to this (see liveness.h).
  absl::Duration max_failure_threshold = absl::Seconds(5);
  // User messages queued for one peer beyond this become dead letters
  // ("link queue full"), counted. System messages are never refused. The
  // queue holds each message until it is written, so this bounds the memory
  // a slow peer or path can hold (troupe_node --link_queue_capacity).
  size_t queue_capacity = 200000;
  // A message whose serialized form is larger becomes a dead letter at the
  // sender; the receiver refuses frames larger than this plus room for one
  // envelope's framing.
  size_t max_message_bytes = 4 << 20;
  // A frame holds at most this many envelopes and about this many bytes;
  // the rest waits for the next write.
  size_t max_batch_envelopes = 4096;
  size_t max_batch_bytes = 1 << 20;
  // After a failed connection attempt, the next one waits 50 ms, doubling
  // up to this. A link that was up reconnects at once on the next send.
  absl::Duration max_backoff = absl::Seconds(2);
  // How long a link may take to come up (TCP, TLS, HTTP/2 and the Hello
  // exchange: several round trips) before the attempt is given up and the
  // peer's watchers told NODE_DOWN. Independent of failure_threshold,
  // which judges links that are up: a path with a long round trip links
  // slowly but stays up. Erlang's net_setuptime is 7 s, Akka's
  // handshake-timeout 15 s; 5 s links over round trips of a second.
  absl::Duration connect_timeout = absl::Seconds(5);
  // The cluster secret every link carries and requires (see
  // cluster_auth.h); empty = none.
  std::string secret;
  // TLS for the node's port and its links (mutual: a link presents the
  // node's certificate and must meet one signed by the same CA); not
  // enabled = plaintext.
  TlsPem tls;
  // The clock the links read (null = the real monotonic clock): when a
  // peer was last heard, handshake and backoff deadlines. A ManualClock
  // puts those judgements on simulated time (the ticker that makes them
  // still runs on the system's timer thread, every heartbeat_interval of
  // real time). Must outlive the node.
  const Clock* clock = nullptr;
};

// Sets `options`' failure_threshold to `threshold`, and its
// max_failure_threshold to at least twice that (room for a late-answering
// peer's gaps and round trip above the threshold, as the default's 5 s
// leaves above 600 ms). InvalidArgument, naming the range, unless
// 2 heartbeat intervals <= threshold <= 60 s (one heartbeat lost must not
// be a down; a minute is Erlang's net_ticktime). Not thread-safe: options
// are set before the node starts.
absl::Status SetFailureThreshold(absl::Duration threshold,
                                 LinkOptions* options);

// The largest frame a node accepts with these options.
inline size_t MaxFrameBytes(const LinkOptions& options) {
  return options.max_message_bytes + options.max_batch_bytes + (64 << 10);
}

}  // namespace troupe
