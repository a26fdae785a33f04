#include "tests/testing/proc_stats.h"

#include <dirent.h>

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

}  // namespace troupe::testing
