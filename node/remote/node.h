// Node: an ActorSystem with a gRPC endpoint: refs carry this node's
// advertised address, and refs to other nodes' actors work like local ones
// (node/remote). The public services (node/service) register on the same
// port.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/remote/link_options.h"
#include "node/remote/remoting.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/sync.h"

namespace troupe {

struct NodeOptions {
  // host:port to bind; port 0 picks a free port (read address() back).
  std::string listen = "127.0.0.1:0";
  // host:port peers and refs use; empty = the bound address.
  std::string advertise;
  // The runtime's options (its address and incarnation are the node's).
  ActorSystemOptions system;
  LinkOptions link;
  // More services to serve on the node's port. Not owned; they must
  // outlive the node.
  std::vector<grpc::Service*> services;
  // The full names of those services, which grpc.health.v1.Health answers
  // for by name (beside "", the server as a whole).
  std::vector<std::string> service_names;
};

class Node {
 public:
  // Binds, starts serving, and starts the runtime. INVALID_ARGUMENT for a
  // malformed address; UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Node>> Start(NodeOptions options);
  // Shutdown(absl::ZeroDuration()) if that has not happened.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  ActorSystem& system() { return *system_; }
  Remoting& remoting() { return *remoting_; }
  // The advertised host:port (what refs carry).
  const std::string& address() const { return system_->address(); }
  // The port the node is bound to (its advertised address may name
  // another: a proxy, a NAT, a load balancer).
  int bound_port() const { return bound_port_; }
  uint64_t incarnation() const { return system_->incarnation(); }
  // What grpc.health.v1.Health answers for the server ("") and for each
  // of NodeOptions::service_names: SERVING or NOT_SERVING. A node starts
  // NOT_SERVING (its owner says when it is ready; gRPC's health service
  // answers SERVING for "" only in the instant between the port opening
  // and the line that sets it) and is NOT_SERVING from the start of
  // Shutdown. Health answers without the cluster secret, as NodeInfo does
  // (load balancers and Kubernetes probes carry none); TLS holds for the
  // whole port. Health and reflection are enabled process-wide (gRPC's
  // switches are global); only the node's server guards reflection with
  // the secret. Thread-safe.
  void SetServing(bool serving);

  // Leaves the cluster (peers declare this node down at once), stops every
  // actor (PoisonPill, then Stop after `grace`), ends every link (peers get
  // max(2.5 s, `grace`) to read and close; calls still open then are cut,
  // with a warning), and stops the server (calls in flight may finish
  // within `grace`). Idempotent and thread-safe (a second call returns
  // once the first is done); not from an actor.
  void Shutdown(absl::Duration grace);

 private:
  Node() = default;

  Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
  int bound_port_ = 0;
  std::unique_ptr<grpc::Service> link_service_;
  // What the reflection guard checks calls with (the remoting's auth, once
  // it exists); read by the server's threads.
  std::atomic<ClusterAuth*> reflection_auth_{nullptr};
  std::unique_ptr<ActorSystem> system_;
  std::unique_ptr<Remoting> remoting_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> service_names_;  // for health; fixed at Start
};

// Splits "host:port" / "[v6]:port"; INVALID_ARGUMENT, with an example, for
// anything else.
absl::Status SplitHostPort(const std::string& address, std::string* host,
                           int* port);
// True for a host (as SplitHostPort gives it) that only this machine can
// reach: localhost, ::1, 127.x. A node, and its metrics, bind to others
// only with a cluster secret or TLS (README "Who may talk to a node").
bool IsLoopbackHost(absl::string_view host);

}  // namespace troupe
