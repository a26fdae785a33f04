// Minimal logging for the runtime (this Abseil has no absl/log): one line
// per call to stderr, with time and severity. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace troupe {

enum class LogSeverity { kInfo, kWarning, kError };

void Log(LogSeverity severity, absl::string_view message);

// Lines below this severity are dropped (default: kInfo; the environment
// variable TROUPE_LOG=warning|error raises it at start).
void SetMinLogSeverity(LogSeverity severity);

// Logs at most `burst` lines per `interval` for one kind of event, so that
// a flood of them (a peer sending garbage, a client naming thousands of
// missing nodes) cannot flood the log. Lines held back are counted, and the
// next line let through says how many. Thread-safe.
class LogLimiter {
 public:
  LogLimiter(int burst, absl::Duration interval)
      : burst_(burst), interval_(interval) {}

  void Log(LogSeverity severity, absl::string_view message);

 private:
  const int burst_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int in_window_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t held_back_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace troupe
