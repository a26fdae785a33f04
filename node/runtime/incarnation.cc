#include "node/runtime/incarnation.h"

#include "absl/random/random.h"

namespace troupe {

uint64_t NewIncarnation() {
  // A BitGen per thread: seeded from the OS entropy source, so nodes started
  // at the same instant on different hosts still differ.
  thread_local absl::BitGen gen;
  return absl::Uniform<uint64_t>(absl::IntervalClosed, gen, 1, UINT64_MAX);
}

}  // namespace troupe
