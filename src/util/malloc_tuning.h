// How a daemon's allocator gives memory back after a burst (issue 17: RSS back within 10% of
// its start after a flood of connections).
#pragma once

namespace bc::util {

// Fixes glibc malloc's trim and mmap thresholds at their documented defaults (128 KiB). Left to
// themselves they grow: each time a block above the mmap threshold is freed, the threshold rises
// to its size and the trim threshold to twice that (up to 32 and 64 MiB), so that after one
// large free (a SQLite page cache, a file read whole) a thread's arena keeps up to that much
// free memory at its top for good; malloc_trim() gives back the free pages inside an arena but
// never shortens a thread arena's top. Measured on a node after 2,000 idle connections: 1.9 to
// 3.6 MiB left resident in 2 of 4 runs with the thresholds left to float, at most 0.2 MiB in 4
// of 4 with them fixed. Call once, early, before threads start. Elsewhere than glibc: nothing.
void fix_malloc_thresholds();

}  // namespace bc::util
