#include "node/service/stats_reply.h"

#include <string>

#include "absl/time/time.h"
#include "node/remote/link_state.h"
#include "node/service/heap_usage.h"

namespace troupe {

v1::StatsReply StatsOf(Node& node, const KindRegistry& kinds,
                       uint64_t messages_in, uint64_t messages_out) {
  v1::StatsReply reply;
  const SystemStats stats = node.system().stats();
  reply.set_address(node.address());
  reply.set_incarnation(node.incarnation());
  reply.set_actors_alive(stats.actors_alive);
  reply.set_actors_spawned(stats.actors_spawned);
  reply.set_messages_processed(stats.messages_processed);
  reply.set_dead_letters(stats.dead_letters);
  reply.set_mailbox_overflows(stats.mailbox_overflows);
  reply.set_messages_in(messages_in);
  reply.set_messages_out(messages_out);
  reply.set_unauthenticated_calls(node.remoting().auth().refused());
  reply.set_heap_bytes(HeapInUseBytes());
  for (const EndpointStats& peer : node.remoting().stats().peers) {
    v1::LinkStats* link = reply.add_links();
    link->set_address(peer.address);
    link->set_state(std::string(LinkStateName(peer.state)));
    link->set_frames_sent(peer.frames_sent);
    link->set_messages_sent(peer.messages_sent);
    link->set_messages_dropped(peer.dead_letters);
    link->set_downs(peer.downs);
    link->set_alias_of(peer.alias_of);
    link->set_messages_received(peer.messages_received);
    link->set_frames_received(peer.frames_received);
    link->set_bytes_sent(peer.bytes_sent);
    link->set_bytes_received(peer.bytes_received);
    link->set_allowed_silence_seconds(absl::ToDoubleSeconds(peer.allowance));
    link->set_round_trip_seconds(absl::ToDoubleSeconds(peer.round_trip));
  }
  for (const Kind* kind : kinds.All()) {
    reply.add_kinds(kind->name);
  }
  for (const SystemStats::Kind& kind : stats.kinds) {
    v1::KindStats* out = reply.add_actor_kinds();
    out->set_kind(kind.name);
    out->set_alive(kind.alive);
    out->set_spawned(kind.spawned);
    out->set_messages_processed(kind.processed);
  }
  reply.set_asks_in_flight(stats.asks_in_flight);
  return reply;
}

}  // namespace troupe
