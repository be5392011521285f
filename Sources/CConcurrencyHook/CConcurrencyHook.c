#include "CConcurrencyHook.h"
#include <stddef.h>

// A function pointer in the runtime; declared as a plain pointer, which it has the size and
// alignment of: only its address and an atomic store of one pointer are wanted here.
extern void *swift_task_enqueueGlobal_hook;

void *cconcurrency_enqueue_global_hook_address(void) {
    return &swift_task_enqueueGlobal_hook;
}

bool cconcurrency_install_enqueue_global_hook(void *hook) {
    void *expected = NULL;
    // Compare and exchange, as NIO does, so that a hook someone else set is left alone.
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
