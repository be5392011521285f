#ifndef CMALLOC_H
#define CMALLOC_H
#include <stddef.h>

// Swift's Glibc module does not export <malloc.h>; these are the calls of it the executor and
// its benchmarks use. Off glibc they do nothing.

/// Bytes handed out by malloc and not yet freed (glibc's mallinfo2().uordblks + hblkhd).
size_t cmalloc_heap_in_use(void);

/// Returns free memory at the top of the heap and in arenas to the system (malloc_trim).
void cmalloc_trim(void);

/// Sets glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD to `bytes`, which also stops glibc's
/// dynamic adjustment of both; returns 1 on success, 0 on failure or off glibc.
int cmalloc_fix_thresholds(size_t bytes);

#endif
