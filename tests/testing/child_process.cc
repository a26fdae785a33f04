#include "tests/testing/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace troupe::testing {

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::string& path, const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    // Signals the parent blocked (e.g. a node's stop signals) must not stay
    // blocked in the child.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pipe_fds[0]));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    kill(pid_, SIGCONT);  // a stopped process must run to die
    waitpid(pid_, &status_, 0);
  }
  close(out_);
}

absl::StatusOr<std::string> ChildProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (const size_t newline = buffered_.find('\n');
        newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no line from pid ", pid_, " within ",
                       absl::FormatDuration(timeout)));
    }
    pollfd fd{out_, POLLIN, 0};
    const int ready =
        poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (ready <= 0) {
      continue;
    }
    char chunk[4096];
    const ssize_t n = read(out_, chunk, sizeof(chunk));
    if (n == 0) {
      return absl::UnavailableError(
          absl::StrCat("pid ", pid_, " closed its output"));
    }
    if (n > 0) {
      buffered_.append(chunk, static_cast<size_t>(n));
    }
  }
}

absl::StatusOr<std::string> ChildProcess::ReadLineStartingWith(
    const std::string& prefix, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<std::string> line = ReadLine(deadline - absl::Now());
    if (!line.ok() || absl::StartsWith(*line, prefix)) {
      return line;
    }
  }
}

void ChildProcess::Signal(int signal) {
  if (!reaped_) {
    kill(pid_, signal);
  }
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!reaped_) {
    const pid_t done = waitpid(pid_, &status_, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      break;
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("pid ", pid_, " still running after ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(2));  // bounded by the deadline
  }
  return status_;
}

absl::StatusOr<NodeReady> ReadNodeReady(ChildProcess& node,
                                        absl::Duration timeout) {
  absl::StatusOr<std::string> line =
      node.ReadLineStartingWith("troupe node listening on ", timeout);
  if (!line.ok()) {
    return line.status();
  }
  std::vector<std::string> words = absl::StrSplit(*line, ' ');
  NodeReady ready;
  if (words.size() != 7 || !absl::SimpleHexAtoi(words[6], &ready.incarnation)) {
    return absl::InternalError(
        absl::StrCat("not a node's first line: ", *line));
  }
  ready.address = words[4];
  return ready;
}

}  // namespace troupe::testing
