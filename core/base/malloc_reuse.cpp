#include "core/base/malloc_reuse.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace avf {

void reuse_freed_memory() {
#if defined(__GLIBC__)
  const char* keep_defaults = std::getenv("AVF_MALLOC_DEFAULTS");
  if (keep_defaults && std::strcmp(keep_defaults, "1") == 0) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc refuses more than HEAP_MAX_SIZE / 2 = 32 MiB
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

}  // namespace avf
