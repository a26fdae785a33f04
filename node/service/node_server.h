// NodeServer: a node with its public services. It starts a Node (runtime,
// node link and gRPC endpoint; port 0 picks a free port) and serves on the
// same port: NodeInfo, the public ActorService, every actor service its
// kinds serve (ActorIngress), grpc.health.v1.Health and server reflection;
// and it runs the activator actor that serves other nodes' spawn and
// lookup requests, and the cluster actor that keeps its member list
// (node/cluster/cluster.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/cluster/cluster.h"
#include "node/remote/node.h"
#include "node/service/actor_service.h"
#include "node/service/ingress.h"
#include "node/service/kinds.h"
#include "node/service/rpc_counters.h"

namespace grpc {
class Service;
}  // namespace grpc

namespace troupe {

struct NodeServerOptions {
  // host:port to bind; port 0 binds a free port (read it back from address()).
  std::string listen = "127.0.0.1:7420";
  // host:port that refs and peers use; empty = the bound address.
  std::string advertise;
  // What Spawn can make; must outlive the server.
  const KindRegistry* kinds = &KindRegistry::Global();
  ActorServiceOptions service;
  // Membership: the cluster's name and seeds (node/cluster/cluster.h).
  ClusterOptions cluster;
  LinkOptions link;
  ActorSystemOptions system;
};

class NodeServer {
 public:
  // Binds and starts serving. Fails with INVALID_ARGUMENT for a malformed
  // address, UNAVAILABLE when the address cannot be bound, and
  // FAILED_PRECONDITION for a non-loopback address with neither a cluster
  // secret (options.link.secret) nor TLS (options.link.tls): anyone who
  // could reach it could run actors.
  static absl::StatusOr<std::unique_ptr<NodeServer>> Start(
      const NodeServerOptions& options);

  // Shuts down (as Shutdown(absl::ZeroDuration())) if still serving.
  ~NodeServer();

  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  // The advertised host:port (the bound one when none was given).
  const std::string& address() const { return node_->address(); }
  // This run's incarnation (random, non-zero, fixed for the server's life).
  uint64_t incarnation() const { return node_->incarnation(); }
  // The node: its actor system and links.
  Node& node() { return *node_; }
  // Finished public calls by method and code (for the metrics).
  RpcCounters& rpc_counters() { return rpc_counters_; }

  // Links to each of `peers` (host:port) now rather than on first use, and
  // logs whether each answered. Returns at once.
  void ConnectPeers(const std::vector<std::string>& peers);

  // Stops accepting calls and lets calls in flight finish until `grace` has
  // passed, then cancels them. Idempotent. Thread-safe.
  void Shutdown(absl::Duration grace);

 private:
  NodeServer() = default;

  RpcCounters rpc_counters_;  // before the services that count into it
  std::unique_ptr<grpc::Service> node_info_;
  std::unique_ptr<v1::ActorService::CallbackService> actor_service_;
  std::unique_ptr<ActorIngress> ingress_;
  const KindRegistry* kinds_ = nullptr;
  std::unique_ptr<Node> node_;             // after the services it serves
  std::unique_ptr<LocalCluster> cluster_;  // null when Start failed
};

}  // namespace troupe
