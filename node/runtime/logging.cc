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

void LogLimiter::Log(LogSeverity severity, absl::string_view message) {
  uint64_t held_back = 0;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now - window_start_ >= interval_) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= burst_) {
      ++held_back_;
      return;
    }
    ++in_window_;
    held_back = held_back_;
    held_back_ = 0;
  }
  if (held_back == 0) {
    troupe::Log(severity, message);
  } else {
    troupe::Log(severity,
                absl::StrCat(message, " (", held_back,
                             " more lines like this were held back)"));
  }
}

}  // namespace troupe
