// How much of the heap a process is using: bytes handed out by malloc and
// not yet freed. Unlike RSS it falls when memory is freed (the allocator
// keeps freed pages for reuse, so RSS stays at its peak), which makes it the
// figure for "did this node give back what a burst allocated?".
#pragma once

#include <cstdint>

namespace troupe {

// Bytes allocated and not freed, as the allocator the program runs on counts
// them: tcmalloc's (troupe's binaries), the sanitizers', or glibc's.
// Thread-safe; takes the allocator's locks briefly, so not for hot paths.
uint64_t HeapInUseBytes();

}  // namespace troupe
