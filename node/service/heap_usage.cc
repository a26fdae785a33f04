#include "node/service/heap_usage.h"

#include <malloc.h>

#include <cstddef>

// Whichever allocator the program runs on answers; the weak declarations
// are null unless it is linked in.
extern "C" {
// The sanitizers' allocator (ASan, TSan).
size_t __sanitizer_get_current_allocated_bytes() __attribute__((weak));
// tcmalloc (gperftools), which troupe's binaries link.
int MallocExtension_GetNumericProperty(const char* property, size_t* value)
    __attribute__((weak));
}

namespace troupe {

uint64_t HeapInUseBytes() {
  if (__sanitizer_get_current_allocated_bytes != nullptr) {
    return __sanitizer_get_current_allocated_bytes();
  }
  size_t bytes = 0;
  if (MallocExtension_GetNumericProperty != nullptr &&
      MallocExtension_GetNumericProperty("generic.current_allocated_bytes",
                                         &bytes) != 0) {
    return bytes;
  }
  // glibc: small chunks in use in every arena, plus chunks mmapped alone.
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

}  // namespace troupe
