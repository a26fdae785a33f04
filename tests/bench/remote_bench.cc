// remote_bench: remoting between two node processes on 127.0.0.1, one line
// per figure in a fixed form tools can read:
//   troupe remote_pingpong roundtrips_per_s=<n> rtt_us=<mean>
//   troupe remote_throughput msgs_per_s=<n>
//   troupe remote_down ms=<n>
//   troupe remote_freeze ms=<n>
// This program is the coordinator (itself a node, C): it starts nodes A and
// B (this binary with --role=node), tells a driver actor on A what to run
// against B's actors, and prints what A measured. Every count is checked
// exactly; any failure exits non-zero.
// Run with: bazel run -c opt //tests/bench:remote_bench
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/wrappers.pb.h"
#include "node/remote/node.h"
#include "node/runtime/inbox.h"
#include "node/service/command_line.h"
#include "node/service/node_metrics.h"
#include "node/service/stop_signals.h"
#include "prometheus/text_serializer.h"
#include "tests/bench/remote_bench.pb.h"
#include "tests/testing/child_process.h"

ABSL_FLAG(std::string, role, "coordinator",
          "coordinator (default: runs everything) or node (internal)");
ABSL_FLAG(int64_t, roundtrips, 50'000, "remote_pingpong: round trips");
ABSL_FLAG(int64_t, messages, 5'000'000, "remote_throughput: messages");
ABSL_FLAG(int64_t, window, 100'000,
          "remote_throughput: most messages unacknowledged at once");
ABSL_FLAG(int, repeat, 3, "runs of pingpong and throughput; the best counts");
ABSL_FLAG(absl::Duration, metrics_scrape_every, absl::ZeroDuration(),
          "0: metrics off; else nodes A and B serve /metrics (the exposer, "
          "on a free port) and each collects and serializes its metrics this "
          "often, as a Prometheus scrape does (README \"Operations\")");

namespace troupe {
namespace {

using bench::Ack;
using bench::PingPongRun;
using bench::RunResult;
using bench::ThroughputRun;
using bench::WatchRun;
using google::protobuf::Int64Value;

constexpr absl::Duration kGiveUp = absl::Minutes(2);

int64_t MonotonicNanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "remote_bench: %s\n", what.c_str());
  std::exit(1);
}

// --- Node role -----------------------------------------------------------

// Runs the benchmarks against other nodes' actors on command.
class Driver : public Actor {
 public:
  explicit Driver(Node* node) : node_(node) {}

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* run = As<PingPongRun>(message)) {
      requester_ = ctx.Sender();
      target_ = *ctx.System().Resolve(run->target());
      total_ = run->count();
      done_ = 0;
      start_ = absl::Now();
      Int64Value ping;
      ping.set_value(0);
      ctx.Tell(target_, ping);
    } else if (const auto* pong = As<Int64Value>(message)) {
      if (++done_ < total_) {
        Int64Value ping;
        ping.set_value(done_);
        ctx.Tell(target_, std::move(ping));
      } else {
        Finish(ctx, done_);
      }
      (void)pong;
    } else if (const auto* run = As<ThroughputRun>(message)) {
      requester_ = ctx.Sender();
      target_ = *ctx.System().Resolve(run->sink());
      total_ = run->count();
      window_ = run->window();
      finished_ = false;
      start_ = absl::Now();
      SendUpTo(ctx, sent_ + window_);
    } else if (const auto* ack = As<Ack>(message)) {
      if (ack->received() >= total_) {
        if (!finished_) {  // the count may come twice (every 25k, flush)
          finished_ = true;
          Finish(ctx, ack->received());
        }
      } else {
        SendUpTo(ctx, ack->received() + window_);
      }
    } else if (const auto* run = As<WatchRun>(message)) {
      requester_ = ctx.Sender();
      target_ = *ctx.System().Resolve(run->target());
      ctx.Watch(target_);
      ctx.Tell(target_, Text("armed"));  // behind the WATCH on the link
    } else if (IsText(message, "armed")) {
      ctx.Tell(requester_, Text("armed"));
    } else if (const auto* terminated = As<Terminated>(message)) {
      RunResult result;
      result.set_monotonic_ns(MonotonicNanos());
      result.set_reason(terminated->reason());
      result.set_downs(Downs());
      ctx.Tell(requester_, std::move(result));
    }
    return absl::OkStatus();
  }

 private:
  void SendUpTo(ActorContext& ctx, int64_t limit) {
    if (sent_ == total_) {
      return;
    }
    for (; sent_ < total_ && sent_ < limit; ++sent_) {
      Int64Value value;
      value.set_value(sent_);
      ctx.Tell(target_, std::move(value));
    }
    if (sent_ == total_) {
      ctx.Tell(target_, Text("flush"));  // the sink answers with its count
    }
  }
  void Finish(ActorContext& ctx, int64_t count) {
    RunResult result;
    result.set_count(count);
    result.set_nanos(absl::ToInt64Nanoseconds(absl::Now() - start_));
    result.set_downs(Downs());
    ctx.Tell(requester_, std::move(result));
  }
  int64_t Downs() {
    int64_t downs = 0;
    for (const EndpointStats& peer : node_->remoting().stats().peers) {
      downs += static_cast<int64_t>(peer.downs);
    }
    return downs;
  }

  Node* const node_;
  ActorRef requester_;
  ActorRef target_;
  int64_t total_ = 0;
  int64_t done_ = 0;
  int64_t sent_ = 0;
  int64_t window_ = 0;
  bool finished_ = false;
  absl::Time start_;
};

// Collects and serializes a node's metrics every `every` on a thread of its
// own, as a Prometheus scrape of /metrics does, until destroyed.
class Scraper {
 public:
  Scraper(Node* node, absl::Duration every)
      : metrics_(node, nullptr), thread_([this, every] {
          while (!stop_.WaitForNotificationWithTimeout(every)) {
            bytes_ += prometheus::TextSerializer()
                          .Serialize(metrics_.Collect())
                          .size();
          }
        }) {}
  ~Scraper() {
    stop_.Notify();
    thread_.join();
  }

 private:
  const NodeMetrics metrics_;
  Notification stop_;
  size_t bytes_ = 0;
  std::thread thread_;
};

int RunNode() {
  const StopSignals stop_signals;
  auto node = Node::Start(NodeOptions());
  if (!node.ok()) {
    Fail(node.status().ToString());
  }
  Node* n = node->get();
  ActorSystem& system = n->system();
  // Metrics on: the exposer, and a scrape every interval.
  std::unique_ptr<MetricsEndpoint> metrics;
  std::unique_ptr<Scraper> scraper;
  if (const absl::Duration every = absl::GetFlag(FLAGS_metrics_scrape_every);
      every > absl::ZeroDuration()) {
    auto started = MetricsEndpoint::Start("127.0.0.1:0", "", n, nullptr);
    if (!started.ok()) {
      Fail(started.status().ToString());
    }
    metrics = *std::move(started);
    scraper = std::make_unique<Scraper>(n, every);
  }
  // Replies with what it got.
  (void)system.Spawn(FromBehavior([](ActorContext& ctx, const Message& m) {
                       ctx.Reply(CloneMessage(m));
                       return absl::OkStatus();
                     }),
                     "pong");
  // Counts exactly; acknowledges every 1/4 window and at the end.
  (void)system.Spawn(
      FromBehavior(
          [received = int64_t{0}](ActorContext& ctx, const Message& m) mutable {
            if (const auto* value = As<Int64Value>(m)) {
              if (value->value() != received) {
                Fail(absl::StrCat("sink: message ", value->value(),
                                  " arrived when ", received, " was expected"));
              }
              ++received;
              if (received % 25'000 == 0) {
                Ack ack;
                ack.set_received(received);
                ctx.Reply(std::move(ack));
              }
            } else if (IsText(m, "armed")) {
              ctx.Reply(Text("armed"));  // the driver's watch is in place
            } else if (IsText(m, "flush")) {
              Ack ack;
              ack.set_received(received);
              ctx.Reply(std::move(ack));
            }
            return absl::OkStatus();
          }),
      "sink");
  (void)system.Spawn([n] { return std::make_unique<Driver>(n); }, "driver");
  std::printf("ready %s\n", n->address().c_str());
  std::fflush(stdout);
  stop_signals.Await();
  n->Shutdown(absl::Seconds(1));
  return 0;
}

// --- Coordinator -----------------------------------------------------------

struct NodeProcess {
  std::unique_ptr<testing::ChildProcess> process;
  std::string address;
};

NodeProcess StartNodeProcess(const std::string& self) {
  auto process = testing::ChildProcess::Start(
      self, {"--role=node", absl::StrCat("--metrics_scrape_every=",
                                         absl::FormatDuration(absl::GetFlag(
                                             FLAGS_metrics_scrape_every)))});
  if (!process.ok()) {
    Fail(process.status().ToString());
  }
  auto line = (*process)->ReadLineStartingWith("ready ", absl::Seconds(30));
  if (!line.ok()) {
    Fail(absl::StrCat("node did not start: ", line.status().ToString()));
  }
  return NodeProcess{std::move(*process), line->substr(6)};
}

template <typename T>
T Await(Inbox& inbox, absl::string_view what) {
  auto result = inbox.ReceiveAs<T>(kGiveUp);
  if (!result.ok()) {
    Fail(absl::StrCat(what, ": ", result.status().ToString()));
  }
  return *result;
}

void Arm(Inbox& inbox, const ActorRef& driver, const std::string& target) {
  WatchRun run;
  run.set_target(target);
  inbox.Tell(driver, run);
  // Skips what earlier watches left (a node's death ends every watch of
  // its actors).
  for (;;) {
    auto armed = inbox.Receive(kGiveUp);
    if (!armed.ok()) {
      Fail("the driver did not arm its watch");
    }
    if (IsText(*armed->message, "armed")) {
      return;
    }
  }
}

int RunCoordinator(const std::string& self) {
  auto c = Node::Start(NodeOptions());
  if (!c.ok()) {
    Fail(c.status().ToString());
  }
  ActorSystem& system = (*c)->system();
  NodeProcess a = StartNodeProcess(self);
  NodeProcess b = StartNodeProcess(self);
  const ActorRef driver =
      *system.Resolve(absl::StrCat("troupe://", a.address, "/driver"));
  const std::string pong = absl::StrCat("troupe://", b.address, "/pong");
  const std::string sink = absl::StrCat("troupe://", b.address, "/sink");
  Inbox inbox(system);

  // Ping-pong.
  double best_rate = 0;
  double best_rtt = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_repeat); ++i) {
    PingPongRun run;
    run.set_target(pong);
    run.set_count(absl::GetFlag(FLAGS_roundtrips));
    inbox.Tell(driver, run);
    RunResult result = Await<RunResult>(inbox, "remote_pingpong");
    if (result.count() != run.count()) {
      Fail("remote_pingpong: wrong count");
    }
    const double rate = result.count() * 1e9 / result.nanos();
    if (rate > best_rate) {
      best_rate = rate;
      best_rtt = result.nanos() / 1e3 / result.count();
    }
  }
  std::printf("troupe remote_pingpong roundtrips_per_s=%.0f rtt_us=%.1f\n",
              best_rate, best_rtt);
  std::fflush(stdout);

  // Throughput, with B's sink watched by the driver meanwhile: a false
  // NODE_DOWN under full load would show in A's down count.
  Arm(inbox, driver, sink);
  best_rate = 0;
  int64_t downs = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_repeat); ++i) {
    // The sink counts across runs; each run sends `messages` more.
    ThroughputRun run;
    run.set_sink(sink);
    run.set_count(absl::GetFlag(FLAGS_messages) * (i + 1));
    run.set_window(absl::GetFlag(FLAGS_window));
    inbox.Tell(driver, run);
    const absl::Time start = absl::Now();
    RunResult result = Await<RunResult>(inbox, "remote_throughput");
    (void)start;
    if (result.count() != run.count()) {
      Fail(absl::StrCat("remote_throughput: sink counted ", result.count(),
                        ", expected ", run.count()));
    }
    best_rate = std::max(best_rate,
                         absl::GetFlag(FLAGS_messages) * 1e9 / result.nanos());
    downs = result.downs();
  }
  std::printf("troupe remote_throughput msgs_per_s=%.0f\n", best_rate);
  std::printf("  (false NODE_DOWN during the runs: %" PRId64 ")\n", downs);
  std::fflush(stdout);

  // kill -9 of B.
  Arm(inbox, driver, pong);
  const int64_t killed = MonotonicNanos();
  b.process->Signal(SIGKILL);
  RunResult down = Await<RunResult>(inbox, "remote_down");
  if (down.reason() != v1::NODE_DOWN) {
    Fail(absl::StrCat("remote_down: reason ", down.reason()));
  }
  std::printf("troupe remote_down ms=%.1f\n",
              (down.monotonic_ns() - killed) / 1e6);
  std::fflush(stdout);
  (void)b.process->Wait(absl::Seconds(10));

  // SIGSTOP of a new B: only heartbeats can tell.
  b = StartNodeProcess(self);
  const std::string new_pong = absl::StrCat("troupe://", b.address, "/pong");
  Arm(inbox, driver, new_pong);
  const int64_t stopped = MonotonicNanos();
  b.process->Signal(SIGSTOP);
  RunResult frozen = Await<RunResult>(inbox, "remote_freeze");
  b.process->Signal(SIGCONT);
  if (frozen.reason() != v1::NODE_DOWN) {
    Fail(absl::StrCat("remote_freeze: reason ", frozen.reason()));
  }
  std::printf("troupe remote_freeze ms=%.1f\n",
              (frozen.monotonic_ns() - stopped) / 1e6);
  // Thawed, B is reachable again (the first asks may meet the old link
  // going down).
  const ActorRef pong_ref = *system.Resolve(new_pong);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  bool back = false;
  while (!back && absl::Now() < deadline) {
    back = system.Ask(pong_ref, Text("back?"), absl::Seconds(2)).get().ok();
  }
  std::printf("  (after SIGCONT the node is reachable again: %s)\n",
              back ? "yes" : "NO");
  std::fflush(stdout);
  a.process->Signal(SIGTERM);
  b.process->Signal(SIGTERM);
  (void)a.process->Wait(absl::Seconds(10));
  (void)b.process->Wait(absl::Seconds(10));
  return back ? 0 : 1;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) {
  troupe::ParseCommandLine(
      "remoting benchmark: starts two node processes on 127.0.0.1 and prints\n"
      "remote_pingpong, remote_throughput, remote_down and remote_freeze.\n"
      "  bazel run -c opt //tests/bench:remote_bench",
      argc, argv);
  if (absl::GetFlag(FLAGS_role) == "node") {
    return troupe::RunNode();
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    troupe::Fail("cannot find this program's path");
  }
  self[n] = '\0';
  return troupe::RunCoordinator(self);
}
