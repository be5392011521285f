#ifndef CMALLOCSTATS_H
#define CMALLOCSTATS_H
#include <stddef.h>

/// Bytes handed out by malloc and not yet freed (glibc's mallinfo2().uordblks + hblkhd).
size_t cmalloc_heap_in_use(void);

/// Returns free memory at the top of the heap and in arenas to the system (malloc_trim).
void cmalloc_trim(void);

#endif
