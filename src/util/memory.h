#pragma once
// Process-wide allocator policy, set once at the start of main (the CLI and the benchmarks,
// so that benchmarks measure what the binary does).

namespace robotrain::util {

// Keep freed memory instead of handing large tensors back to the OS after every step (page
// faults otherwise cost ~20% of a training step): with glibc, blocks up to 32 MiB (the largest
// mmap threshold it accepts) come from the heap and the heap is never trimmed. A no-op under
// jemalloc, which keeps memory itself.
void keep_freed_memory();

}  // namespace robotrain::util
