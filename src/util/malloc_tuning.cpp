#include "util/malloc_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bc::util {

void fix_malloc_thresholds() {
#if defined(__GLIBC__)
  // Setting either turns glibc's dynamic adjustment of both off.
  constexpr int kThreshold = 128 * 1024;
  ::mallopt(M_MMAP_THRESHOLD, kThreshold);
  ::mallopt(M_TRIM_THRESHOLD, kThreshold);
#endif
}

}  // namespace bc::util
