// ServiceClient: a test's client of one node's public ActorService, through
// the generated stub, as a client in any gRPC language calls it; and
// StartTestNode, an in-process node on a free loopback port. Every call is
// bounded by kCallTimeout, so a call that never ends fails the test rather
// than hanging it. Not thread-safe per object except where said.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "node/service/node_server.h"
#include "proto/troupe.grpc.pb.h"

namespace troupe::testing {

// How long any one call may take before the test calls it hung.
inline constexpr absl::Duration kCallTimeout = absl::Seconds(10);

// `message` packed in an Any.
google::protobuf::Any Pack(const google::protobuf::Message& message);
// A StringValue holding `text`, packed.
google::protobuf::Any PackText(const std::string& text);

// Starts a node on 127.0.0.1:0 with `options` (its `listen` is replaced
// when empty); null, with a test failure, if it does not start.
std::unique_ptr<NodeServer> StartTestNode(NodeServerOptions options = {});

// One Watch call, read with the call's deadline (kCallTimeout unless told).
class WatchStream {
 public:
  WatchStream(v1::ActorService::Stub& stub, const v1::Pid& target,
              absl::Duration timeout);
  // Waits for the response headers ("the watch is in place"), or for the
  // call to end first (then Next returns false).
  void WaitInPlace();
  // The one Terminated; false when the stream ended without one (the
  // deadline passed, or the call failed: see Finish).
  bool Next(v1::Terminated* terminated);
  // The call's status once it has ended (after Next returned false, or
  // after the one Terminated, when no second one may come).
  grpc::Status Finish();

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::Terminated>> reader_;
};

// One Inbox stream: its Pid, tells and asks sent from it, and what comes.
class InboxStream {
 public:
  InboxStream(v1::ActorService::Stub& stub, absl::Duration timeout);
  // The inbox's Pid (empty, with a test failure, if the stream failed).
  const v1::Pid& pid() const { return pid_; }
  // Sends a tell whose sender is the inbox; false once the stream ended.
  bool Tell(const v1::Pid& target, const google::protobuf::Any& message);
  // The next event; false when the stream ended (or its deadline passed).
  bool Read(v1::InboxEvent* event);
  // Cancels the call, as a client that gives up does.
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::InboxRequest, v1::InboxEvent>>
      stream_;
  v1::Pid pid_;
};

class ServiceClient {
 public:
  // A client of the node at `address` (host:port; any spelling of it).
  explicit ServiceClient(const std::string& address);

  grpc::Status Spawn(const std::string& kind, const std::string& name,
                     v1::Pid* pid, const google::protobuf::Any* init = nullptr,
                     const std::string& node = "");
  // Spawns or fails the test; the Pid (empty on failure).
  v1::Pid MustSpawn(const std::string& kind, const std::string& name,
                    const google::protobuf::Any* init = nullptr,
                    const std::string& node = "");
  grpc::Status Lookup(const std::string& name, v1::Pid* pid,
                      const std::string& node = "");
  grpc::Status Tell(const v1::Pid& target, const google::protobuf::Any& message,
                    const v1::Pid* sender = nullptr);
  grpc::Status Ask(const v1::Pid& target, const google::protobuf::Any& message,
                   google::protobuf::Any* reply,
                   absl::Duration timeout = absl::Seconds(5));
  grpc::Status Stop(const v1::Pid& target, bool graceful = false);
  grpc::Status Stats(v1::StatsReply* stats);
  // Opens a Watch of `target` (read it from the stream).
  std::unique_ptr<WatchStream> Watch(const v1::Pid& target,
                                     absl::Duration timeout = kCallTimeout);
  // Opens an Inbox stream and reads its Pid.
  std::unique_ptr<InboxStream> Inbox(absl::Duration timeout = kCallTimeout);
  // A counter's value through an ask; -1, with a test failure, on error.
  int64_t CounterValue(const v1::Pid& counter);

  v1::ActorService::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<v1::ActorService::Stub> stub_;
};

// Two nodes, for tests that run each case on the node of the actors and
// through another node: `home` holds the actors; `via` is another node,
// whose calls reach home over the node link. Derive a fixture from it.
struct NodePair {
  // Starts both nodes and their clients; false, with a test failure, if
  // either did not start.
  bool StartNodes(NodeServerOptions home_options = {},
                  NodeServerOptions via_options = {});
  // Home's own client, or via's.
  ServiceClient& client_of(bool through_via) {
    return through_via ? *via_client : *home_client;
  }

  std::unique_ptr<NodeServer> home;
  std::unique_ptr<NodeServer> via;
  std::unique_ptr<ServiceClient> home_client;
  std::unique_ptr<ServiceClient> via_client;
};

}  // namespace troupe::testing
