#include "node/remote/node.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/remote/cluster_auth.h"
#include "node/remote/frame_codec.h"
#include "node/remote/grpc_lifetime.h"
#include "node/remote/reflection_guard.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/incarnation.h"

namespace troupe {

bool IsLoopbackHost(absl::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" ||
         absl::StartsWith(host, "127.");
}

absl::Status SplitHostPort(const std::string& address, std::string* host,
                           int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), port) || *port < 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address '", address, "' is not host:port (e.g. 127.0.0.1:7420)"));
  }
  *host = address.substr(0, colon);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Node>> Node::Start(NodeOptions options) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(options.listen, &host, &port); !s.ok()) {
    return s;
  }
  if (options.advertise.empty() &&
      (host == "0.0.0.0" || host == "::" || host == "[::]")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listening on ", options.listen,
        " (every interface) needs --advertise=host:port: the address peers "
        "and refs use to reach this node"));
  }
  if (!options.advertise.empty()) {
    std::string advertise_host;
    int advertise_port = 0;
    if (absl::Status s =
            SplitHostPort(options.advertise, &advertise_host, &advertise_port);
        !s.ok()) {
      return s;
    }
    if (advertise_port == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--advertise '", options.advertise, "' needs a real port, not 0"));
    }
  }

  KeepGrpcAlive();
  LimitProtobufLogs();
  std::unique_ptr<Node> node(new Node());
  node->link_service_ = Remoting::NewService();
  int bound_port = 0;
  // Every node serves grpc.health.v1.Health and server reflection
  // (grpc.reflection.v1alpha), so generic tools and probes work on it.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which would let a second node bind a
  // port in use and split its traffic; a node's address must be its own.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(MaxFrameBytes(options.link)));
  builder.AddListeningPort(
      options.listen, NodeServerCredentials(options.link.tls), &bound_port);
  builder.RegisterService(node->link_service_.get());
  // The reflection guard only where there is a secret to check: gRPC runs
  // its interception machinery for every call on the port once any
  // interceptor is installed (measured: about 13 % of typed calls/s at 64
  // in flight), and without a secret there is nothing to guard (TLS holds
  // for the whole port).
  if (!options.link.secret.empty()) {
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(NewReflectionGuard(&node->reflection_auth_));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  for (grpc::Service* service : options.services) {
    builder.RegisterService(service);
  }
  node->server_ = builder.BuildAndStart();
  if (node->server_ == nullptr || bound_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, or not an address of this host?)"));
  }

  node->bound_port_ = bound_port;
  node->service_names_ = options.service_names;
  node->SetServing(false);
  // The address is known only now that the port is bound; until the
  // remoting is attached, link calls are refused.
  ActorSystemOptions system_options = std::move(options.system);
  system_options.address = options.advertise.empty()
                               ? absl::StrCat(host, ":", bound_port)
                               : options.advertise;
  if (system_options.incarnation == 0) {
    system_options.incarnation = NewIncarnation();
  }
  node->system_ = std::make_unique<ActorSystem>(std::move(system_options));
  node->remoting_ =
      std::make_unique<Remoting>(node->system_.get(), std::move(options.link));
  runtime_internal::SystemInternals::SetRemoteResolver(*node->system_,
                                                       node->remoting_.get());
  // The address this node is bound to names it for sure; every other
  // spelling is known by its handshake.
  if (const std::string bound = absl::StrCat(host, ":", bound_port);
      bound != node->system_->address() && host != "0.0.0.0" && host != "::" &&
      host != "[::]") {
    node->remoting_->AddAlias(bound, "");
  }
  node->reflection_auth_.store(&node->remoting_->auth(),
                               std::memory_order_release);
  Remoting::Attach(node->link_service_.get(), node->remoting_.get());
  node->remoting_->Start();
  return node;
}

Node::~Node() {
  Shutdown(absl::ZeroDuration());
  server_.reset();
  system_.reset();  // its timers and workers stop before the remoting goes
  remoting_.reset();
}

void Node::Shutdown(absl::Duration grace) {
  MutexLock lock(&shutdown_mu_);  // a second caller waits for the first
  if (shut_down_ || remoting_ == nullptr) {
    return;  // done, or Start failed before the node was complete
  }
  shut_down_ = true;
  SetServing(false);
  remoting_->Leave(std::min(grace, absl::Seconds(1)));
  system_->Shutdown(grace);
  system_->AwaitTermination();
  // Peers get this long to read what is on the calls and end them: at
  // least 2.5 s, and more with a longer grace.
  remoting_->Shutdown(std::max(absl::Milliseconds(2500), grace));
  Remoting::Attach(link_service_.get(), nullptr);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

void Node::SetServing(bool serving) {
  if (grpc::HealthCheckServiceInterface* health =
          server_->GetHealthCheckService()) {
    // The server as a whole last: who sees "" change finds every
    // service changed already.
    for (const std::string& name : service_names_) {
      health->SetServingStatus(name, serving);
    }
    health->SetServingStatus("", serving);
  }
}

}  // namespace troupe
