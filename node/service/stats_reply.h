// StatsOf: ActorService.Stats' answer, a snapshot of one node's counters:
// its runtime (by kind), its links (by peer) and its public service.
#pragma once

#include <cstdint>

#include "node/remote/node.h"
#include "node/service/kinds.h"
#include "proto/operations.pb.h"

namespace troupe {

// `node`'s counters now, with the kinds `kinds` can spawn, and the
// service's `messages_in` (tells and asks from clients) and `messages_out`
// (replies, deliveries, notices). Each counter is read on its own
// (relaxed): a moment's picture, not an atomic snapshot. Thread-safe.
v1::StatsReply StatsOf(Node& node, const KindRegistry& kinds,
                       uint64_t messages_in, uint64_t messages_out);

}  // namespace troupe
