#include "util/memory.h"

#include <malloc.h>

namespace robotrain::util {

void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, -1);
}

}  // namespace robotrain::util
