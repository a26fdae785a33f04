#include "tests/load/fault_harness.h"

#include <cstdio>

namespace troupe::load {

using ::troupe::examples::ExampleCluster;
using ::troupe::examples::NodeProcessOptions;

constexpr char kNodeBinary[] = "tests/load/load";

absl::StatusOr<std::unique_ptr<ExampleCluster>> StartCluster(
    int nodes, std::vector<std::string> flags,
    absl::Duration failure_threshold) {
  NodeProcessOptions options;
  options.binary = kNodeBinary;
  options.flags = std::move(flags);
  options.failure_threshold = failure_threshold;
  return ExampleCluster::Start(nodes, std::move(options));
}

SourcePlan Plan(const ActorRef& target, const std::string& stream,
                uint64_t count, uint64_t window) {
  SourcePlan plan;
  *plan.mutable_target() = ToProto(target.pid());
  plan.set_stream(stream);
  plan.set_count(count);
  plan.set_window(window);
  return plan;
}

absl::StatusOr<StreamCount> SinkCount(Requester& teller, const ActorRef& sink,
                                      const std::string& stream) {
  absl::StatusOr<SinkReport> report =
      AskReport<SinkReport>(teller, sink, absl::Seconds(5));
  if (!report.ok()) {
    return report.status();
  }
  for (const StreamCount& count : report->streams()) {
    if (count.stream() == stream) {
      return count;
    }
  }
  return absl::NotFoundError(absl::StrCat("no stream ", stream));
}

absl::Status AwaitAccounted(
    const char* what,
    const std::function<absl::StatusOr<std::pair<uint64_t, uint64_t>>()>&
        sample) {
  constexpr absl::Duration kStalled = absl::Seconds(60);
  uint64_t last = 0;
  absl::Time moved = absl::Now();
  absl::Time reported = absl::Now();
  for (;;) {
    absl::StatusOr<std::pair<uint64_t, uint64_t>> counts = sample();
    if (!counts.ok()) {
      return counts.status();
    }
    const auto [accounted, expected] = *counts;
    if (accounted >= expected) {
      return absl::OkStatus();
    }
    const absl::Time now = absl::Now();
    if (accounted != last) {
      last = accounted;
      moved = now;
    } else if (now - moved > kStalled) {
      return absl::OkStatus();  // lost
    }
    if (now - reported > absl::Seconds(10)) {
      reported = now;
      std::printf("%s: %lu of %lu accounted for so far\n", what, accounted,
                  expected);
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace troupe::load
