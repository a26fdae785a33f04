// The standard gRPC services every node serves, as a generic tool or a
// probe calls them: grpc.health.v1.Health (SERVING once ready; NOT_SERVING
// from the start of shutdown, while the port is still open; no secret
// needed) and server reflection (lists the actor services; the cluster
// secret applies).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "node/service/node_server.h"
#include "tests/node/typed/echo_actors.h"
#include "tests/testing/health.grpc.pb.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr absl::Duration kWait = absl::Seconds(10);

// What Health answers for `service` ("": the server as a whole).
HealthCheckResponse::ServingStatus Check(grpc::health::v1::Health::Stub& stub,
                                         const std::string& service = "") {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub.Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

std::unique_ptr<grpc::health::v1::Health::Stub> HealthStub(
    const std::string& address) {
  return grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

// Blocks in Receive until released, so the node's shutdown waits for it.
struct Blocker {
  absl::Notification entered;
  absl::Notification release;
};

TEST(HealthTest, ServingOnceReadyAndNotServingFromTheStartOfShutdown) {
  NodeServerOptions options;
  options.link.secret = "s3cret";  // health answers without it
  std::unique_ptr<NodeServer> node = testing::StartTestNode(options);
  ASSERT_NE(node, nullptr);
  auto stub = HealthStub(node->address());
  EXPECT_EQ(Check(*stub), HealthCheckResponse::SERVING);
  for (const char* service : {"troupe.v1.ActorService", "troupe.test.Echo"}) {
    EXPECT_EQ(Check(*stub, service), HealthCheckResponse::SERVING) << service;
  }

  // A watch sees the flip as it happens.
  grpc::ClientContext watch_context;
  watch_context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  auto watch = stub->Watch(&watch_context, HealthCheckRequest());
  HealthCheckResponse seen;
  ASSERT_TRUE(watch->Read(&seen));
  EXPECT_EQ(seen.status(), HealthCheckResponse::SERVING);

  auto blocker = std::make_shared<Blocker>();
  absl::StatusOr<ActorRef> busy = node->node().system().Spawn(
      FromBehavior([blocker](ActorContext&, const Message&) {
        blocker->entered.Notify();
        blocker->release.WaitForNotification();
        return absl::OkStatus();
      }));
  ASSERT_TRUE(busy.ok());
  node->node().system().Tell(*busy, Text("block"));
  blocker->entered.WaitForNotification();

  std::thread shutdown([&] { node->Shutdown(absl::Seconds(30)); });
  ASSERT_TRUE(watch->Read(&seen));
  EXPECT_EQ(seen.status(), HealthCheckResponse::NOT_SERVING);
  // The port is still open (the node waits for the busy actor), and says
  // so to a new probe.
  EXPECT_EQ(Check(*stub), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check(*stub, "troupe.test.Echo"), HealthCheckResponse::NOT_SERVING);
  watch_context.TryCancel();  // or the server waits out its deadline
  blocker->release.Notify();
  shutdown.join();
}

// One ServerReflectionInfo exchange asking for the service list, with the
// reflection messages from the generated pool (libgrpc++_reflection
// registers them) over a generic call. The names, or the call's status.
absl::StatusOr<std::vector<std::string>> ListServices(
    const std::string& address, const std::string& secret) {
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  const google::protobuf::Descriptor* request_type =
      pool->FindMessageTypeByName(
          "grpc.reflection.v1alpha.ServerReflectionRequest");
  const google::protobuf::Descriptor* response_type =
      pool->FindMessageTypeByName(
          "grpc.reflection.v1alpha.ServerReflectionResponse");
  if (request_type == nullptr || response_type == nullptr) {
    return absl::InternalError("reflection types are not linked in");
  }
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<google::protobuf::Message> request(
      factory->GetPrototype(request_type)->New());
  request->GetReflection()->SetString(
      request.get(), request_type->FindFieldByName("list_services"), "*");
  std::string bytes = request->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer out(&slice, 1);

  grpc::GenericStub stub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  if (!secret.empty()) {
    context.AddMetadata("x-troupe-secret", secret);
  }
  auto call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  auto step = [&queue](auto start) {
    start(reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    return queue.Next(&tag, &ok) && ok;
  };
  grpc::ByteBuffer in;
  bool read = step([&](void* t) { call->StartCall(t); }) &&
              step([&](void* t) { call->Write(out, t); }) &&
              step([&](void* t) { call->WritesDone(t); }) &&
              step([&](void* t) { call->Read(&in, t); });
  grpc::Status status;
  step([&](void* t) { call->Finish(&status, t); });
  queue.Shutdown();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  if (!read) {
    return absl::InternalError("no reflection response");
  }
  std::vector<grpc::Slice> slices;
  (void)in.Dump(&slices);
  std::string response_bytes;
  for (const grpc::Slice& s : slices) {
    response_bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  std::unique_ptr<google::protobuf::Message> response(
      factory->GetPrototype(response_type)->New());
  if (!response->ParseFromString(response_bytes)) {
    return absl::InternalError("the reflection response does not parse");
  }
  const google::protobuf::Message& list = response->GetReflection()->GetMessage(
      *response, response_type->FindFieldByName("list_services_response"));
  const google::protobuf::FieldDescriptor* services =
      list.GetDescriptor()->FindFieldByName("service");
  std::vector<std::string> names;
  for (int i = 0; i < list.GetReflection()->FieldSize(list, services); ++i) {
    const google::protobuf::Message& service =
        list.GetReflection()->GetRepeatedMessage(list, services, i);
    names.push_back(service.GetReflection()->GetString(
        service, service.GetDescriptor()->FindFieldByName("name")));
  }
  return names;
}

TEST(ReflectionTest, ListsTheActorServicesBesideTheNodesOwn) {
  std::unique_ptr<NodeServer> node = testing::StartTestNode();
  ASSERT_NE(node, nullptr);
  absl::StatusOr<std::vector<std::string>> names =
      ListServices(node->address(), "");
  ASSERT_TRUE(names.ok()) << names.status();
  for (const char* expected :
       {"troupe.test.Echo", "troupe.v1.ActorService", "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection"}) {
    EXPECT_TRUE(absl::c_linear_search(*names, expected))
        << expected << " is not listed";
  }
}

TEST(ReflectionTest, NeedsTheClusterSecret) {
  NodeServerOptions options;
  options.link.secret = "s3cret";
  std::unique_ptr<NodeServer> node = testing::StartTestNode(options);
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(ListServices(node->address(), "").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ListServices(node->address(), "wrong").status().code(),
            absl::StatusCode::kUnauthenticated);
  absl::StatusOr<std::vector<std::string>> names =
      ListServices(node->address(), "s3cret");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_TRUE(absl::c_linear_search(*names, "troupe.test.Echo"));
}

}  // namespace
}  // namespace troupe
