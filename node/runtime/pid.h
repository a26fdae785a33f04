// Pid: the plain value that names an actor anywhere in a cluster, and its
// text form troupe://address/id.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace troupe {

// The address of a runtime without a network endpoint.
inline constexpr absl::string_view kLocalAddress = "local";

struct Pid {
  std::string address;       // host:port of the node, or kLocalAddress
  std::string id;            // unique on that node
  uint64_t incarnation = 0;  // 0 = "whichever run of the node is there now"

  // troupe://address/id (the incarnation is not part of the text form).
  std::string ToString() const;

  friend bool operator==(const Pid& a, const Pid& b) {
    return a.incarnation == b.incarnation && a.id == b.id &&
           a.address == b.address;
  }
  friend bool operator!=(const Pid& a, const Pid& b) { return !(a == b); }
};

// Parses troupe://address/id (address: host:port, [v6]:port or "local"; id:
// non-empty). The result's incarnation is 0. INVALID_ARGUMENT, with what is
// wrong, for anything else.
absl::StatusOr<Pid> ParsePid(absl::string_view text);

// True when `address` is host:port or [v6]:port with a port a node can be
// reached on (1-65535): the address of a node with an endpoint, not
// kLocalAddress.
bool IsNodeAddress(absl::string_view address);

// Checks an actor name given at spawn: non-empty, at most 255 bytes, no '/',
// no whitespace or control characters, and not starting with '$' (reserved
// for generated names). INVALID_ARGUMENT otherwise.
absl::Status ValidateActorName(absl::string_view name);

}  // namespace troupe
