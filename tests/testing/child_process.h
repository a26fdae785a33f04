// ChildProcess: runs a program for a multi-process test or benchmark, reads
// its stdout line by line with a timeout, signals it, and always reaps it
// (the destructor kills what is still running and waits for it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace troupe::testing {

class ChildProcess {
 public:
  // Starts `path` with `args` (stdout piped to us, stderr inherited).
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      const std::string& path, const std::vector<std::string>& args);
  // SIGKILL if still running, then reaps.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of stdout (without '\n'); DEADLINE_EXCEEDED after
  // `timeout`, UNAVAILABLE at end of output.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // Reads lines until one starts with `prefix`; returns it.
  absl::StatusOr<std::string> ReadLineStartingWith(const std::string& prefix,
                                                   absl::Duration timeout);

  // Sends `signal` (no-op once reaped).
  void Signal(int signal);
  // Waits up to `timeout` for the process to exit; returns its wait status
  // (see waitpid). DEADLINE_EXCEEDED if it is still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  ChildProcess(pid_t pid, int out) : pid_(pid), out_(out) {}

  pid_t pid_;
  int out_;
  bool reaped_ = false;
  int status_ = 0;
  std::string buffered_;
};

// What a troupe_node prints first once it serves: "troupe node listening
// on ADDRESS incarnation HEX".
struct NodeReady {
  std::string address;
  uint64_t incarnation = 0;
};
// Reads that line from `node`'s output; DEADLINE_EXCEEDED after `timeout`,
// INTERNAL for another line.
absl::StatusOr<NodeReady> ReadNodeReady(ChildProcess& node,
                                        absl::Duration timeout);

}  // namespace troupe::testing
