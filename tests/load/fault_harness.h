// What the fault tests under load share (fault_test, slow_consumer_test):
// the cluster they start (node A in the test's process, node processes of
// the load program), the plans and reports of the load kinds, and waits
// that end on a definite outcome. Test-only; not thread-safe unless said.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "examples/common/example_cluster.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/dead_letters.h"
#include "tests/load/load.pb.h"
#include "tests/load/load_kinds.h"

namespace troupe::load {

// How long a step of a fault test may take before it fails.
inline constexpr absl::Duration kWait = absl::Seconds(20);

// The floods take both cores by design, and a node starved of CPU for
// longer than its failure threshold cannot tell that from a silent peer
// (README, "Failure detection": seen under ASan, and with other tests on
// the cores). Where a test does not measure detection its nodes allow 5 s;
// the dead it waits for are killed (their sockets close at once) or leave.
inline constexpr absl::Duration kLoadedThreshold = absl::Seconds(5);

// Node A in this process and `nodes` node processes (the load program)
// with `flags`, every node with `failure_threshold` (zero: the default,
// 600 ms).
absl::StatusOr<std::unique_ptr<examples::ExampleCluster>> StartCluster(
    int nodes, std::vector<std::string> flags = {},
    absl::Duration failure_threshold = kLoadedThreshold);

// A source's plan: `count` messages of `stream` to `target`, at most
// `window` unanswered (0: no flow control).
SourcePlan Plan(const ActorRef& target, const std::string& stream,
                uint64_t count, uint64_t window);

// Asks `source` for its report until `done(report)` holds (each ask
// bounded), for up to `timeout`.
template <typename Pred>
absl::StatusOr<SourceReport> AwaitSource(ActorSystem& system,
                                         const ActorRef& source, Pred done,
                                         absl::Duration timeout = kWait) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<SourceReport> report;
  do {
    report = AskReport<SourceReport>(system, source, absl::Seconds(5));
    if (report.ok() && done(*report)) {
      return report;
    }
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return report.ok() ? absl::DeadlineExceededError(
                           absl::StrCat("source ", report->stream(), " sent ",
                                        report->sent(), ", not done"))
                     : report.status();
}

// The count a sink reports for `stream` (NOT_FOUND when it has none).
absl::StatusOr<StreamCount> SinkCount(Requester& teller, const ActorRef& sink,
                                      const std::string& stream);

// Counts arrive late on a busy machine (dead letters are made and
// published by whoever drains a queue, at its pace): every message is
// counted exactly once, so the end is definite, and the wait is for the
// sums to agree, however late. `sample` returns {accounted, expected}; the
// wait ends when accounted reaches expected, or when accounted has not
// moved for 60 s (then what is missing was lost, not late: the caller's
// EXPECT says how many). Progress goes to stdout every 10 s, as `what`.
absl::Status AwaitAccounted(
    const char* what,
    const std::function<absl::StatusOr<std::pair<uint64_t, uint64_t>>()>&
        sample);

// Counts, while it lives, this node's dead letters of LoadMsg addressed to
// the node at `address`. count() is thread-safe.
class LoadDeadLetters {
 public:
  LoadDeadLetters(ActorSystem& system, std::string address)
      : dead_letters_(system.dead_letters()),
        subscription_(dead_letters_.Subscribe(
            [this, address = std::move(address)](const DeadLetterEvent& event) {
              if (event.target.address() == address &&
                  Is<LoadMsg>(*event.message)) {
                count_.fetch_add(1);
              }
            })) {}
  ~LoadDeadLetters() { dead_letters_.Unsubscribe(subscription_); }

  uint64_t count() const { return count_.load(); }

 private:
  DeadLetters& dead_letters_;
  std::atomic<uint64_t> count_{0};
  const uint64_t subscription_;
};

}  // namespace troupe::load
