#if canImport(Glibc)
import Glibc
import Testing

@testable import KubeRuntime

/// ``AllocatorTuning`` against glibc's malloc in this process.
@Suite struct AllocatorTuningTests {
    /// glibc marks a chunk it mapped on its own with bit 1 (IS_MMAPPED) of the size word just
    /// before the pointer it hands out; the layout has not changed since glibc 2.0.
    static func isMappedOnItsOwn(_ pointer: UnsafeMutableRawPointer) -> Bool {
        pointer.load(fromByteOffset: -MemoryLayout<UInt>.size, as: UInt.self) & 2 != 0
    }

    @Test("after freeing a 31 MiB block, a 28 MiB block is still mapped on its own, so it is unmapped when freed, not kept in the heap")
    func largeBlocksStayMapped() throws {
        #expect(AllocatorTuning.returnFreedMemoryPromptly(environment: [:]) == .fixedThresholds)
        // With glibc's dynamic thresholds, freeing this raises the mmap threshold to 31 MiB (its
        // ceiling is 32), so the next block below that would come from the heap and stay
        // resident once freed. malloc maps a block only when no free chunk in the thread's
        // arena can hold it: other tests in this process leave free chunks of a few MiB, never
        // of 28, so the sizes are large (1 MiB failed once in four runs beside a build).
        let large = try #require(malloc(31 << 20))
        free(large)
        let block = try #require(malloc(28 << 20))
        defer { free(block) }
        #expect(Self.isMappedOnItsOwn(block))
    }

    @Test("an operator's MALLOC_* tuning in the environment is left as it is")
    func environmentWins() {
        #expect(AllocatorTuning.returnFreedMemoryPromptly(environment: ["MALLOC_TRIM_THRESHOLD_": "1048576"]) == .leftToEnvironment("MALLOC_TRIM_THRESHOLD_"))
        #expect(AllocatorTuning.returnFreedMemoryPromptly(environment: ["MALLOC_MMAP_THRESHOLD_": "65536"]) == .leftToEnvironment("MALLOC_MMAP_THRESHOLD_"))
    }
}
#endif
