// Pid: the plain value that names an actor anywhere in a cluster, and its
// text form troupe://address/id.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace troupe {

// The address of a runtime without a network endpoint.
inline constexpr absl::string_view kLocalAddress = "local";

// Identity (README, "Identity"): the node is `address` and `incarnation`
// (any alias of the address reaches the same node); the actor is `uid` on
// that node run. A Pid with uid 0 is name-only: it reaches whichever actor
// has `id` when a message arrives.
struct Pid {
  std::string address;       // host:port of the node, or kLocalAddress
  std::string id;            // unique among the node's live actors
  uint64_t incarnation = 0;  // 0 = "whichever run of the node is there now"
  uint64_t uid = 0;          // 0 = "whichever actor has this id now"

  // troupe://address/id (the incarnation and uid are not part of the text
  // form: text names an actor by name only).
  std::string ToString() const;

  friend bool operator==(const Pid& a, const Pid& b) {
    return a.uid == b.uid && a.incarnation == b.incarnation && a.id == b.id &&
           a.address == b.address;
  }
  friend bool operator!=(const Pid& a, const Pid& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const Pid& pid) {
    return H::combine(std::move(h), pid.address, pid.id, pid.incarnation,
                      pid.uid);
  }
};

// Parses troupe://address/id (address: host:port, [v6]:port or "local"; id:
// non-empty). The result's incarnation and uid are 0 (a name-only ref).
// INVALID_ARGUMENT, with what is wrong, for anything else.
absl::StatusOr<Pid> ParsePid(absl::string_view text);

// True when `address` is host:port or [v6]:port with a port a node can be
// reached on (1-65535): the address of a node with an endpoint, not
// kLocalAddress.
bool IsNodeAddress(absl::string_view address);

// Checks an actor name given at spawn: non-empty, at most 255 bytes, no '/',
// no whitespace or control characters, and not starting with '$' (reserved
// for generated names) or '@' (identities: identity_resolver.h).
// INVALID_ARGUMENT otherwise.
absl::Status ValidateActorName(absl::string_view name);

}  // namespace troupe
