// The load program's actors, also registered as kinds ("load.sink",
// "load.source") so any node process built with them can spawn them:
//   - Sink: counts LoadMsg per stream and checks each stream's order
//     (seq 0, 1, 2, ...); returns every LoadMark to its sender; answers
//     ReportRequest with a SinkReport; never answers LoadHold. When it
//     stops it prints, per stream,
//       load sink <id> stopped: <stream> received=<n> out_of_order=<n>
//   - Source: sends SourcePlan::count LoadMsg of one stream to its target,
//     a chunk per turn, at most two windows ahead of the marks that came
//     back; watches the target and stops sending when it ends (or when a
//     mark comes back as a dead letter); counts its messages that come back
//     as DeadLetter; answers ReportRequest with a SourceReport.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "node/runtime/actor.h"
#include "node/runtime/message.h"
#include "node/runtime/teller.h"
#include "tests/load/load.pb.h"

namespace troupe::load {

ActorFactory SinkFactory(const SinkPlan& plan);
ActorFactory SourceFactory(const SourcePlan& plan);

// Asks a sink (T = SinkReport) or a source (T = SourceReport) for its
// report, waiting up to `timeout`.
template <typename T>
absl::StatusOr<T> AskReport(Requester& teller, const ActorRef& ref,
                            absl::Duration timeout) {
  absl::StatusOr<MessagePtr> reply =
      teller.Ask(ref, ReportRequest(), timeout).get();
  if (!reply.ok()) {
    return reply.status();
  }
  const T* report = As<T>(**reply);
  if (report == nullptr) {
    return absl::InternalError(
        absl::StrCat(ref.ToString(), " answered with another type"));
  }
  return *report;
}

}  // namespace troupe::load
