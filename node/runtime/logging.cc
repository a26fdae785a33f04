#include "node/runtime/logging.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace troupe {
namespace {

int SeverityFromEnvironment() {
  const char* value = std::getenv("TROUPE_LOG");
  if (value == nullptr) {
    return static_cast<int>(LogSeverity::kInfo);
  }
  const std::string level(value);
  if (level == "error") {
    return static_cast<int>(LogSeverity::kError);
  }
  if (level == "warning") {
    return static_cast<int>(LogSeverity::kWarning);
  }
  return static_cast<int>(LogSeverity::kInfo);
}

std::atomic<int>& MinSeverity() {
  static std::atomic<int> min_severity{SeverityFromEnvironment()};
  return min_severity;
}

}  // namespace

void SetMinLogSeverity(LogSeverity severity) {
  MinSeverity().store(static_cast<int>(severity), std::memory_order_relaxed);
}

void Log(LogSeverity severity, absl::string_view message) {
  if (static_cast<int>(severity) <
      MinSeverity().load(std::memory_order_relaxed)) {
    return;
  }
  static constexpr char kLetters[] = {'I', 'W', 'E'};
  const std::string line = absl::StrCat(
      absl::FormatTime("%H:%M:%E6S", absl::Now(), absl::LocalTimeZone()),
      " troupe ", std::string(1, kLetters[static_cast<int>(severity)]), " ",
      message, "\n");
  std::fwrite(line.data(), 1, line.size(),
              stderr);  // one write: no interleaving
}

}  // namespace troupe
