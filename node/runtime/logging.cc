#include "node/runtime/logging.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

std::atomic<LogFormat> format{LogFormat::kText};

absl::Mutex node_mu(absl::kConstInit);
std::string& Node() ABSL_EXCLUSIVE_LOCKS_REQUIRED(node_mu) {
  static std::string* node = new std::string();
  return *node;
}

// The length of the valid UTF-8 sequence at the start of `s`, or 0.
size_t Utf8Length(absl::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  size_t length;
  uint32_t min;
  if (lead < 0x80) {
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < length) {
    return 0;
  }
  uint32_t code = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (byte(i) & 0x3F);
  }
  const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
  return code >= min && code <= 0x10FFFF && !surrogate ? length : 0;
}

// `s` as a JSON string, quotes included.
void AppendJsonString(std::string& out, absl::string_view s) {
  out += '"';
  while (!s.empty()) {
    const unsigned char c = static_cast<unsigned char>(s[0]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else if (c >= 0x80) {
      const size_t length = Utf8Length(s);
      if (length == 0) {
        out += "\\ufffd";
        s.remove_prefix(1);
        continue;
      }
      out.append(s.data(), length);
      s.remove_prefix(length);
      continue;
    } else {
      out += static_cast<char>(c);
    }
    s.remove_prefix(1);
  }
  out += '"';
}

// `s` for a text line: control characters (a peer's newline among them)
// escaped, so one call stays one line and moves no terminal's cursor; tabs
// kept. C1 controls too: U+0080-U+009F in UTF-8 (\xc2\x80-\xc2\x9f, CSI
// among them) as \u00HH, and the raw bytes 0x80-0x9F an 8-bit terminal
// reads as C1 as \xHH.
void AppendTextMessage(std::string& out, absl::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const unsigned char next =
        i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if ((c < 0x20 && c != '\t') || c == 0x7F ||
               (c >= 0x80 && c <= 0x9F)) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else if (c == 0xC2 && next >= 0x80 && next <= 0x9F) {
      absl::StrAppendFormat(&out, "\\u%04x", next);
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
}

}  // namespace

void SetMinLogSeverity(LogSeverity severity) {
  MinSeverity().store(static_cast<int>(severity), std::memory_order_relaxed);
}

void SetLogFormat(LogFormat log_format) {
  format.store(log_format, std::memory_order_relaxed);
}

void SetLogNode(absl::string_view address) {
  absl::MutexLock lock(&node_mu);
  Node() = std::string(address);
}

std::string FormatLogLine(LogFormat log_format, absl::Time time,
                          LogSeverity severity, absl::string_view node,
                          absl::string_view component,
                          absl::string_view message,
                          std::initializer_list<LogField> fields) {
  const int level = static_cast<int>(severity);
  if (log_format == LogFormat::kText) {
    static constexpr char kLetters[] = {'I', 'W', 'E'};
    std::string line = absl::StrCat(
        absl::FormatTime("%H:%M:%E6S", time, absl::LocalTimeZone()), " troupe ",
        std::string(1, kLetters[level]), " ");
    AppendTextMessage(line, message);
    line += '\n';
    return line;
  }
  static constexpr const char* kLevels[] = {"info", "warning", "error"};
  std::string line = absl::StrCat(
      "{\"time\":\"",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone()),
      "\",\"level\":\"", kLevels[level], "\",\"node\":");
  AppendJsonString(line, node);
  line += ",\"component\":";
  AppendJsonString(line, component);
  line += ",\"message\":";
  AppendJsonString(line, message);
  for (const LogField& field : fields) {
    line += ',';
    AppendJsonString(line, field.key);
    line += ':';
    AppendJsonString(line, field.value);
  }
  line += "}\n";
  return line;
}

void Log(LogSeverity severity, absl::string_view component,
         absl::string_view message, std::initializer_list<LogField> fields) {
  if (static_cast<int>(severity) <
      MinSeverity().load(std::memory_order_relaxed)) {
    return;
  }
  std::string node;
  {
    absl::MutexLock lock(&node_mu);
    node = Node();
  }
  const std::string line =
      FormatLogLine(format.load(std::memory_order_relaxed), absl::Now(),
                    severity, node, component, message, fields);
  std::fwrite(line.data(), 1, line.size(),
              stderr);  // one write: no interleaving
}

void LogLimiter::Log(LogSeverity severity, absl::string_view message,
                     std::initializer_list<LogField> fields) {
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
    troupe::Log(severity, component_, message, fields);
  } else {
    troupe::Log(severity, component_,
                absl::StrCat(message, " (", held_back,
                             " more lines like this were held back)"),
                fields);
  }
}

}  // namespace troupe
