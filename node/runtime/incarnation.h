// Node incarnations: the random 64-bit number fixed at node start that tells
// two runs of a node on the same address apart (see proto/troupe.proto Pid).
#pragma once

#include <cstdint>

namespace troupe {

// Returns a fresh, uniformly random, non-zero incarnation (zero is reserved
// for "unknown"). Thread-safe.
uint64_t NewIncarnation();

}  // namespace troupe
