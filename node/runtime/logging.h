// Minimal logging for the runtime (this Abseil has no absl/log): one line
// per call to stderr, with time and severity. Thread-safe.
#pragma once

#include "absl/strings/string_view.h"

namespace troupe {

enum class LogSeverity { kInfo, kWarning, kError };

void Log(LogSeverity severity, absl::string_view message);

// Lines below this severity are dropped (default: kInfo; the environment
// variable TROUPE_LOG=warning|error raises it at start).
void SetMinLogSeverity(LogSeverity severity);

}  // namespace troupe
