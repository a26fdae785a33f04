#include "node/service/node_metrics.h"

#include <array>
#include <deque>
#include <iterator>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "node/remote/cluster_auth.h"
#include "node/remote/node.h"
#include "node/remote/remoting.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/latency_histogram.h"
#include "node/service/heap_usage.h"
#include "node/service/rpc_counters.h"
#include "prometheus/client_metric.h"
#include "prometheus/exposer.h"

namespace troupe {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// gRPC's code names (grpc/status.h), as grpc-go and grpc-java label them.
std::string CodeName(int code) {
  static constexpr std::array<const char*, 17> kNames = {"OK",
                                                         "CANCELLED",
                                                         "UNKNOWN",
                                                         "INVALID_ARGUMENT",
                                                         "DEADLINE_EXCEEDED",
                                                         "NOT_FOUND",
                                                         "ALREADY_EXISTS",
                                                         "PERMISSION_DENIED",
                                                         "RESOURCE_EXHAUSTED",
                                                         "FAILED_PRECONDITION",
                                                         "ABORTED",
                                                         "OUT_OF_RANGE",
                                                         "UNIMPLEMENTED",
                                                         "INTERNAL",
                                                         "UNAVAILABLE",
                                                         "DATA_LOSS",
                                                         "UNAUTHENTICATED"};
  return code >= 0 && code < static_cast<int>(kNames.size())
             ? kNames[code]
             : absl::StrCat(code);
}

// "no_such_actor" for DEAD_LETTER_NO_SUCH_ACTOR.
std::string ReasonName(int reason) {
  std::string name = v1::DeadLetterReason_Name(reason);
  absl::string_view trimmed(name);
  absl::ConsumePrefix(&trimmed, "DEAD_LETTER_");
  return absl::AsciiStrToLower(trimmed);
}

// Families being built: references to added ones stay valid (a deque).
class Families {
 public:
  MetricFamily& Add(std::string name, std::string help, MetricType type) {
    MetricFamily& family = families_.emplace_back();
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = type;
    return family;
  }
  std::vector<MetricFamily> Take() {
    return std::vector<MetricFamily>(std::make_move_iterator(families_.begin()),
                                     std::make_move_iterator(families_.end()));
  }

 private:
  std::deque<MetricFamily> families_;
};

ClientMetric& Sample(MetricFamily& family,
                     std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric& metric = family.metric.emplace_back();
  metric.label = std::move(labels);
  return metric;
}

void SetValue(MetricFamily& family, ClientMetric& metric, double value) {
  if (family.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
}

// One sample with `labels` set to `value`.
void Put(MetricFamily& family, double value,
         std::vector<ClientMetric::Label> labels = {}) {
  SetValue(family, Sample(family, std::move(labels)), value);
}

void PutHistogram(MetricFamily& family,
                  const LatencyHistogram::Snapshot& snapshot,
                  std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric& metric = Sample(family, std::move(labels));
  metric.histogram.sample_count = snapshot.count;
  metric.histogram.sample_sum = snapshot.sum_seconds;
  uint64_t cumulative = 0;
  const auto& bounds = LatencyHistogram::BoundsSeconds();
  for (size_t i = 0; i <= LatencyHistogram::kBuckets; ++i) {
    cumulative += snapshot.counts[i];
    metric.histogram.bucket.push_back(ClientMetric::Bucket{
        cumulative, i < bounds.size()
                        ? bounds[i]
                        : std::numeric_limits<double>::infinity()});
  }
}

constexpr std::array<LinkState, 5> kLinkStates = {
    LinkState::kIdle, LinkState::kConnecting, LinkState::kUp, LinkState::kDown,
    LinkState::kAlias};

}  // namespace

NodeMetrics::NodeMetrics(Node* node, const RpcCounters* rpcs)
    : node_(node), rpcs_(rpcs) {}

std::vector<MetricFamily> NodeMetrics::Collect() const {
  const SystemStats system = node_->system().stats();
  const RemotingStats remoting = node_->remoting().stats();
  Families out;

  Put(out.Add("troupe_node_info",
              "Always 1; its labels name the node: its advertised address "
              "and its run (incarnation, hex).",
              MetricType::Gauge),
      1,
      {{"address", node_->address()},
       {"incarnation", absl::StrFormat("%016x", node_->incarnation())}});

  // --- Actors, by kind ---
  MetricFamily& alive = out.Add(
      "troupe_actors_alive",
      "Actors alive now, by kind (the registered kind, else the C++ class).",
      MetricType::Gauge);
  MetricFamily& spawned = out.Add(
      "troupe_actors_spawned_total",
      "Actors spawned since the node started, by kind.", MetricType::Counter);
  MetricFamily& processed = out.Add(
      "troupe_messages_processed_total",
      "User messages handled (Receive returned, or an ask's continuation "
      "ran), by the kind of the actor that handled them.",
      MetricType::Counter);
  MetricFamily& handling = out.Add(
      "troupe_message_handling_seconds",
      absl::StrCat("Time to handle one user message, by kind. Sampled: one "
                   "message in ",
                   kHandlingSampleEvery,
                   " on each dispatcher thread is timed, so _count counts "
                   "samples; troupe_messages_processed_total counts "
                   "messages."),
      MetricType::Histogram);
  for (const SystemStats::Kind& kind : system.kinds) {
    std::vector<ClientMetric::Label> labels = {{"kind", kind.name}};
    Put(alive, static_cast<double>(kind.alive), labels);
    Put(spawned, static_cast<double>(kind.spawned), labels);
    Put(processed, static_cast<double>(kind.processed), labels);
    PutHistogram(handling, kind.handling, labels);
  }
  Put(out.Add("troupe_mailbox_overflows_total",
              "Messages refused by a full bounded mailbox (each is also a "
              "dead letter, reason mailbox_full).",
              MetricType::Counter),
      static_cast<double>(system.mailbox_overflows));
  MetricFamily& dead = out.Add(
      "troupe_dead_letters_total",
      "Messages that could not be delivered, by reason (DeadLetterReason in "
      "proto/troupe.proto, lower case).",
      MetricType::Counter);
  for (int reason = 1; reason < v1::DeadLetterReason_ARRAYSIZE; ++reason) {
    if (v1::DeadLetterReason_IsValid(reason)) {
      Put(dead, static_cast<double>(system.dead_letters_by_reason[reason]),
          {{"reason", ReasonName(reason)}});
    }
  }
  Put(out.Add("troupe_asks_in_flight",
              "Asks begun on this node and not yet answered, failed or "
              "timed out.",
              MetricType::Gauge),
      static_cast<double>(system.asks_in_flight));
  PutHistogram(out.Add("troupe_ask_duration_seconds",
                       "Time from an ask to its end: the reply, a failure, "
                       "or the timeout. Sampled: one ask in 16 on each "
                       "asking thread is timed (_count counts samples).",
                       MetricType::Histogram),
               system.ask_latency);

  // --- Links, by peer address ---
  MetricFamily& state = out.Add(
      "troupe_link_state",
      "1 for the state the link to the peer is in (idle, connecting, up, "
      "down, alias), 0 for the others; the last state seen once the link "
      "is no longer used.",
      MetricType::Gauge);
  struct PeerCounter {
    MetricFamily* family;
    uint64_t EndpointStats::*field;
  };
  const std::vector<PeerCounter> counters = {
      {&out.Add("troupe_link_messages_sent_total",
                "User messages written to the peer.", MetricType::Counter),
       &EndpointStats::messages_sent},
      {&out.Add("troupe_link_messages_received_total",
                "User messages received from the peer.", MetricType::Counter),
       &EndpointStats::messages_received},
      {&out.Add("troupe_link_bytes_sent_total",
                "Bytes of frames written to the peer (serialized; gRPC's "
                "framing not counted), on both directions' calls.",
                MetricType::Counter),
       &EndpointStats::bytes_sent},
      {&out.Add("troupe_link_bytes_received_total",
                "Bytes of frames received from the peer (serialized).",
                MetricType::Counter),
       &EndpointStats::bytes_received},
      {&out.Add("troupe_link_frames_sent_total",
                "Frames (batches of messages and controls) written to the "
                "peer.",
                MetricType::Counter),
       &EndpointStats::frames_sent},
      {&out.Add("troupe_link_frames_received_total",
                "Frames received from the peer.", MetricType::Counter),
       &EndpointStats::frames_received},
      {&out.Add("troupe_link_dropped_total",
                "Messages for the peer that became dead letters instead: "
                "refused by a full link queue, too large, or queued while "
                "it was down.",
                MetricType::Counter),
       &EndpointStats::dead_letters},
      {&out.Add("troupe_link_downs_total",
                "Times the link to the peer was declared down (failure "
                "detector, call ended, or the peer left).",
                MetricType::Counter),
       &EndpointStats::downs},
  };
  MetricFamily& allowance =
      out.Add("troupe_link_allowed_silence_seconds",
              "How long the failure detector lets the peer stay silent before "
              "declaring it down, now (0 while no call to or from it is open).",
              MetricType::Gauge);
  MetricFamily& round_trip =
      out.Add("troupe_link_round_trip_seconds",
              "The path's smoothed round trip to the peer (RFC 6298 SRTT over "
              "the probes every call echoes), now; 0 before one is measured.",
              MetricType::Gauge);
  for (const EndpointStats& peer : remoting.peers) {
    for (LinkState s : kLinkStates) {
      Put(state, peer.state == s ? 1 : 0,
          {{"peer", peer.address}, {"state", std::string(LinkStateName(s))}});
    }
    for (const PeerCounter& counter : counters) {
      Put(*counter.family, static_cast<double>(peer.*counter.field),
          {{"peer", peer.address}});
    }
    Put(allowance, absl::ToDoubleSeconds(peer.allowance),
        {{"peer", peer.address}});
    Put(round_trip, absl::ToDoubleSeconds(peer.round_trip),
        {{"peer", peer.address}});
  }
  Put(out.Add("troupe_link_malformed_total",
              "Frames and envelopes from peers skipped because they did not "
              "parse.",
              MetricType::Counter),
      static_cast<double>(remoting.malformed));

  // --- RPCs and the process ---
  if (rpcs_ != nullptr) {
    MetricFamily& calls = out.Add(
        "troupe_rpc_calls_total",
        "Finished calls of the node's public gRPC methods, by method (its "
        "path) and status code.",
        MetricType::Counter);
    for (const RpcCounters::Series& series : rpcs_->Read()) {
      Put(calls, static_cast<double>(series.calls),
          {{"method", series.method}, {"code", CodeName(series.code)}});
    }
  }
  Put(out.Add("troupe_heap_bytes",
              "Bytes of heap in use by the node's process (allocated, not "
              "freed; unlike RSS it falls once memory is freed).",
              MetricType::Gauge),
      static_cast<double>(HeapInUseBytes()));
  return out.Take();
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, const std::string& secret, Node* node,
    const RpcCounters* rpcs) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(listen, &host, &port); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen: ", s.message()));
  }
  const bool loopback = IsLoopbackHost(host);
  if (!loopback && secret.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve metrics on ", listen,
        " without a cluster secret: anyone who can reach that address could "
        "read them. Give --secret_file=FILE (then /metrics asks for basic "
        "auth, user troupe, the secret as password), or serve them on "
        "127.0.0.1 and scrape from this host"));
  }
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  try {
    // civetweb's listening_ports; one thread is plenty for a scrape every
    // few seconds, and a second lets a slow scraper not block another.
    endpoint->exposer_ =
        std::make_unique<prometheus::Exposer>(std::vector<std::string>{
            "listening_ports", absl::StrCat(host, ":", port), "num_threads",
            "2"});
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve metrics on ", listen, ": ", e.what(),
        " (is the port taken? choose another with --metrics_listen)"));
  }
  if (!loopback) {  // before the collectable: never served without it
    endpoint->exposer_->RegisterAuth(
        [secret](const std::string& user, const std::string& password) {
          return user == "troupe" && ConstantTimeEquals(password, secret);
        },
        "troupe");
  }
  endpoint->metrics_ = std::make_shared<NodeMetrics>(node, rpcs);
  endpoint->exposer_->RegisterCollectable(endpoint->metrics_);
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->address_ =
      absl::StrCat(host, ":", ports.empty() ? port : ports.front());
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

}  // namespace troupe
