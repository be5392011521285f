import Foundation
import KubeRuntime

/// Runs a program to its end without holding a thread of the cooperative pool.
///
/// Reading a pipe to its end and `waitUntilExit()` block their thread. On a 2-core machine the
/// pool has two threads, and the in-process sandbox a `kubectl` talks to needs them: two tests
/// blocking there stalled every test in the process until kubectl's own 32 s timeout (seen
/// beside a release build). So the blocking part runs on a Dispatch thread, and stdout and
/// stderr are drained at once (a child that fills one pipe while the other is read would hang).
enum ChildProcess {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let errors = LockedBox(Data())
                let drained = DispatchGroup()
                drained.enter()
                DispatchQueue.global().async {
                    let data = err.fileHandleForReading.readDataToEndOfFile()
                    errors.withLock { $0 = data }
                    drained.leave()
                }
                let output = out.fileHandleForReading.readDataToEndOfFile()
                drained.wait()
                process.waitUntilExit()
                continuation.resume(returning: Result(status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self), stderr: String(decoding: errors.value, as: UTF8.self)))
            }
        }
    }

    /// Waits for a started `process` to exit, off the pool.
    static func exit(of process: Process) async {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}
