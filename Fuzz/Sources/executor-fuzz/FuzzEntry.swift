import ExecutorFuzzing
import Foundation

// libFuzzer's entry point. Built only with --sanitize=fuzzer, which compiles this file as a
// library (no main of its own) and links libFuzzer's main. The target is chosen by
// FUZZ_TARGET, so one instrumented binary serves them all.
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    selectedTarget.run(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}
