// Embedded membership across real troupe_node processes: kill -9 of one is
// seen as DOWN (by the link failure detector) by every other member, and a
// node started again at the same address is UP as a new run everywhere,
// with no step by hand. The waits are on member events, with a timeout.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "node/remote/node.h"
#include "proto/troupe.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/member_watcher.h"

namespace troupe {
namespace {

using testing::ChildProcess;

constexpr absl::Duration kWait = absl::Seconds(30);
constexpr char kNodeBinary[] = "node/troupe_node";

struct NodeProcess {
  std::unique_ptr<ChildProcess> process;
  std::string address;
  uint64_t incarnation = 0;
};

// Starts a node at `address` (port 0: a free one) naming `seed` (none when
// empty); its address and run are read from its first line.
NodeProcess StartNode(const std::string& address, const std::string& seed) {
  std::vector<std::string> args = {"--listen=" + address, "--cluster=kill"};
  if (!seed.empty()) {
    args.push_back("--seeds=" + seed);
  }
  NodeProcess node;
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(kNodeBinary, args);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) {
    return node;
  }
  node.process = *std::move(process);
  absl::StatusOr<testing::NodeReady> ready =
      testing::ReadNodeReady(*node.process, kWait);
  EXPECT_TRUE(ready.ok()) << ready.status();
  if (ready.ok()) {
    node.address = ready->address;
    node.incarnation = ready->incarnation;
  }
  return node;
}

TEST(ClusterKillTest, AKilledNodeIsDownEverywhereAndItsRestartUp) {
  // Free ports, read back: the seed first, then the others naming it.
  std::vector<NodeProcess> nodes;
  std::vector<std::string> addresses;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(StartNode("127.0.0.1:0", i == 0 ? "" : addresses[0]));
    ASSERT_NE(nodes.back().process, nullptr);
    ASSERT_FALSE(nodes.back().address.empty());
    addresses.push_back(nodes.back().address);
  }
  absl::StatusOr<std::unique_ptr<Node>> observer = Node::Start(NodeOptions());
  ASSERT_TRUE(observer.ok()) << observer.status();
  std::vector<std::unique_ptr<testing::MemberWatcher>> views;
  for (const std::string& address : addresses) {
    views.push_back(std::make_unique<testing::MemberWatcher>(
        (*observer)->system(), address));
    ASSERT_TRUE(views.back()->WaitForUp(3, kWait))
        << address << " never saw the three nodes up";
  }

  nodes[2].process->Signal(SIGKILL);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(views[i]->WaitFor(addresses[2], v1::MEMBER_DOWN,
                                  nodes[2].incarnation, kWait))
        << addresses[i] << " never saw the killed node down";
    EXPECT_TRUE(absl::StrContains(views[i]->member(addresses[2]).reason(),
                                  "declared down"))
        << views[i]->member(addresses[2]).reason();
  }

  // At the same address (free since the kill; nothing else binds there in
  // between on a test machine but by chance).
  nodes[2] = StartNode(addresses[2], addresses[0]);
  ASSERT_NE(nodes[2].process, nullptr);
  ASSERT_EQ(nodes[2].address, addresses[2]);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(views[i]->WaitFor(addresses[2], v1::MEMBER_UP,
                                  nodes[2].incarnation, kWait))
        << addresses[i] << " never saw the new run up";
  }
  (*observer)->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace troupe
