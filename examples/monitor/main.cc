// monitor: pactor's Monitor across three nodes, as pactor wrote it: the
// Monitor and the Aggregator are typed actors (monitor.proto), and calls on
// typed refs are pactor's proxy calls. Monitors on nodes B and C poll their
// node's status with a delayed one-way call to themselves and report with
// aggregator.UpdateStatus(...) to the Aggregator on node A. Closing is
// pactor's close: a PoisonPill that comes after the calls already queued,
// so they are handled first; a call made after the close is not handled
// (here a call that waits for its answer fails with the cause, NOT_FOUND,
// where pactor loses it silently).
//
//   bazel run //examples/monitor [-- --polls=5 --interval=50ms]
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "examples/common/example_cluster.h"
#include "examples/monitor/monitor.troupe.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "node/service/kinds.h"

ABSL_FLAG(int, polls, 5, "reports from each monitor before closing");
ABSL_FLAG(absl::Duration, interval, absl::Milliseconds(50),
          "how often a monitor polls");
ABSL_FLAG(int, backlog, 10,
          "reports queued at the aggregator just before it is closed");

namespace troupe::examples {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

// Polls with a one-way call to itself, delayed (pactor's self-enqueue
// loop), and reports with aggregator.UpdateStatus on a typed ref; says how
// many reports it sent when it stops.
class Monitor final : public MonitorActor {
 public:
  explicit Monitor(MonitorInit init) : init_(std::move(init)) {}

  absl::Status Started(ActorContext& ctx) override {
    aggregator_ = AggregatorRef(ctx.Ref(init_.aggregator()));
    MonitorRef(ctx.Self()).Poll(ctx, PollRequest());
    return absl::OkStatus();
  }

  void Poll(ActorContext& ctx, const PollRequest& /*request*/,
            Responder<google::protobuf::Empty> /*reply*/) override {
    Status status;
    status.set_monitor(ctx.Self().id());
    status.set_seq(++reports_);
    status.set_messages_handled(ctx.System().stats().messages_processed);
    aggregator_.UpdateStatus(ctx, std::move(status));
    MonitorRef(ctx.Self())
        .Poll(ctx, PollRequest(),
              TellOptions{absl::Milliseconds(init_.interval_ms())});
  }

  void Stopped(ActorContext& ctx) override {
    Closed closed;
    closed.set_monitor(ctx.Self().id());
    closed.set_reports(reports_);
    aggregator_.MonitorClosed(ctx, std::move(closed));
  }

 private:
  const MonitorInit init_;
  AggregatorRef aggregator_;
  int reports_ = 0;
};

absl::StatusOr<ActorFactory> MakeMonitor(const google::protobuf::Any* init) {
  absl::StatusOr<MonitorInit> parsed = InitAs<MonitorInit>("monitor", init);
  if (!parsed.ok()) {
    return parsed.status();
  }
  MonitorInit copy = *parsed;
  return ActorFactory([copy] { return std::make_unique<Monitor>(copy); });
}

// Prints the reports; tells `observer` when each monitor has reported
// `polls` times and when each has closed; sums up when it closes.
class Aggregator final : public AggregatorActor {
 public:
  Aggregator(int polls, ActorRef observer)
      : polls_(polls), observer_(std::move(observer)) {}

  void UpdateStatus(ActorContext& ctx, const Status& status,
                    Responder<google::protobuf::Empty> reply) override {
    ++received_[status.monitor()];
    std::printf(
        "[%s] aggregator: %s report %d (messages handled on its "
        "node: %llu)\n",
        Now().c_str(), status.monitor().c_str(), status.seq(),
        static_cast<unsigned long long>(status.messages_handled()));
    std::fflush(stdout);
    if (received_[status.monitor()] == polls_) {
      ctx.Tell(observer_, Text(absl::StrCat("enough from ", status.monitor())));
    }
    reply.Send(google::protobuf::Empty());  // for a caller that asked
  }

  void MonitorClosed(ActorContext& ctx, const Closed& closed,
                     Responder<google::protobuf::Empty> reply) override {
    sent_[closed.monitor()] = closed.reports();
    std::printf("[%s] aggregator: %s closed after %d reports\n", Now().c_str(),
                closed.monitor().c_str(), closed.reports());
    std::fflush(stdout);
    ctx.Tell(observer_, Text(absl::StrCat("closed ", closed.monitor())));
    reply.Send(google::protobuf::Empty());
  }

  void Stopped(ActorContext& /*ctx*/) override {
    int total = 0;
    std::string each;
    for (const auto& [monitor, sent] : sent_) {
      total += received_[monitor];
      absl::StrAppend(&each, ", ", received_[monitor], " of ", sent, " from ",
                      monitor);
    }
    std::printf("[%s] aggregator: closed; handled %d reports%s\n",
                Now().c_str(), total, each.c_str());
    std::fflush(stdout);
  }

 private:
  const int polls_;
  const ActorRef observer_;
  absl::flat_hash_map<std::string, int> received_;
  std::map<std::string, int> sent_;  // ordered: the summary reads B, then C
};

// Waits for `count` texts starting with `prefix` at `inbox`.
bool AwaitTexts(Inbox& inbox, absl::string_view prefix, int count) {
  for (int seen = 0; seen < count;) {
    absl::StatusOr<Inbox::Received> received = inbox.Receive(kWait);
    if (!received.ok()) {
      std::fprintf(stderr, "monitor: waited in vain for '%s'\n",
                   std::string(prefix).c_str());
      return false;
    }
    if (absl::StartsWith(TextOf(*received->message), prefix)) {
      ++seen;
    }
  }
  return true;
}

int Run() {
  absl::StatusOr<std::unique_ptr<ExampleCluster>> cluster =
      ExampleCluster::Start(/*others=*/2);
  if (!cluster.ok()) {
    std::fprintf(stderr, "monitor: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  ActorSystem& system = (*cluster)->system();
  Inbox observer(system);
  const int polls = absl::GetFlag(FLAGS_polls);
  absl::StatusOr<ActorRef> aggregator = system.Spawn(
      [polls, &observer] {
        return std::make_unique<Aggregator>(polls, observer.ref());
      },
      "aggregator");
  if (!aggregator.ok()) {
    return 1;
  }
  std::printf(
      "monitors on node B (%s) and node C (%s) poll every %s and "
      "report to the aggregator on node A (%s)\n",
      (*cluster)->node(0).c_str(), (*cluster)->node(1).c_str(),
      absl::FormatDuration(absl::GetFlag(FLAGS_interval)).c_str(),
      (*cluster)->a().address().c_str());
  std::fflush(stdout);
  MonitorInit init;
  *init.mutable_aggregator() = PidOf(*aggregator);
  init.set_interval_ms(
      absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_interval)));
  std::vector<ActorRef> monitors;
  for (size_t i = 0; i < 2; ++i) {
    const std::string name = i == 0 ? "monitor-B" : "monitor-C";
    absl::StatusOr<ActorRef> monitor =
        (*cluster)->SpawnOn(i, "monitor", name, &init);
    if (!monitor.ok()) {
      std::fprintf(stderr, "monitor: cannot spawn %s: %s\n", name.c_str(),
                   monitor.status().ToString().c_str());
      return 1;
    }
    monitors.push_back(*monitor);
  }
  if (!AwaitTexts(observer, "enough from ", 2)) {
    return 1;
  }
  // pactor's close: after what is already queued.
  std::printf("[%s] closing the monitors\n", Now().c_str());
  std::fflush(stdout);
  for (const ActorRef& monitor : monitors) {
    system.Tell(monitor, PoisonPill());
  }
  if (!AwaitTexts(observer, "closed ", 2)) {
    return 1;
  }
  // A backlog right before the close: it is handled before the aggregator
  // stops (one sender's messages keep their order, the pill comes last).
  const int backlog = absl::GetFlag(FLAGS_backlog);
  std::printf("[%s] queueing %d reports at the aggregator, then closing it\n",
              Now().c_str(), backlog);
  std::fflush(stdout);
  AggregatorRef to_aggregator(observer, *aggregator);
  for (int i = 1; i <= backlog; ++i) {
    Status queued;
    queued.set_monitor("backlog");
    queued.set_seq(i);
    to_aggregator.UpdateStatus(observer, queued);
  }
  Closed sent;
  sent.set_monitor("backlog");
  sent.set_reports(backlog);
  to_aggregator.MonitorClosed(observer, sent);
  observer.Watch(*aggregator);
  observer.Tell(*aggregator, PoisonPill());
  if (!observer.ReceiveAs<Terminated>(kWait).ok()) {
    return 1;
  }
  // After the close: not handled. Unlike pactor, where it is lost
  // silently, a call that waits for its answer learns why.
  Status late;
  late.set_monitor("late");
  absl::StatusOr<google::protobuf::Empty> answer =
      to_aggregator.UpdateStatus(late, kWait).get();
  if (answer.ok()) {
    std::fprintf(stderr, "monitor: a closed aggregator took a report\n");
    return 1;
  }
  std::printf("a report sent after the close failed: %s\n",
              answer.status().ToString().c_str());
  return 0;
}

}  // namespace
}  // namespace troupe::examples

TROUPE_REGISTER_ACTOR_KIND(troupe::examples::MonitorActor::KindOf(
    "monitor", troupe::examples::MakeMonitor));

int main(int argc, char** argv) {
  return troupe::examples::ExampleMain(
      argc, argv,
      "pactor's Monitor across three nodes: monitors on nodes B and C poll\n"
      "with self-sent delayed messages and report to an aggregator on node\n"
      "A; closing handles the queued messages first.\n"
      "  bazel run //examples/monitor [-- --polls=5 --interval=50ms]",
      troupe::examples::Run);
}
