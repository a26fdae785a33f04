// The cluster secret: clients and node links without it (or with another)
// are refused and counted; with it they work; a public address without it
// is refused at start.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "node/remote/cluster_auth.h"
#include "node/service/node_server.h"
#include "proto/troupe.grpc.pb.h"

namespace troupe {
namespace {

std::unique_ptr<NodeServer> StartNode(const std::string& secret) {
  NodeServerOptions options;
  options.listen = "127.0.0.1:0";
  options.link.secret = secret;
  auto node = NodeServer::Start(options);
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? std::move(*node) : nullptr;
}

// A client call with `secret` in its metadata ("" = none).
class Client {
 public:
  Client(const std::string& address, std::string secret)
      : stub_(v1::ActorService::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))),
        secret_(std::move(secret)) {}

  grpc::Status Spawn(const std::string& kind, const std::string& node,
                     v1::Pid* pid) {
    v1::SpawnRequest request;
    request.set_kind(kind);
    request.set_node(node);
    grpc::ClientContext context;
    Prepare(&context);
    return stub_->Spawn(&context, request, pid);
  }

  grpc::Status Stats(v1::StatsReply* stats) {
    grpc::ClientContext context;
    Prepare(&context);
    return stub_->Stats(&context, v1::StatsRequest(), stats);
  }

 private:
  void Prepare(grpc::ClientContext* context) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (!secret_.empty()) {
      context->AddMetadata(kSecretMetadataKey, secret_);
    }
  }

  std::unique_ptr<v1::ActorService::Stub> stub_;
  const std::string secret_;
};

TEST(AuthTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3creT"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3cret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(AuthTest, SecretFileIsTrimmedAndChecked) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string good = dir + "/good";
  std::ofstream(good) << "  s3cret\n";
  absl::StatusOr<std::string> secret = ReadSecretFile(good);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "s3cret");

  const std::string binary = dir + "/binary";
  std::ofstream(binary) << "a\x01z";
  EXPECT_EQ(ReadSecretFile(binary).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadSecretFile(dir + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(AuthTest, ClientsNeedTheSecretAndRefusalsAreCounted) {
  std::unique_ptr<NodeServer> node = StartNode("s3cret");
  ASSERT_NE(node, nullptr);
  v1::Pid pid;

  grpc::Status none = Client(node->address(), "").Spawn("echo", "", &pid);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(none.error_message(), "x-troupe-secret"));
  EXPECT_FALSE(absl::StrContains(none.error_message(), "s3cret"));

  grpc::Status wrong = Client(node->address(), "guess").Spawn("echo", "", &pid);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(absl::StrContains(wrong.error_message(), "s3cret"));

  Client right(node->address(), "s3cret");
  grpc::Status spawned = right.Spawn("echo", "", &pid);
  EXPECT_TRUE(spawned.ok()) << spawned.error_message();
  v1::StatsReply stats;
  ASSERT_TRUE(right.Stats(&stats).ok());
  EXPECT_EQ(stats.unauthenticated_calls(), 2u);

  // NodeInfo answers anyone (health checks).
  auto info = v1::NodeInfo::NewStub(
      grpc::CreateChannel(node->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::NodeIdentity identity;
  EXPECT_TRUE(info->Identify(&context, v1::IdentifyRequest(), &identity).ok());
}

TEST(AuthTest, NodeLinksNeedTheSameSecret) {
  std::unique_ptr<NodeServer> a = StartNode("s3cret");
  std::unique_ptr<NodeServer> b = StartNode("s3cret");
  std::unique_ptr<NodeServer> stranger = StartNode("other");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(stranger, nullptr);

  v1::Pid pid;
  grpc::Status across =
      Client(a->address(), "s3cret").Spawn("counter", b->address(), &pid);
  EXPECT_TRUE(across.ok()) << across.error_message();
  EXPECT_EQ(pid.address(), b->address());

  // The stranger's link to A is refused: the forwarded spawn cannot happen.
  grpc::Status refused =
      Client(stranger->address(), "other").Spawn("counter", a->address(), &pid);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE)
      << refused.error_message();
  v1::StatsReply stats;
  ASSERT_TRUE(Client(a->address(), "s3cret").Stats(&stats).ok());
  EXPECT_GE(stats.unauthenticated_calls(), 1u);
}

TEST(AuthTest, PublicAddressWithoutSecretIsRefused) {
  NodeServerOptions options;
  options.listen = "0.0.0.0:0";
  options.advertise = "127.0.0.1:1";
  auto node = NodeServer::Start(options);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(node.status().message(), "secret"));
}

}  // namespace
}  // namespace troupe
