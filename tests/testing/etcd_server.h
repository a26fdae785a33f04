// EtcdServer: a real etcd (Debian's etcd-server 3.4, /usr/bin/etcd) for a
// test: one member on free loopback ports with its data in a fresh
// temporary folder, started by the test and killed and removed when the
// object goes. Start waits until it answers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/child_process.h"

namespace troupe::testing {

class EtcdServer {
 public:
  // FAILED_PRECONDITION naming the package when etcd is not installed;
  // DEADLINE_EXCEEDED if it does not answer within `timeout`. `flags` go to
  // etcd as well (e.g. --election-timeout=500, which lowers its minimum
  // lease TTL).
  static absl::StatusOr<std::unique_ptr<EtcdServer>> Start(
      absl::Duration timeout = absl::Seconds(30),
      std::vector<std::string> flags = {});
  ~EtcdServer();

  // host:port of its client URL (gRPC).
  const std::string& endpoint() const { return endpoint_; }

 private:
  EtcdServer() = default;

  std::unique_ptr<ChildProcess> process_;
  std::string dir_;
  std::string endpoint_;
};

}  // namespace troupe::testing
