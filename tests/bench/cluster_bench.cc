// cluster_bench: embedded membership across real troupe_node processes on
// loopback (README, "Cluster", "Measured"). For each N in --nodes it starts
// N nodes, each naming the first as its seed (embedded), and again with
// etcd (a real one, started here, where Debian's etcd-server is
// installed; again with --lease_ttl=1s on an etcd whose election timeout
// is 500 ms, so that its minimum TTL is 1 s), and prints, each line ending
// in provider=embedded|etcd|etcd-ttl1s:
//
//   troupe cluster_join ms=N nodes=N      start to every node seeing all N up
//   troupe cluster_idle_cpu_pct=N nodes=N the N processes' CPU, heartbeats
//                                         only, in % of one core, summed
//   troupe cluster_down ms=N nodes=N      kill -9 of one node to every other
//                                         member marking it down
//   troupe cluster_freeze_down ms=N nodes=N  the same for a node frozen
//                                         (SIGSTOP), which only the link
//                                         failure detector can see
//   troupe identity_first_call_us=N       a call of a virtual actor
//                                         ("counter", a fresh key) through
//                                         the first node that activates it
//                                         (median of 300)
//   troupe identity_call_us=N             the same once it is active
//   troupe identity_failover_ms=N         kill -9 of an identity's node to
//                                         the first answer from its new
//                                         activation (asked again and again
//                                         through the first node; the same kill
//                                         as cluster_down)
//
//   bazel run -c opt //tests/bench:cluster_bench [-- --nodes=3,8]
//
// The times are read from member events: this program's own node subscribes
// to every node's cluster actor (SubscribeMembers) and notes when each
// event arrives. Its links to the nodes carry heartbeats too, so the idle
// figure includes one extra link per node.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "node/cluster/cluster_wire.h"
#include "node/cluster/rendezvous.h"
#include "node/remote/node.h"
#include "node/runtime/system_messages.h"
#include "node/service/command_line.h"
#include "proto/kinds.pb.h"
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

// One CounterAdd to the identity counter:`key`, through the node at `via`
// (the identity's ref names that node); its round trip.
absl::StatusOr<absl::Duration> CallIdentity(Node& observer,
                                            const std::string& via,
                                            const std::string& key,
                                            absl::Duration timeout) {
  ActorRef counter = observer.system().Resolve(
      Pid{via, IdentityRouterId(absl::StrCat("counter:", key))});
  v1::CounterAdd add;
  add.set_delta(1);
  const absl::Time start = absl::Now();
  absl::StatusOr<MessagePtr> reply =
      observer.system().Ask(counter, std::move(add), timeout).get();
  if (!reply.ok()) {
    return reply.status();
  }
  return absl::Now() - start;
}

// identity_first_call_us and identity_call_us: the medians of kCalls fresh
// keys' first calls, then of a second call each.
void MeasureCalls(Node& observer, const std::string& via, int n,
                  const std::string& provider) {
  constexpr int kCalls = 300;
  for (const char* figure : {"identity_first_call_us", "identity_call_us"}) {
    std::vector<absl::Duration> took;
    for (int i = 0; i < kCalls; ++i) {
      absl::StatusOr<absl::Duration> call =
          CallIdentity(observer, via, absl::StrCat("k", i), kGiveUp);
      if (!call.ok()) {
        Fail(
            absl::StrCat("an identity call failed: ", call.status().message()));
      }
      took.push_back(*call);
    }
    std::sort(took.begin(), took.end());
    std::printf("troupe %s=%lld nodes=%d provider=%s\n", figure,
                static_cast<long long>(
                    absl::ToInt64Microseconds(took[took.size() / 2])),
                n, provider.c_str());
    std::fflush(stdout);
  }
}

// `etcd`: the endpoint of an etcd to use; empty: embedded membership.
// `provider` names the run; `flags` go to every node.
void RunCluster(Node& observer, int n, const std::string& etcd,
                const std::string& provider,
                const std::vector<std::string>& flags) {
  std::string seed;
  // Each on a free port: the seed first (its address read back from its
  // first line), then the others at once, naming it.
  const absl::Time start = absl::Now();
  std::vector<std::unique_ptr<testing::ChildProcess>> processes;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> args = {"--listen=127.0.0.1:0", "--cluster=bench"};
    args.insert(args.end(), flags.begin(), flags.end());
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

  MeasureCalls(observer, addresses[0], n, provider);
  const int victim = n - 1;  // not the seed
  // Failover: a key the victim owns (the placement every node computes),
  // asked through the first node from the kill until its new activation
  // answers.
  std::string key;
  for (int i = 0; key.empty(); ++i) {
    if (RendezvousOwner(addresses, absl::StrCat("counter:f", i)) ==
        addresses[victim]) {
      key = absl::StrCat("f", i);
    }
  }
  if (!CallIdentity(observer, addresses[0], key, kGiveUp).ok()) {
    Fail("the failover identity did not answer before the kill");
  }
  absl::Duration failover;
  const absl::Time killed = absl::Now();
  processes[victim]->Signal(SIGKILL);
  std::thread caller([&] {
    // Calls start once the node is killed (one in flight as it dies may be
    // lost with its socket's buffers, at most once, and wait its whole
    // deadline); each attempt waits 200 ms at most.
    while (!CallIdentity(observer, addresses[0], key, absl::Milliseconds(200))
                .ok()) {
      if (absl::Now() - killed > kGiveUp) {
        Fail("the identity never answered after its node was killed");
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    failover = absl::Now() - killed;
  });
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
  caller.join();
  std::printf("troupe identity_failover_ms=%lld nodes=%d provider=%s\n",
              static_cast<long long>(absl::ToInt64Milliseconds(failover)), n,
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
  // etcd where it is installed (Debian's etcd-server): one as installed
  // (lease TTL 2 s, its minimum), one with its election timeout lowered to
  // 500 ms (heartbeats every 50 ms), whose minimum TTL is 1 s.
  std::unique_ptr<testing::EtcdServer> etcd;
  std::unique_ptr<testing::EtcdServer> fast_etcd;
  if (absl::StatusOr<std::unique_ptr<testing::EtcdServer>> started =
          testing::EtcdServer::Start();
      started.ok()) {
    etcd = *std::move(started);
    absl::StatusOr<std::unique_ptr<testing::EtcdServer>> fast =
        testing::EtcdServer::Start(
            absl::Seconds(30),
            {"--heartbeat-interval=50", "--election-timeout=500"});
    if (!fast.ok()) {
      Fail(fast.status().ToString());
    }
    fast_etcd = *std::move(fast);
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
    RunCluster(**observer, n, "", "embedded", {});
    if (etcd != nullptr) {
      std::fprintf(stderr, "cluster_bench: %d nodes, etcd...\n", n);
      RunCluster(**observer, n, etcd->endpoint(), "etcd", {});
      std::fprintf(stderr, "cluster_bench: %d nodes, etcd, TTL 1 s...\n", n);
      RunCluster(**observer, n, fast_etcd->endpoint(), "etcd-ttl1s",
                 {"--lease_ttl=1s"});
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
