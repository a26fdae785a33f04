// Rendezvous (highest random weight) hashing: which member owns a key. Each
// member scores hash(member, key); the highest score owns it. When a member
// goes, only its keys move; when one comes, it takes about 1/N of them
// (Thaler and Ravishankar, 1996). The hash is fixed (FNV-1a 64 with a
// splitmix64 finish), not per process, so every node computes the same
// owner from the same members. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace troupe {

// The same 64 bits on every node and run for the same bytes.
uint64_t StableHash(absl::string_view a, absl::string_view b);

// The member of `members` (addresses) that owns `key`; "" when there are
// none.
std::string RendezvousOwner(const std::vector<std::string>& members,
                            absl::string_view key);

}  // namespace troupe
