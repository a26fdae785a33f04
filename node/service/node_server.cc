#include "node/service/node_server.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/cluster.h"
#include "node/runtime/logging.h"
#include "node/runtime/version.h"
#include "node/service/activator.h"
#include "node/service/ingress.h"
#include "node/service/operations.h"
#include "proto/troupe.grpc.pb.h"

namespace troupe {
namespace {

// Answers Identify with the node's advertised address and incarnation,
// known only once the port is bound, after the service has been
// registered: they are set late and read under a lock.
class NodeInfoService final : public v1::NodeInfo::CallbackService {
 public:
  void set_identity(std::string address, uint64_t incarnation) {
    absl::MutexLock lock(&mu_);
    address_ = std::move(address);
    incarnation_ = incarnation;
  }

  grpc::ServerUnaryReactor* Identify(grpc::CallbackServerContext* context,
                                     const v1::IdentifyRequest* /*request*/,
                                     v1::NodeIdentity* reply) override {
    {
      absl::MutexLock lock(&mu_);
      reply->set_address(address_);
      reply->set_incarnation(incarnation_);
    }
    reply->set_version(kTroupeVersion);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  absl::Mutex mu_;
  std::string address_ ABSL_GUARDED_BY(mu_);
  uint64_t incarnation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<NodeServer>> NodeServer::Start(
    const NodeServerOptions& options) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(options.listen, &host, &port); !s.ok()) {
    return s;
  }
  if (!IsLoopbackHost(host) && options.link.secret.empty() &&
      !options.link.tls.enabled()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to listen on ", options.listen,
        " without a cluster secret or TLS: anyone who can reach that address "
        "could spawn and message actors. Give --secret_file=FILE (the same "
        "secret on every node and client) or --tls_cert/--tls_key/--tls_ca, "
        "or listen on 127.0.0.1"));
  }
  if (!IsLoopbackHost(host) && !options.link.tls.enabled()) {
    Log(LogSeverity::kWarning, "service",
        absl::StrCat("listening on ", options.listen,
                     " without TLS: the cluster secret and every message "
                     "cross the network in the clear; use TLS "
                     "(--tls_cert/--tls_key/--tls_ca) on networks you do not "
                     "trust"));
  }
  std::unique_ptr<NodeServer> server(new NodeServer());
  server->kinds_ = options.kinds;
  // The address is known once the node has bound its port, after the
  // service is registered: it is set late.
  auto node_info = std::make_unique<NodeInfoService>();
  NodeInfoService* node_info_ptr = node_info.get();
  server->node_info_ = std::move(node_info);

  ActorServiceOptions service = options.service;
  service.rpc_counters = &server->rpc_counters_;
  server->actor_service_ = NewActorService(options.kinds, service);
  server->ingress_ = std::make_unique<ActorIngress>(options.kinds, service);

  NodeOptions node_options;
  node_options.listen = options.listen;
  node_options.advertise = options.advertise;
  node_options.link = options.link;
  node_options.system = options.system;
  node_options.services = {server->node_info_.get(),
                           server->actor_service_.get()};
  for (grpc::Service* service : server->ingress_->services()) {
    node_options.services.push_back(service);
  }
  node_options.service_names = {"troupe.v1.NodeInfo", "troupe.v1.ActorService"};
  for (const std::string& name : server->ingress_->service_names()) {
    node_options.service_names.push_back(name);
  }
  absl::StatusOr<std::unique_ptr<Node>> node =
      Node::Start(std::move(node_options));
  if (!node.ok()) {
    return node.status();
  }
  server->node_ = std::move(*node);
  if (absl::Status started = StartActivator(
          server->node_->system(), *options.kinds,
          SpawnOptions{options.service.mailbox_capacity, /*kind=*/{}});
      !started.ok()) {
    return started;
  }
  if (absl::Status started = StartOperations(server->node_->system());
      !started.ok()) {
    return started;
  }
  ClusterOptions cluster_options = options.cluster;
  if (!cluster_options.activate) {  // identities are made from the kinds
    cluster_options.activate =
        [kinds = options.kinds](
            absl::string_view kind) -> absl::StatusOr<ActorFactory> {
      const Kind* found = kinds->Find(kind);
      if (found == nullptr) {
        return kinds->UnknownKind(kind);
      }
      return found->make(nullptr);
    };
  }
  absl::StatusOr<std::unique_ptr<LocalCluster>> cluster =
      StartCluster(server->node_->system(), std::move(cluster_options));
  if (!cluster.ok()) {
    return cluster.status();
  }
  server->cluster_ = *std::move(cluster);
  node_info_ptr->set_identity(server->node_->address(),
                              server->node_->incarnation());
  AttachActorService(server->actor_service_.get(), server->node_.get());
  server->ingress_->Attach(server->node_.get());
  server->node_->SetServing(true);  // grpc.health.v1: ready
  return server;
}

NodeServer::~NodeServer() { Shutdown(absl::ZeroDuration()); }

void NodeServer::ConnectPeers(const std::vector<std::string>& peers) {
  for (const std::string& peer : peers) {
    v1::LookupRequest request;
    request.set_name(std::string(kActivatorName));
    request.set_node(peer);
    Activate(node_->system(), *kinds_, SpawnOptions(), request,
             absl::Seconds(5), [peer](absl::StatusOr<v1::Pid> pid) {
               if (pid.ok()) {
                 Log(LogSeverity::kInfo, "service",
                     absl::StrCat("peer ", peer, " answered"));
               } else {
                 Log(LogSeverity::kWarning, "service",
                     absl::StrCat("peer ", peer, " did not answer (",
                                  pid.status().message(),
                                  "); it will be linked on first use"));
               }
             });
  }
}

void NodeServer::Shutdown(absl::Duration grace) {
  if (node_ != nullptr) {  // null when Start failed
    // Health answers NOT_SERVING from now on, while the port stays open
    // until the node has drained; calls waiting on asks end now
    // (UNAVAILABLE); new ones are refused.
    node_->SetServing(false);
    // The members hear that this node leaves (LEAVING) before its links
    // end (DOWN, "left the cluster").
    if (cluster_ != nullptr) {
      cluster_->Leave(
          std::clamp(grace, absl::Milliseconds(100), absl::Seconds(1)));
    }
    AttachActorService(actor_service_.get(), nullptr);
    ingress_->Attach(nullptr);
    node_->Shutdown(grace);
  }
}

}  // namespace troupe
