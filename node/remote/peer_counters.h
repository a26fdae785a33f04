// PeerCounters: what a node has exchanged with one peer address, for Stats
// and the node's metrics (README "Operations"). Remoting keeps one record
// per peer address that has linked, for as long as the node runs (bounded:
// Remoting::kMaxPeerRecords), across the peer's links, calls and restarts:
// its counters never go back, and a peer that went down is still listed,
// with its downs.
#pragma once

#include <atomic>
#include <cstdint>

#include "node/remote/link_state.h"

namespace troupe {

struct PeerCounters {
  // All relaxed: statistics, not synchronisation. Any thread.
  void Add(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }

  // Over both directions' calls: this node's link to the peer, and the
  // peer's link to this node. Bytes are serialized frames (gRPC's framing
  // and compression not counted).
  std::atomic<uint64_t> frames_sent{0};
  std::atomic<uint64_t> frames_received{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> bytes_received{0};
  // User messages written to the peer (counted as the write is issued: a
  // write that then fails counts its messages here and in `dropped`), and
  // delivered from it.
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> messages_received{0};
  // Messages for the peer that became dead letters instead (refused by a
  // full link queue, too large, or queued while it was down), and of those
  // the ones refused by a full queue.
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> overflows{0};
  // Times the link was declared down (failure detector, call ended, left).
  std::atomic<uint64_t> downs{0};
  // Set once a link to or from the peer completed its handshake. Records of
  // peers never linked are dropped with their endpoint.
  std::atomic<bool> linked{false};
  // The link's state when last seen: kept once the link is forgotten.
  std::atomic<LinkState> last_state{LinkState::kIdle};
};

}  // namespace troupe
