#include "CMallocStats.h"
#if defined(__linux__)
#include <malloc.h>
#endif

// Swift's Glibc module does not export <malloc.h>; the benchmarks need two of its calls.

size_t cmalloc_heap_in_use(void) {
#if defined(__linux__)
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}

void cmalloc_trim(void) {
#if defined(__linux__)
    malloc_trim(0);
#endif
}
