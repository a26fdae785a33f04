#include "node/service/node_server.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/runtime/incarnation.h"
#include "node/runtime/version.h"
#include "proto/troupe.grpc.pb.h"

namespace troupe {
namespace {

// Answers Identify with the node's advertised address and incarnation. The
// address is known only once the port is bound, after the service has been
// registered, so it is set late and read under a lock.
class NodeInfoService final : public v1::NodeInfo::CallbackService {
 public:
  explicit NodeInfoService(uint64_t incarnation) : incarnation_(incarnation) {}

  void set_address(std::string address) {
    absl::MutexLock lock(&mu_);
    address_ = std::move(address);
  }

  grpc::ServerUnaryReactor* Identify(grpc::CallbackServerContext* context,
                                     const v1::IdentifyRequest* /*request*/,
                                     v1::NodeIdentity* reply) override {
    {
      absl::MutexLock lock(&mu_);
      reply->set_address(address_);
    }
    reply->set_incarnation(incarnation_);
    reply->set_version(kTroupeVersion);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const uint64_t incarnation_;
  absl::Mutex mu_;
  std::string address_ ABSL_GUARDED_BY(mu_);
};

// Splits "host:port" / "[v6]:port" at the last colon.
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

}  // namespace

absl::StatusOr<std::unique_ptr<NodeServer>> NodeServer::Start(
    const NodeServerOptions& options) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(options.listen, &host, &port); !s.ok()) {
    return s;
  }
  if (!options.advertise.empty()) {
    std::string advertise_host;
    int advertise_port = 0;
    if (absl::Status s =
            SplitHostPort(options.advertise, &advertise_host, &advertise_port);
        !s.ok()) {
      return s;
    }
  }

  std::unique_ptr<NodeServer> node(new NodeServer());
  node->incarnation_ = NewIncarnation();
  auto node_info = std::make_unique<NodeInfoService>(node->incarnation_);
  NodeInfoService* node_info_ptr = node_info.get();
  node->node_info_ = std::move(node_info);

  int bound_port = 0;
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which would let a second node bind a
  // port in use and split its traffic; a node's address must be its own.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &bound_port);
  builder.RegisterService(node->node_info_.get());
  node->server_ = builder.BuildAndStart();
  if (node->server_ == nullptr || bound_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, or not an address of this host?)"));
  }
  node->address_ = options.advertise.empty()
                       ? absl::StrCat(host, ":", bound_port)
                       : options.advertise;
  node_info_ptr->set_address(node->address_);
  return node;
}

NodeServer::~NodeServer() { Shutdown(absl::ZeroDuration()); }

void NodeServer::Shutdown(absl::Duration grace) {
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
}

}  // namespace troupe
