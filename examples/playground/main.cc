// playground: the main demo. Until the examples issue brings pyctor's
// ping-pong across nodes, it starts a node on a free port, reaches it over
// gRPC as a client would, prints what the node says about itself, and stops.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "node/service/node_server.h"
#include "proto/troupe.grpc.pb.h"

int main() {
  troupe::NodeServerOptions options;
  options.listen = "127.0.0.1:0";
  auto node = troupe::NodeServer::Start(options);
  if (!node.ok()) {
    std::fprintf(stderr, "playground: %s\n", node.status().ToString().c_str());
    return 1;
  }
  std::printf("node:   listening on %s, incarnation %016llx\n",
              (*node)->address().c_str(),
              static_cast<unsigned long long>((*node)->incarnation()));

  auto stub = troupe::v1::NodeInfo::NewStub(grpc::CreateChannel(
      (*node)->address(), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    troupe::v1::NodeIdentity identity;
    const absl::Time start = absl::Now();
    grpc::Status status =
        stub->Identify(&context, troupe::v1::IdentifyRequest(), &identity);
    const absl::Duration rtt = absl::Now() - start;
    if (!status.ok()) {
      std::fprintf(stderr, "playground: Identify failed: %s\n",
                   status.error_message().c_str());
      return 1;
    }
    std::printf("client: Identify -> %s incarnation %016llx version %s (%s)\n",
                identity.address().c_str(),
                static_cast<unsigned long long>(identity.incarnation()),
                identity.version().c_str(), absl::FormatDuration(rtt).c_str());
  }
  (*node)->Shutdown(absl::Seconds(1));
  std::printf("node:   stopped\n");
  return 0;
}
