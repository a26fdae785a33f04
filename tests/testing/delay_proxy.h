// DelayProxy: a TCP proxy on 127.0.0.1 that stands for a long network
// path, for tests of links over it. Every byte is held for `one_way` in
// each direction (so a round trip through it takes twice that; a new
// connection's first bytes wait one more round trip, for TCP's handshake),
// and the
// path can be cut (a partition: nothing moves either way, connections
// stay open, as when packets are dropped) and healed (what was held then
// goes on, as TCP's retransmissions would deliver it). This kernel has no
// sch_netem (shared/notes/multi-host-testing.md); a proxy needs neither
// root nor namespaces, and delays what a link's round trips wait on.
//
// A node is put behind it by advertising the proxy's address: every peer
// that dials the node then goes through the proxy. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace troupe::testing {

class DelayProxy {
 public:
  // Listens on 127.0.0.1 on a free port; connections are forwarded to
  // 127.0.0.1:upstream_port once set_upstream has been called.
  static absl::StatusOr<std::unique_ptr<DelayProxy>> Start(
      absl::Duration one_way);
  // Closes every connection and joins every thread.
  ~DelayProxy();
  DelayProxy(const DelayProxy&) = delete;
  DelayProxy& operator=(const DelayProxy&) = delete;

  int port() const { return port_; }
  // Where connections go (the port of the node behind the proxy).
  void set_upstream(int port) { upstream_port_.store(port); }
  // Cuts (true) or heals (false) the path, both ways.
  void Partition(bool cut);
  // From now on, bytes read are held for `one_way` (a path that became
  // slower or faster; bytes already held keep their time).
  void set_one_way(absl::Duration one_way) {
    one_way_nanos_.store(absl::ToInt64Nanoseconds(one_way));
  }
  absl::Duration one_way() const {
    return absl::Nanoseconds(one_way_nanos_.load());
  }

 private:
  struct Pipe;
  DelayProxy(int listen_fd, int port, absl::Duration one_way);
  void AcceptLoop();
  // Moves bytes from `from` to `to`, each held for one_way() (counted from
  // `not_before` for bytes read earlier).
  void Pump(int from, int to, absl::Time not_before);
  // Blocks while the path is cut; false once the proxy is stopping.
  bool WaitHealed();

  const int listen_fd_;
  const int port_;
  std::atomic<int64_t> one_way_nanos_;
  std::atomic<int> upstream_port_{0};
  std::atomic<bool> stopping_{false};

  absl::Mutex mu_;
  bool cut_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace troupe::testing
