#ifndef CCONCURRENCYHOOK_H
#define CCONCURRENCYHOOK_H
#include <stdbool.h>

// Swift Concurrency's global enqueue hook (`swift_task_enqueueGlobal_hook`, declared by the
// runtime's swift/Runtime/Concurrency.h), reached by a direct reference. NIO looks it up with
// dlsym, which cannot find it in a binary linked with the static standard library: the Swift
// driver links that with `--exclude-libs ALL`, which makes the archive's symbols local.

/// The hook's address, the one dlsym finds when the runtime is a shared library.
void *_Nonnull cconcurrency_enqueue_global_hook_address(void);

/// Sets the hook to `hook` if it is unset; false if another hook was set first.
bool cconcurrency_install_enqueue_global_hook(void *_Nonnull hook);

#endif
