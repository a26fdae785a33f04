// Logging for the runtime and the node (this Abseil has no absl/log): one
// line per call to stderr, written with one write (lines never interleave).
// Thread-safe.
//
// Two formats (README "Operations", "Logs"):
//   text (the default): 07:08:09.123456 troupe W node 10.0.0.2:7420 is down:
//   ... json (--log_format=json): one object per line, for log shippers:
//     {"time":"2026-12-01T07:08:09.123456Z","level":"warning",
//      "node":"10.0.0.1:7420","component":"remote",
//      "message":"node 10.0.0.2:7420 is down: ...","peer":"10.0.0.2:7420"}
//   `fields` (peer, ref, actor...) appear in JSON only; the text line's
//   message already names them. Strings are escaped, and bytes that are not
//   UTF-8 become U+FFFD, so every line is valid JSON whatever a peer sent.
//   In text, control characters (C0 and C1) become \n, \r, \xHH or
//   \u00HH, so a peer's words inside a message cannot start a line of their
//   own or move a terminal's cursor.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace troupe {

enum class LogSeverity { kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// One named value of a line (JSON only): key "peer", "ref", "actor"...
struct LogField {
  absl::string_view key;
  absl::string_view value;
};

// `component`: the part of troupe that speaks ("runtime", "remote",
// "cluster", "service", "typed", "sdk"). A line that reports a failure says
// what failed, why, and what the operator can do.
void Log(LogSeverity severity, absl::string_view component,
         absl::string_view message,
         std::initializer_list<LogField> fields = {});

// Lines below this severity are dropped (default: kInfo; the environment
// variable TROUPE_LOG=warning|error raises it at start).
void SetMinLogSeverity(LogSeverity severity);
// The format of later lines (default kText). Call at start.
void SetLogFormat(LogFormat format);
// The node's address, for the "node" field of JSON lines (empty until
// set: lines from before the node has bound its port have "node":"").
// Call once the node knows it.
void SetLogNode(absl::string_view address);

// The line Log writes (with its "\n"), for tests. `node` as SetLogNode.
std::string FormatLogLine(LogFormat format, absl::Time time,
                          LogSeverity severity, absl::string_view node,
                          absl::string_view component,
                          absl::string_view message,
                          std::initializer_list<LogField> fields);

// Logs at most `burst` lines per `interval` for one kind of event, so that
// a flood of them (a peer sending garbage, a client naming thousands of
// missing nodes) cannot flood the log. Lines held back are counted, and the
// next line let through says how many. Thread-safe.
class LogLimiter {
 public:
  LogLimiter(absl::string_view component, int burst, absl::Duration interval)
      : component_(component), burst_(burst), interval_(interval) {}

  void Log(LogSeverity severity, absl::string_view message,
           std::initializer_list<LogField> fields = {});

 private:
  const std::string component_;
  const int burst_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int in_window_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t held_back_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace troupe
