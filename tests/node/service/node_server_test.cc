// A real gRPC round trip: a node on a free port, a client calling it.
#include "node/service/node_server.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "proto/troupe.grpc.pb.h"

namespace troupe {
namespace {

std::unique_ptr<NodeServer> StartOnFreePort() {
  NodeServerOptions options;
  options.listen = "127.0.0.1:0";
  auto node = NodeServer::Start(options);
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? std::move(*node) : nullptr;
}

grpc::Status Identify(const std::string& address, v1::NodeIdentity* identity) {
  auto stub = v1::NodeInfo::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return stub->Identify(&context, v1::IdentifyRequest(), identity);
}

TEST(NodeServerTest, BindsAFreePortAndAnswersIdentify) {
  std::unique_ptr<NodeServer> node = StartOnFreePort();
  ASSERT_NE(node, nullptr);
  EXPECT_TRUE(absl::StartsWith(node->address(), "127.0.0.1:"));
  EXPECT_NE(node->address(), "127.0.0.1:0");
  EXPECT_NE(node->incarnation(), 0u);

  v1::NodeIdentity identity;
  grpc::Status status = Identify(node->address(), &identity);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(identity.address(), node->address());
  EXPECT_EQ(identity.incarnation(), node->incarnation());
  EXPECT_FALSE(identity.version().empty());
}

TEST(NodeServerTest, TwoNodesHaveDistinctPortsAndIncarnations) {
  std::unique_ptr<NodeServer> a = StartOnFreePort();
  std::unique_ptr<NodeServer> b = StartOnFreePort();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->address(), b->address());
  EXPECT_NE(a->incarnation(), b->incarnation());
}

TEST(NodeServerTest, AdvertisedAddressIsWhatItReports) {
  NodeServerOptions options;
  options.listen = "127.0.0.1:0";
  options.advertise = "node-a.example:7420";
  auto node = NodeServer::Start(options);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)->address(), "node-a.example:7420");
}

TEST(NodeServerTest, RejectsMalformedAddresses) {
  for (const char* bad : {"", "7420", "127.0.0.1", "127.0.0.1:http",
                          "127.0.0.1:70000", ":7420"}) {
    NodeServerOptions options;
    options.listen = bad;
    auto node = NodeServer::Start(options);
    EXPECT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument)
        << "listen='" << bad << "'";
  }
}

TEST(NodeServerTest, PortInUseIsUnavailable) {
  std::unique_ptr<NodeServer> first = StartOnFreePort();
  ASSERT_NE(first, nullptr);
  NodeServerOptions options;
  options.listen = first->address();
  auto second = NodeServer::Start(options);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST(NodeServerTest, RefusesCallsAfterShutdown) {
  std::unique_ptr<NodeServer> node = StartOnFreePort();
  ASSERT_NE(node, nullptr);
  const std::string address = node->address();
  node->Shutdown(absl::ZeroDuration());
  node->Shutdown(absl::ZeroDuration());  // idempotent

  auto stub = v1::NodeInfo::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  v1::NodeIdentity identity;
  grpc::Status status =
      stub->Identify(&context, v1::IdentifyRequest(), &identity);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace troupe
