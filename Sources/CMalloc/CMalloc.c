#include "CMalloc.h"
// <malloc.h> first: it is what defines __GLIBC__ (through <features.h>).
#if defined(__linux__)
#include <malloc.h>
#endif
// glibc's mallinfo2, malloc_trim and mallopt; elsewhere (musl, Darwin) these do nothing.
#if defined(__linux__) && defined(__GLIBC__)
#define CMALLOC_GLIBC 1
#else
#define CMALLOC_GLIBC 0
#endif

size_t cmalloc_heap_in_use(void) {
#if CMALLOC_GLIBC
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}

void cmalloc_trim(void) {
#if CMALLOC_GLIBC
    malloc_trim(0);
#endif
}

int cmalloc_fix_thresholds(size_t bytes) {
#if CMALLOC_GLIBC
    // The mmap threshold too: it may have risen already, and fixing the trim threshold alone
    // would freeze it wherever it stands.
    return mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1 && mallopt(M_TRIM_THRESHOLD, (int)bytes) == 1;
#else
    (void)bytes;
    return 0;
#endif
}
