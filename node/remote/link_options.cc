#include "node/remote/link_options.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace troupe {

absl::Status SetFailureThreshold(absl::Duration threshold,
                                 LinkOptions* options) {
  const absl::Duration least = 2 * options->heartbeat_interval;
  const absl::Duration most = absl::Seconds(60);
  if (threshold < least || threshold > most) {
    return absl::InvalidArgumentError(absl::StrCat(
        absl::FormatDuration(threshold), " is outside ",
        absl::FormatDuration(least), "..", absl::FormatDuration(most),
        " (at least two heartbeat intervals, at most a minute)"));
  }
  options->failure_threshold = threshold;
  options->max_failure_threshold =
      std::max(options->max_failure_threshold, 2 * threshold);
  return absl::OkStatus();
}

}  // namespace troupe
