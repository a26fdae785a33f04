// troupe_rpc_calls_total's counts (rpc_counters.h): every public call is
// counted once, with the code it really ended with, whoever ends it: its
// handler, an ask's callback, the node's shutdown, or the client leaving.
#include "node/service/rpc_counters.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/service/node_server.h"
#include "proto/troupe.grpc.pb.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

uint64_t CallsOf(const RpcCounters& rpcs, absl::string_view method,
                 grpc::StatusCode code) {
  uint64_t calls = 0;
  for (const RpcCounters::Series& series : rpcs.Read()) {
    if (series.method == method && series.code == code) {
      calls += series.calls;
    }
  }
  return calls;
}

// Until `method` has been counted with `code`, or 10 s (the server ends a
// stream on its own threads, after the client has seen it end).
bool AwaitCounted(const RpcCounters& rpcs, absl::string_view method,
                  grpc::StatusCode code) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (CallsOf(rpcs, method, code) == 0) {
    if (absl::Now() > deadline) {
      return false;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

std::unique_ptr<NodeServer> StartNode() {
  NodeServerOptions options;
  options.listen = "127.0.0.1:0";
  auto node = NodeServer::Start(options);
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? std::move(*node) : nullptr;
}

google::protobuf::Any Text(const std::string& text) {
  google::protobuf::StringValue value;
  value.set_value(text);
  google::protobuf::Any any;
  any.PackFrom(value);
  return any;
}

TEST(RpcCountersTest, SeriesAreBoundedAndPathsSpelledAsGrpcDoes) {
  RpcCounters rpcs;
  for (size_t i = 0; i < RpcCounters::kMaxSeries + 10; ++i) {
    rpcs.Count(absl::StrCat("/made.Up/M", i), 0);
  }
  EXPECT_EQ(rpcs.Read().size(), RpcCounters::kMaxSeries + 1);
  EXPECT_EQ(CallsOf(rpcs, RpcCounters::kOtherMethod, grpc::StatusCode::OK),
            10u);
  const google::protobuf::MethodDescriptor* ask =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          "troupe.v1.ActorService.Ask");
  ASSERT_NE(ask, nullptr);
  EXPECT_EQ(RpcCounters::Path(*ask), "/troupe.v1.ActorService/Ask");
}

// An Ask still waiting when the node shuts down ends UNAVAILABLE, and is
// counted so. Before, the calls PendingCalls::Close finished were not
// counted at all.
TEST(RpcCountingTest, AnAskEndedByShutdownIsCountedUnavailable) {
  std::unique_ptr<NodeServer> server = StartNode();
  ASSERT_NE(server, nullptr);
  testing::ServiceClient client(server->address());
  std::unique_ptr<testing::InboxStream> inbox = client.Inbox();
  // An ask of the client's own inbox waits for an answer that never comes.
  grpc::Status asked;
  std::thread asker([&] {
    google::protobuf::Any reply;
    asked = client.Ask(inbox->pid(), Text("hold"), &reply, absl::Seconds(60));
  });
  v1::InboxEvent event;
  // The ask arrived: the call is held. (No ASSERT before the join: the
  // shutdown below ends the ask either way.)
  EXPECT_TRUE(inbox->Read(&event));
  EXPECT_TRUE(event.has_delivery()) << event.DebugString();
  server->Shutdown(absl::ZeroDuration());
  asker.join();
  EXPECT_EQ(asked.error_code(), grpc::StatusCode::UNAVAILABLE)
      << asked.error_message();
  EXPECT_EQ(CallsOf(server->rpc_counters(), "/troupe.v1.ActorService/Ask",
                    grpc::StatusCode::UNAVAILABLE),
            1u);
}

// An Inbox the client cancels is counted CANCELLED, not OK.
TEST(RpcCountingTest, AnInboxTheClientCancelsIsCountedCancelled) {
  std::unique_ptr<NodeServer> server = StartNode();
  ASSERT_NE(server, nullptr);
  testing::ServiceClient client(server->address());
  std::unique_ptr<testing::InboxStream> inbox = client.Inbox();
  ASSERT_FALSE(inbox->pid().id().empty());
  inbox->Cancel();
  EXPECT_TRUE(AwaitCounted(server->rpc_counters(),
                           "/troupe.v1.ActorService/Inbox",
                           grpc::StatusCode::CANCELLED));
  EXPECT_EQ(CallsOf(server->rpc_counters(), "/troupe.v1.ActorService/Inbox",
                    grpc::StatusCode::OK),
            0u);
}

}  // namespace
}  // namespace troupe
