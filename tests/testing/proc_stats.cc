#include "tests/testing/proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace troupe::testing {

namespace {

// The number after `field` in /proc/<pid>/status; 0 when unreadable.
int64_t StatusField(pid_t pid, absl::string_view field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, field)) {
      std::vector<std::string> words =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      int64_t value = 0;
      if (words.size() >= 2 && absl::SimpleAtoi(words[1], &value)) {
        return value;
      }
    }
  }
  return 0;
}

}  // namespace

int64_t RssKb(pid_t pid) { return StatusField(pid, "VmRSS:"); }

int Threads(pid_t pid) {
  return static_cast<int>(StatusField(pid, "Threads:"));
}

int OpenFds(pid_t pid) {
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) {
    return -1;
  }
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') {
      ++count;
    }
  }
  closedir(dir);
  return count;
}

double CpuSeconds(pid_t pid) {
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat_file, line)) {
    return -1;
  }
  // The command name (field 2) may hold spaces: count from its ')'.
  const size_t end_of_name = line.rfind(')');
  if (end_of_name == std::string::npos) {
    return -1;
  }
  std::vector<std::string> fields =
      absl::StrSplit(line.substr(end_of_name + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  int64_t user = 0;
  int64_t system = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &user) ||
      !absl::SimpleAtoi(fields[12], &system)) {
    return -1;
  }
  return static_cast<double>(user + system) / sysconf(_SC_CLK_TCK);
}

}  // namespace troupe::testing
