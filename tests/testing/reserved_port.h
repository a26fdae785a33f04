// ReservedPort: a free loopback port held (bound, not listening: a connect
// is refused) until Release, for tests and benchmarks that must know a
// node's address before the node starts (a seed started after the node
// that names it; a node restarted at its old address). Between Release and
// the node's bind another process could take the port; tests start the node
// right after.
#pragma once

#include <string>

namespace troupe::testing {

class ReservedPort {
 public:
  // Binds 127.0.0.1:0; address() is empty if that failed.
  ReservedPort();
  ~ReservedPort();  // Release()
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;

  // "127.0.0.1:PORT".
  const std::string& address() const { return address_; }
  // Lets the port go (idempotent).
  void Release();

 private:
  int fd_ = -1;
  std::string address_;
};

}  // namespace troupe::testing
