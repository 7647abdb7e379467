#pragma once
// Process-wide allocator policy, set once at the start of main (the CLI and the benchmarks,
// so that benchmarks measure what the binary does).

namespace robotrain::util {

// Keep freed memory instead of handing large tensors back to the OS after every step (page
// faults otherwise cost ~20% of a training step): with glibc, every block comes from the heap
// (mmap is off: glibc mmaps blocks over 32 MiB whatever the threshold) and the heap is never
// trimmed. A no-op under jemalloc, which keeps memory itself.
void keep_freed_memory();

}  // namespace robotrain::util
