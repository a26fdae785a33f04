// load: several node processes and client processes exchange numbered
// message streams; at the end every stream's sent, received, dead-lettered
// and out-of-order counts are printed, as a table and as
// `troupe load <name>=<n>` lines. Exit 0 when every stream arrived whole and
// in order with no dead letters (the promise of a healthy link), else 1.
//
//   bazel run -c opt //tests/load -- [--nodes=3] [--clients=2]
//       [--messages=500000] [--client_messages=100000]
//
// The program is node A (it spawns and asks, and carries no stream); it
// starts --nodes node processes (each with a "sink"), a source on every
// node for every other node's sink, and --clients client processes (troupe
// SDK) that each stream to every node's sink through one node.
#include <signal.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "examples/common/example_cluster.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/system_messages.h"
#include "sdk/client.h"
#include "tests/load/load.pb.h"
#include "tests/load/load_kinds.h"
#include "tests/testing/child_process.h"

ABSL_FLAG(int, nodes, 3, "node processes (at least 2)");
ABSL_FLAG(int, clients, 2, "client processes");
ABSL_FLAG(uint64_t, messages, 500000, "messages per node-to-node stream");
ABSL_FLAG(uint64_t, client_messages, 100000,
          "messages per client-to-node stream");
ABSL_FLAG(uint64_t, window, 20000,
          "flow control: a stream runs at most two windows ahead of what "
          "its sink confirmed");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(10),
          "give up (and fail) after this long");
// The client role (started by the program itself).
ABSL_FLAG(std::string, load_role, "", "internal: 'client'");
ABSL_FLAG(std::string, load_node, "", "internal: the client's node");
ABSL_FLAG(std::string, load_stream, "", "internal: the client's stream prefix");
ABSL_FLAG(std::vector<std::string>, load_targets, {},
          "internal: the client's sinks, label=troupe://host:port/id");

namespace troupe::load {
namespace {

constexpr char kUsage[] =
    "load: numbered message streams between node and client processes;\n"
    "prints sent/received/dead-lettered/out-of-order per stream and\n"
    "`troupe load <name>=<n>` lines. Exit 0 when all arrived in order.\n"
    "  bazel run -c opt //tests/load -- [--nodes=3] [--clients=2] "
    "[--messages=N]";
constexpr char kClientDone[] = "load client done ";
constexpr absl::Duration kAskTimeout = absl::Seconds(30);

int Fail(const std::string& what) {
  std::fprintf(stderr, "load: %s\n", what.c_str());
  return 1;
}

// --- The client role ---------------------------------------------------------

// Streams --client_messages to each target, a window at a time per target,
// waiting for each window's mark; prints
//   load client done <stream>=<sent> ...
int RunClient() {
  ClientOptions options;
  options.node = absl::GetFlag(FLAGS_load_node);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) {
    return Fail(client.status().ToString());
  }
  struct Target {
    std::string stream;
    ActorRef ref;
  };
  std::vector<Target> targets;
  for (const std::string& target : absl::GetFlag(FLAGS_load_targets)) {
    std::vector<std::string> parts = absl::StrSplit(target, absl::MaxSplits('=', 1));
    absl::StatusOr<ActorRef> ref =
        parts.size() == 2 ? (*client)->Ref(parts[1])
                          : absl::InvalidArgumentError(target);
    if (!ref.ok()) {
      return Fail(ref.status().ToString());
    }
    targets.push_back(
        {absl::StrCat(absl::GetFlag(FLAGS_load_stream), "->", parts[0]), *ref});
  }
  const uint64_t count = absl::GetFlag(FLAGS_client_messages);
  const uint64_t window = std::max<uint64_t>(1, absl::GetFlag(FLAGS_window));
  uint64_t sent = 0;
  absl::Status status;
  while (sent < count && status.ok()) {
    const uint64_t end = std::min(count, sent + window);
    std::vector<AskFuture> marks;
    for (const Target& target : targets) {
      LoadMsg msg;
      msg.set_stream(target.stream);
      for (uint64_t seq = sent; seq < end; ++seq) {
        msg.set_seq(seq);
        (*client)->Tell(target.ref, msg);
      }
      LoadMark mark;
      mark.set_stream(target.stream);
      mark.set_seq(end);
      marks.push_back((*client)->Ask(target.ref, mark, kAskTimeout));
    }
    sent = end;
    for (AskFuture& mark : marks) {
      absl::StatusOr<MessagePtr> reply = mark.get();
      if (!reply.ok()) {
        status = reply.status();
      }
    }
  }
  std::vector<std::string> report;
  for (const Target& target : targets) {
    report.push_back(absl::StrCat(target.stream, "=", sent));
  }
  std::printf("%s%s\n", kClientDone, absl::StrJoin(report, " ").c_str());
  std::fflush(stdout);
  return status.ok() ? 0 : Fail(status.ToString());
}

// --- The driver --------------------------------------------------------------

struct StreamTotals {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t dead_letters = 0;
  uint64_t out_of_order = 0;
};

std::string Label(size_t node) { return absl::StrCat("n", node + 1); }

class Driver {
 public:
  int Run() {
    const int nodes = absl::GetFlag(FLAGS_nodes);
    const int clients = absl::GetFlag(FLAGS_clients);
    if (nodes < 2 || clients < 0) {
      return Fail("--nodes must be at least 2 and --clients at least 0");
    }
    absl::StatusOr<std::unique_ptr<examples::ExampleCluster>> cluster =
        examples::ExampleCluster::Start(nodes);
    if (!cluster.ok()) {
      return Fail(cluster.status().ToString());
    }
    cluster_ = *std::move(cluster);
    std::printf("troupe load: %d node processes, %d client processes\n", nodes,
                clients);
    for (int i = 0; i < nodes; ++i) {
      absl::StatusOr<ActorRef> sink = cluster_->SpawnOn(i, "load.sink", "sink");
      if (!sink.ok()) {
        return Fail(sink.status().ToString());
      }
      sinks_.push_back(*sink);
    }
    start_ = absl::Now();
    if (absl::Status started = StartSources(); !started.ok()) {
      return Fail(started.ToString());
    }
    if (absl::Status started = StartClients(); !started.ok()) {
      return Fail(started.ToString());
    }
    const bool finished = AwaitSources();
    AwaitClients();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    if (absl::Status counted = CountReceived(); !counted.ok()) {
      return Fail(counted.ToString());
    }
    return Summarize(finished, seconds);
  }

 private:
  absl::Status StartSources() {
    const uint64_t count = absl::GetFlag(FLAGS_messages);
    for (size_t i = 0; i < sinks_.size(); ++i) {
      for (size_t j = 0; j < sinks_.size(); ++j) {
        if (i == j) {
          continue;
        }
        SourcePlan plan;
        *plan.mutable_target() = ToProto(sinks_[j].pid());
        plan.set_stream(absl::StrCat(Label(i), "->", Label(j)));
        plan.set_count(count);
        plan.set_window(absl::GetFlag(FLAGS_window));
        absl::StatusOr<ActorRef> source = cluster_->SpawnOn(
            i, "load.source", absl::StrCat("source-", Label(j)), &plan);
        if (!source.ok()) {
          return source.status();
        }
        sources_.push_back(*source);
        streams_[plan.stream()];
      }
    }
    std::printf("  %zu node-to-node streams of %llu messages\n",
                sources_.size(), static_cast<unsigned long long>(count));
    return absl::OkStatus();
  }

  absl::Status StartClients() {
    const int clients = absl::GetFlag(FLAGS_clients);
    std::vector<std::string> targets;
    for (size_t j = 0; j < sinks_.size(); ++j) {
      targets.push_back(absl::StrCat(Label(j), "=", sinks_[j].ToString()));
    }
    for (int c = 0; c < clients; ++c) {
      const std::string stream = absl::StrCat("c", c + 1);
      auto process = testing::ChildProcess::Start(
          "/proc/self/exe",
          {"--load_role=client",
           "--load_node=" + cluster_->node(c % cluster_->size()),
           "--load_stream=" + stream,
           "--load_targets=" + absl::StrJoin(targets, ","),
           absl::StrCat("--client_messages=",
                        absl::GetFlag(FLAGS_client_messages)),
           absl::StrCat("--window=", absl::GetFlag(FLAGS_window))});
      if (!process.ok()) {
        return process.status();
      }
      clients_.push_back(*std::move(process));
    }
    if (clients > 0) {
      std::printf("  %d clients x %zu client-to-node streams of %llu messages\n",
                  clients, sinks_.size(),
                  static_cast<unsigned long long>(
                      absl::GetFlag(FLAGS_client_messages)));
    }
    std::fflush(stdout);
    return absl::OkStatus();
  }

  // Polls the sources until all are done or --timeout, printing progress
  // once a second; true when all are done.
  bool AwaitSources() {
    const absl::Time deadline = start_ + absl::GetFlag(FLAGS_timeout);
    absl::Time printed = start_;
    for (;;) {
      bool done = true;
      uint64_t sent = 0;
      for (const ActorRef& source : sources_) {
        absl::StatusOr<SourceReport> report =
            AskReport<SourceReport>(cluster_->system(), source, kAskTimeout);
        if (!report.ok()) {
          std::printf("  %s: %s\n", source.ToString().c_str(),
                      report.status().ToString().c_str());
          return false;
        }
        StreamTotals& totals = streams_[report->stream()];
        totals.sent = report->sent();
        totals.dead_letters = report->dead_letters();
        sent += report->sent();
        done = done && report->done();
      }
      const absl::Time now = absl::Now();
      if (done || now - printed >= absl::Seconds(1)) {
        printed = now;
        std::printf("  [%5.1f s] node streams: %llu sent\n",
                    absl::ToDoubleSeconds(now - start_),
                    static_cast<unsigned long long>(sent));
        std::fflush(stdout);
      }
      if (done) {
        return true;
      }
      if (now > deadline) {
        return false;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  // Reads each client's final line (its streams' sent counts).
  void AwaitClients() {
    for (size_t c = 0; c < clients_.size(); ++c) {
      const absl::Duration left =
          std::max(absl::Seconds(1),
                   start_ + absl::GetFlag(FLAGS_timeout) - absl::Now());
      absl::StatusOr<std::string> line =
          clients_[c]->ReadLineStartingWith(kClientDone, left);
      if (!line.ok()) {
        std::printf("  client c%zu: %s\n", c + 1,
                    line.status().ToString().c_str());
        clients_[c]->Signal(SIGKILL);
        continue;
      }
      for (absl::string_view field : absl::StrSplit(
               line->substr(sizeof(kClientDone) - 1), ' ', absl::SkipEmpty())) {
        std::pair<std::string, std::string> kv =
            absl::StrSplit(field, absl::MaxSplits('=', 1));
        uint64_t sent = 0;
        if (absl::SimpleAtoi(kv.second, &sent)) {
          streams_[kv.first].sent = sent;
        }
      }
      const absl::StatusOr<int> exit = clients_[c]->Wait(absl::Seconds(30));
      if (!exit.ok() || *exit != 0) {
        std::printf("  client c%zu did not exit cleanly\n", c + 1);
        failed_clients_++;
      }
    }
  }

  absl::Status CountReceived() {
    for (const ActorRef& sink : sinks_) {
      absl::StatusOr<SinkReport> report =
          AskReport<SinkReport>(cluster_->system(), sink, kAskTimeout);
      if (!report.ok()) {
        return report.status();
      }
      for (const StreamCount& count : report->streams()) {
        StreamTotals& totals = streams_[count.stream()];
        totals.received = count.received();
        totals.out_of_order = count.out_of_order();
      }
    }
    // Every node's own count: a dead letter anywhere (a client's message
    // dropped at its node, a reply lost) shows here.
    node_dead_letters_ = cluster_->system().stats().dead_letters;
    for (size_t i = 0; i < cluster_->size(); ++i) {
      ClientOptions options;
      options.node = cluster_->node(i);
      absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
      if (!client.ok()) {
        return client.status();
      }
      absl::StatusOr<v1::StatsReply> stats = (*client)->Stats();
      if (!stats.ok()) {
        return stats.status();
      }
      node_dead_letters_ += stats->dead_letters();
    }
    return absl::OkStatus();
  }

  int Summarize(bool finished, double seconds) {
    StreamTotals total;
    std::printf("\n%-12s %12s %12s %8s %13s\n", "stream", "sent", "received",
                "dead", "out of order");
    for (const auto& [name, stream] : streams_) {
      std::printf("%-12s %12llu %12llu %8llu %13llu%s\n", name.c_str(),
                  static_cast<unsigned long long>(stream.sent),
                  static_cast<unsigned long long>(stream.received),
                  static_cast<unsigned long long>(stream.dead_letters),
                  static_cast<unsigned long long>(stream.out_of_order),
                  stream.sent == stream.received && stream.out_of_order == 0
                      ? ""
                      : "   <-- MISMATCH");
      total.sent += stream.sent;
      total.received += stream.received;
      total.dead_letters += stream.dead_letters;
      total.out_of_order += stream.out_of_order;
    }
    const bool whole = finished && failed_clients_ == 0 &&
                       total.received == total.sent && total.out_of_order == 0 &&
                       node_dead_letters_ == 0;
    bool every_stream = true;
    for (const auto& [name, stream] : streams_) {
      every_stream = every_stream && stream.sent > 0 &&
                     stream.sent == stream.received;
    }
    const double rate = seconds > 0 ? total.received / seconds : 0;
    std::printf(
        "\n%s: %llu messages sent, %llu received, %llu dead-lettered (the "
        "nodes counted %llu), %llu out of order, over %zu streams in %.1f s "
        "(%.0f msgs/s)\n",
        whole && every_stream ? "PASS" : "FAIL",
        static_cast<unsigned long long>(total.sent),
        static_cast<unsigned long long>(total.received),
        static_cast<unsigned long long>(total.dead_letters),
        static_cast<unsigned long long>(node_dead_letters_),
        static_cast<unsigned long long>(total.out_of_order), streams_.size(),
        seconds, rate);
    const std::vector<std::pair<const char*, uint64_t>> figures = {
        {"nodes", cluster_->size()},
        {"clients", clients_.size()},
        {"streams", streams_.size()},
        {"sent", total.sent},
        {"received", total.received},
        {"dead_lettered", node_dead_letters_},
        {"out_of_order", total.out_of_order},
        {"milliseconds", static_cast<uint64_t>(seconds * 1000)},
        {"msgs_per_sec", static_cast<uint64_t>(rate)},
    };
    for (const auto& [name, value] : figures) {
      std::printf("troupe load %s=%llu\n", name,
                  static_cast<unsigned long long>(value));
    }
    std::fflush(stdout);
    return whole && every_stream ? 0 : 1;
  }

  std::unique_ptr<examples::ExampleCluster> cluster_;
  std::vector<ActorRef> sinks_;
  std::vector<ActorRef> sources_;
  std::vector<std::unique_ptr<testing::ChildProcess>> clients_;
  std::map<std::string, StreamTotals> streams_;
  uint64_t node_dead_letters_ = 0;
  int failed_clients_ = 0;
  absl::Time start_;
};

int Run() {
  if (absl::GetFlag(FLAGS_load_role) == "client") {
    return RunClient();
  }
  return Driver().Run();
}

}  // namespace
}  // namespace troupe::load

int main(int argc, char** argv) {
  return troupe::examples::ExampleMain(argc, argv, troupe::load::kUsage,
                                       troupe::load::Run);
}
