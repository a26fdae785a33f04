// cluster_bench: embedded membership across real troupe_node processes on
// loopback (README, "Cluster", "Measured"). For each N in --nodes it starts
// N nodes, each naming the first as its seed (embedded), and again with
// etcd (a real one, started here, where Debian's etcd-server is
// installed), and prints, each line ending in provider=embedded|etcd:
//
//   troupe cluster_join ms=N nodes=N      start to every node seeing all N up
//   troupe cluster_idle_cpu_pct=N nodes=N the N processes' CPU, heartbeats
//                                         only, in % of one core, summed
//   troupe cluster_down ms=N nodes=N      kill -9 of one node to every other
//                                         member marking it down
//   troupe cluster_freeze_down ms=N nodes=N  the same for a node frozen
//                                         (SIGSTOP), which only the link
//                                         failure detector can see
//
//   bazel run -c opt //tests/bench:cluster_bench [-- --nodes=3,8]
//
// The times are read from member events: this program's own node subscribes
// to every node's cluster actor (SubscribeMembers) and notes when each
// event arrives. Its links to the nodes carry heartbeats too, so the idle
// figure includes one extra link per node.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "node/remote/node.h"
#include "node/service/command_line.h"
#include "tests/testing/child_process.h"
#include "tests/testing/etcd_server.h"
#include "tests/testing/member_watcher.h"
#include "tests/testing/proc_stats.h"

ABSL_FLAG(std::vector<std::string>, nodes, std::vector<std::string>({"3", "8"}),
          "cluster sizes, one run each");
ABSL_FLAG(absl::Duration, idle, absl::Seconds(5),
          "how long the idle CPU is measured");

namespace troupe::bench {
namespace {

constexpr absl::Duration kGiveUp = absl::Seconds(60);
constexpr char kNodeBinary[] = "node/troupe_node";

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "cluster_bench: %s\n", why.c_str());
  std::exit(1);
}

// The address in a node's first line: "troupe node listening on ADDRESS
// incarnation HEX".
std::string AddressOf(testing::ChildProcess& process) {
  absl::StatusOr<testing::NodeReady> ready =
      testing::ReadNodeReady(process, kGiveUp);
  if (!ready.ok()) {
    Fail(absl::StrCat("a node did not start: ", ready.status().message()));
  }
  return ready->address;
}

// `etcd`: the endpoint of an etcd to use; empty: embedded membership.
void RunCluster(Node& observer, int n, const std::string& etcd) {
  const std::string provider = etcd.empty() ? "embedded" : "etcd";
  std::string seed;
  // Each on a free port: the seed first (its address read back from its
  // first line), then the others at once, naming it.
  const absl::Time start = absl::Now();
  std::vector<std::unique_ptr<testing::ChildProcess>> processes;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> args = {"--listen=127.0.0.1:0", "--cluster=bench"};
    if (!etcd.empty()) {
      args.push_back("--etcd=" + etcd);
    } else if (i > 0) {
      args.push_back("--seeds=" + seed);
    }
    auto process = testing::ChildProcess::Start(kNodeBinary, args);
    if (!process.ok()) {
      Fail(process.status().ToString());
    }
    processes.push_back(*std::move(process));
    if (i == 0) {
      seed = AddressOf(*processes[0]);
    }
  }
  std::vector<std::string> addresses = {seed};
  for (int i = 1; i < n; ++i) {
    addresses.push_back(AddressOf(*processes[i]));
  }
  std::vector<std::unique_ptr<testing::MemberWatcher>> views;
  for (int i = 0; i < n; ++i) {
    views.push_back(std::make_unique<testing::MemberWatcher>(observer.system(),
                                                             addresses[i]));
  }
  // Joined: every node has all n up.
  for (int i = 0; i < n; ++i) {
    if (!views[i]->WaitForUp(n, kGiveUp)) {
      Fail(absl::StrCat(addresses[i], " never saw all ", n, " members up"));
    }
  }
  const absl::Duration join = absl::Now() - start;
  std::printf("troupe cluster_join ms=%lld nodes=%d provider=%s\n",
              static_cast<long long>(absl::ToInt64Milliseconds(join)), n,
              provider.c_str());
  std::fflush(stdout);

  double before = 0;
  for (auto& process : processes) {
    before += testing::CpuSeconds(process->pid());
  }
  const absl::Duration idle = absl::GetFlag(FLAGS_idle);
  absl::SleepFor(idle);
  double after = 0;
  for (auto& process : processes) {
    after += testing::CpuSeconds(process->pid());
  }
  std::printf("troupe cluster_idle_cpu_pct=%.2f nodes=%d provider=%s\n",
              100 * (after - before) / absl::ToDoubleSeconds(idle), n,
              provider.c_str());
  std::fflush(stdout);

  const int victim = n - 1;  // not the seed
  const absl::Time killed = absl::Now();
  processes[victim]->Signal(SIGKILL);
  for (int i = 0; i < victim; ++i) {
    if (!views[i]->WaitFor(addresses[victim], v1::MEMBER_DOWN, 0, kGiveUp)) {
      Fail(absl::StrCat(addresses[i], " never saw ", addresses[victim],
                        " down"));
    }
  }
  const absl::Duration down = absl::Now() - killed;
  std::printf("troupe cluster_down ms=%lld nodes=%d provider=%s\n",
              static_cast<long long>(absl::ToInt64Milliseconds(down)), n,
              provider.c_str());
  std::fflush(stdout);

  // A killed process's sockets are closed by its kernel at once; a frozen
  // one (SIGSTOP: a hung process, or a host gone) is left to the link
  // failure detector.
  const int frozen = n - 2;
  const absl::Time stopped = absl::Now();
  processes[frozen]->Signal(SIGSTOP);
  for (int i = 0; i < frozen; ++i) {
    if (!views[i]->WaitFor(addresses[frozen], v1::MEMBER_DOWN, 0, kGiveUp)) {
      Fail(absl::StrCat(addresses[i], " never saw ", addresses[frozen],
                        " down"));
    }
  }
  const absl::Duration freeze = absl::Now() - stopped;
  processes[frozen]->Signal(SIGCONT);
  std::printf("troupe cluster_freeze_down ms=%lld nodes=%d provider=%s\n",
              static_cast<long long>(absl::ToInt64Milliseconds(freeze)), n,
              provider.c_str());
  std::fflush(stdout);
}

int Main(const std::vector<std::string>& /*args*/) {
  NodeOptions options;  // loopback, port 0; not a member (no cluster actor)
  absl::StatusOr<std::unique_ptr<Node>> observer = Node::Start(options);
  if (!observer.ok()) {
    Fail(observer.status().ToString());
  }
  // etcd where it is installed (Debian's etcd-server): one for all runs.
  std::unique_ptr<testing::EtcdServer> etcd;
  if (absl::StatusOr<std::unique_ptr<testing::EtcdServer>> started =
          testing::EtcdServer::Start();
      started.ok()) {
    etcd = *std::move(started);
  } else {
    std::fprintf(stderr, "cluster_bench: no etcd runs: %s\n",
                 std::string(started.status().message()).c_str());
  }
  for (const std::string& size : absl::GetFlag(FLAGS_nodes)) {
    int n = 0;
    if (!absl::SimpleAtoi(size, &n) || n < 2 || n > 64) {
      Fail(absl::StrCat("--nodes: '", size, "' is not 2..64"));
    }
    std::fprintf(stderr, "cluster_bench: %d nodes, embedded...\n", n);
    RunCluster(**observer, n, "");
    if (etcd != nullptr) {
      std::fprintf(stderr, "cluster_bench: %d nodes, etcd...\n", n);
      RunCluster(**observer, n, etcd->endpoint());
    }
  }
  (*observer)->Shutdown(absl::Seconds(1));
  return 0;
}

}  // namespace
}  // namespace troupe::bench

int main(int argc, char** argv) {
  return troupe::bench::Main(troupe::ParseCommandLine(
      "cluster_bench: membership across troupe_node processes on loopback: "
      "join, idle CPU and kill -9 down times. Run with bazel run -c opt "
      "//tests/bench:cluster_bench [-- --nodes=3,8 --idle=5s]",
      argc, argv));
}
