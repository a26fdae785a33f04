#include "tests/testing/delay_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace troupe::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// Writes all of `data`; false when the peer is gone.
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DelayProxy>> DelayProxy::Start(
    absl::Duration one_way) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  }
  sockaddr_in addr = Loopback(0);
  socklen_t size = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
    const std::string error = strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("delay proxy: ", error));
  }
  std::unique_ptr<DelayProxy> proxy(
      new DelayProxy(fd, ntohs(addr.sin_port), one_way));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

DelayProxy::DelayProxy(int listen_fd, int port, absl::Duration one_way)
    : listen_fd_(listen_fd),
      port_(port),
      one_way_nanos_(absl::ToInt64Nanoseconds(one_way)) {}

DelayProxy::~DelayProxy() {
  stopping_.store(true);
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    for (int fd : fds_) {
      shutdown(fd, SHUT_RDWR);  // wakes the pumps
    }
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  absl::MutexLock lock(&mu_);
  for (int fd : fds_) {
    close(fd);
  }
  close(listen_fd_);
}

void DelayProxy::Partition(bool cut) {
  absl::MutexLock lock(&mu_);
  cut_ = cut;
}

bool DelayProxy::WaitHealed() {
  absl::MutexLock lock(&mu_);
  while (cut_ && !stopping_.load()) {
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](bool* cut) { return !*cut; }, &cut_),
                         absl::Milliseconds(50));
  }
  return !stopping_.load();
}

void DelayProxy::AcceptLoop() {
  for (;;) {
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // shut down
    }
    if (stopping_.load()) {
      close(client);
      return;
    }
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(upstream_port_.load());
    if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&addr),
                              sizeof(addr)) != 0) {
      close(client);  // nothing behind the proxy: as a refused connection
      if (server >= 0) {
        close(server);
      }
      continue;
    }
    NoDelay(client);
    NoDelay(server);
    absl::MutexLock lock(&mu_);
    fds_.push_back(client);
    fds_.push_back(server);
    // The dialer's first bytes go out only after TCP's own handshake, a
    // round trip, which the kernel completed at once on loopback.
    const absl::Time established = absl::Now() + 2 * one_way();
    threads_.emplace_back([this, client, server, established] {
      Pump(client, server, established);
    });
    threads_.emplace_back(
        [this, client, server] { Pump(server, client, absl::InfinitePast()); });
  }
}

void DelayProxy::Pump(int from, int to, absl::Time not_before) {
  // Bytes read, each chunk with the time it may be passed on.
  std::deque<std::pair<absl::Time, std::string>> held;
  bool open = true;
  char buffer[64 << 10];
  while (!stopping_.load() && (open || !held.empty())) {
    if (!WaitHealed()) {
      break;
    }
    const absl::Time now = absl::Now();
    while (!held.empty() && held.front().first <= now) {
      if (!WriteAll(to, held.front().second)) {
        open = false;
        held.clear();
        break;
      }
      held.pop_front();
    }
    if (!open && held.empty()) {
      break;
    }
    int wait_ms = 50;  // looks at the cut and the stop flag this often
    if (!held.empty()) {
      wait_ms = std::min<int64_t>(
          wait_ms, absl::ToInt64Milliseconds(held.front().first - now) + 1);
    }
    if (!open) {
      absl::SleepFor(absl::Milliseconds(wait_ms));
      continue;
    }
    pollfd poll_fd{from, POLLIN, 0};
    const int ready = poll(&poll_fd, 1, wait_ms);
    if (ready <= 0) {
      continue;
    }
    const ssize_t n = recv(from, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      open = false;  // pass on what is held, then the end
      continue;
    }
    held.emplace_back(std::max(absl::Now(), not_before) + one_way(),
                      std::string(buffer, static_cast<size_t>(n)));
  }
  shutdown(to, SHUT_WR);
}

}  // namespace troupe::testing
