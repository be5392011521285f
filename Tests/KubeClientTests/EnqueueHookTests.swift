import Foundation
import KubeClient
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `EventLoopConcurrency.install()` falls back to the runtime's enqueue hook reached by a
/// direct reference when NIO's dlsym finds nothing (a binary with the static standard library).
/// The tests' build links the runtime as a shared library, where dlsym does find it: the
/// reference must reach that same variable, or the fallback would set a hook nobody reads.
@Suite("Swift Concurrency's enqueue hook, reached by reference")
struct EnqueueHookTests {
    @Test("the referenced hook is the runtime's own: the address dlsym finds in a dynamically linked binary")
    func sameAddressAsDlsym() throws {
        let found = try #require(dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook"), "a dynamically linked test binary exports the runtime's hook")
        #expect(EventLoopConcurrency.enqueueGlobalHookAddress == found)
    }
}
