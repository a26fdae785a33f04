// Remoting with real node processes: kill -9, restart on the same port,
// SIGSTOP/SIGCONT, and graceful shutdown, seen from a node in this process.
#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "node/remote/node.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "tests/testing/child_process.h"

namespace troupe {
namespace {

using ::troupe::testing::ChildProcess;

constexpr absl::Duration kWait = absl::Seconds(10);
constexpr char kTestNode[] = "tests/node/remote/test_node";

struct Peer {
  std::unique_ptr<ChildProcess> process;
  std::string address;
  uint64_t incarnation = 0;
};

// Starts a test node and reads its ready line.
Peer StartPeer(const std::string& listen = "127.0.0.1:0") {
  Peer peer;
  auto process = ChildProcess::Start(kTestNode, {"--listen=" + listen});
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) {
    return peer;
  }
  peer.process = std::move(*process);
  auto line = peer.process->ReadLineStartingWith("ready ", kWait);
  EXPECT_TRUE(line.ok()) << line.status();
  if (line.ok()) {
    std::vector<std::string> parts = absl::StrSplit(*line, ' ');
    EXPECT_EQ(parts.size(), 3u) << *line;
    if (parts.size() == 3) {
      peer.address = parts[1];
      EXPECT_TRUE(absl::SimpleAtoi(parts[2], &peer.incarnation));
    }
  }
  return peer;
}

class NodeFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NodeOptions options;
    options.system.threads = 2;
    auto node = Node::Start(std::move(options));
    ASSERT_TRUE(node.ok()) << node.status();
    local_ = std::move(*node);
    peer_ = StartPeer();
    ASSERT_FALSE(peer_.address.empty());
  }

  ActorRef Echo(uint64_t incarnation = 0) {
    return local_->system().Resolve(Pid{peer_.address, "echo", incarnation});
  }

  // Watches the peer's echo from an inbox, with a round trip first so the
  // watch is in place.
  void WatchEcho(Inbox& inbox) {
    inbox.Watch(Echo());
    auto reply = local_->system().Ask(Echo(), Text("sync"), kWait).get();
    ASSERT_TRUE(reply.ok()) << reply.status();
  }

  // The next Terminated in `inbox`, and how long it took from `since`.
  static absl::StatusOr<Terminated> AwaitTerminated(Inbox& inbox) {
    return inbox.ReceiveAs<Terminated>(kWait);
  }

  std::unique_ptr<Node> local_;
  Peer peer_;
};

TEST_F(NodeFailureTest, KillNineIsReportedAsNodeDownWithinASecond) {
  Inbox inbox(local_->system());
  WatchEcho(inbox);
  const absl::Time killed = absl::Now();
  peer_.process->Signal(SIGKILL);
  auto terminated = AwaitTerminated(inbox);
  const absl::Duration took = absl::Now() - killed;
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->reason(), kNodeDown);
  EXPECT_EQ(terminated->ref().id(), "echo");
  EXPECT_LT(took, absl::Seconds(1));
  ASSERT_TRUE(peer_.process->Wait(kWait).ok());
}

TEST_F(NodeFailureTest, RestartedNodeIsANewIncarnation) {
  // A ref carrying the first incarnation (as a reply's sender would).
  const ActorRef old_echo = Echo(peer_.incarnation);
  ASSERT_TRUE(local_->system().Ask(old_echo, Text("hello"), kWait).get().ok());
  Inbox inbox(local_->system());
  WatchEcho(inbox);
  peer_.process->Signal(SIGKILL);
  ASSERT_TRUE(peer_.process->Wait(kWait).ok());
  auto terminated = AwaitTerminated(inbox);
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->reason(), kNodeDown);

  const std::string address = peer_.address;
  const uint64_t old_incarnation = peer_.incarnation;
  peer_ = StartPeer(address);
  ASSERT_EQ(peer_.address, address);
  EXPECT_NE(peer_.incarnation, old_incarnation);

  // The link comes back by itself: the old ref is a dead letter there...
  auto old_answer = local_->system().Ask(old_echo, Text("hello"), kWait).get();
  EXPECT_EQ(old_answer.status().code(), absl::StatusCode::kNotFound)
      << old_answer.status();
  // ...and the new actor of the same name answers.
  auto new_answer = local_->system().Ask(Echo(), Text("hello"), kWait).get();
  ASSERT_TRUE(new_answer.ok()) << new_answer.status();
  EXPECT_TRUE(IsText(**new_answer, "hello"));
  // The watch that fired stays fired.
  EXPECT_EQ(inbox.Receive(absl::ZeroDuration()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(NodeFailureTest, FrozenNodeIsReportedDownAndComesBack) {
  Inbox inbox(local_->system());
  WatchEcho(inbox);
  const absl::Time stopped = absl::Now();
  peer_.process->Signal(SIGSTOP);
  auto terminated = AwaitTerminated(inbox);
  const absl::Duration took = absl::Now() - stopped;
  peer_.process->Signal(SIGCONT);
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->reason(), kNodeDown);
  // Within the failure threshold (600 ms) plus one tick, with room for a
  // loaded machine; and not before the threshold, counted from the last
  // heartbeat heard, which came up to one interval before the SIGSTOP.
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_GE(took,
            LinkOptions().failure_threshold - LinkOptions().heartbeat_interval);
  // Thawed, it is reachable again without any restart; each ask is
  // bounded, and the first may still find the old link going down.
  absl::StatusOr<MessagePtr> answer;
  const absl::Time deadline = absl::Now() + kWait;
  do {
    answer =
        local_->system().Ask(Echo(), Text("back?"), absl::Seconds(2)).get();
  } while (!answer.ok() && absl::Now() < deadline);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(IsText(**answer, "back?"));
}

TEST_F(NodeFailureTest, GracefulShutdownIsReportedAtOnce) {
  Inbox inbox(local_->system());
  WatchEcho(inbox);
  const absl::Time asked = absl::Now();
  peer_.process->Signal(SIGTERM);
  auto terminated = AwaitTerminated(inbox);
  const absl::Duration took = absl::Now() - asked;
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(terminated->reason(), kNodeDown);
  EXPECT_LT(took, LinkOptions().failure_threshold);
  auto status = peer_.process->Wait(kWait);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// Operators read a peer's counters from Stats and the metrics: a peer that
// went down stays listed, and its counters keep counting across its links
// and restarts (they never go back).
TEST_F(NodeFailureTest, APeersCountersOutliveItsLinksAndRestarts) {
  const auto peer_stats = [&]() -> EndpointStats {
    for (const EndpointStats& peer : local_->remoting().stats().peers) {
      if (peer.address == peer_.address) {
        return peer;
      }
    }
    ADD_FAILURE() << "no entry for " << peer_.address;
    return EndpointStats();
  };
  const auto down_and_listed = [&](uint64_t downs) {
    Inbox inbox(local_->system());
    WatchEcho(inbox);
    peer_.process->Signal(SIGKILL);
    ASSERT_TRUE(peer_.process->Wait(kWait).ok());
    auto terminated = AwaitTerminated(inbox);
    ASSERT_TRUE(terminated.ok()) << terminated.status();
    const EndpointStats stats = peer_stats();
    EXPECT_EQ(stats.downs, downs);
    EXPECT_EQ(stats.state, LinkState::kDown);
  };
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(local_->system().Ask(Echo(), Text("hi"), kWait).get().ok());
  }
  const EndpointStats before = peer_stats();
  EXPECT_GE(before.messages_sent, 10u);
  EXPECT_GE(before.messages_received, 10u);  // the replies
  EXPECT_GT(before.bytes_sent, 0u);
  EXPECT_GT(before.bytes_received, 0u);
  EXPECT_GT(before.frames_received, 0u);
  EXPECT_GT(before.allowance, absl::ZeroDuration());
  down_and_listed(1);

  const std::string address = peer_.address;
  peer_ = StartPeer(address);
  ASSERT_EQ(peer_.address, address);
  ASSERT_TRUE(local_->system().Ask(Echo(), Text("again"), kWait).get().ok());
  down_and_listed(2);
  const EndpointStats after = peer_stats();
  EXPECT_GT(after.messages_sent, before.messages_sent);
  EXPECT_GT(after.messages_received, before.messages_received);
  EXPECT_GT(after.bytes_sent, before.bytes_sent);
}

}  // namespace
}  // namespace troupe
