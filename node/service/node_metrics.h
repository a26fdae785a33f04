// NodeMetrics: a node's statistics as Prometheus metrics, served on
// /metrics by prometheus-cpp's pull exposer (troupe_node --metrics_listen;
// README "Operations" lists every metric and what it means).
//
// Nothing is counted for the metrics themselves: each scrape reads the
// counters the node keeps anyway (SystemStats, RemotingStats, the RPC
// counts), so a node pays for metrics only when scraped. Labels are
// bounded: kind (kind_stats.h), dead-letter reason, peer address
// (Remoting::kMaxPeerRecords), RPC method and code; never an actor id or
// a key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace troupe {

class Node;
class RpcCounters;

class NodeMetrics final : public prometheus::Collectable {
 public:
  // `node` and `rpcs` (may be null: no RPC metrics) must outlive the
  // metrics' use.
  NodeMetrics(Node* node, const RpcCounters* rpcs);

  // prometheus::Collectable. Thread-safe (called on the exposer's threads).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Node* const node_;
  const RpcCounters* const rpcs_;
};

// The HTTP endpoint serving NodeMetrics on /metrics.
class MetricsEndpoint {
 public:
  // Listens on `listen` (host:port; port 0 picks one). As the node's own
  // port: a non-loopback address needs the cluster `secret`, and then
  // /metrics asks for HTTP basic auth, user "troupe" and the secret as the
  // password (Prometheus: basic_auth with password_file). Errors:
  // INVALID_ARGUMENT for a malformed address, FAILED_PRECONDITION for a
  // non-loopback one without a secret, UNAVAILABLE when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, const std::string& secret, Node* node,
      const RpcCounters* rpcs);
  ~MetricsEndpoint();

  // host:port as bound (the port chosen for port 0).
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint() = default;

  std::shared_ptr<NodeMetrics> metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
};

}  // namespace troupe
