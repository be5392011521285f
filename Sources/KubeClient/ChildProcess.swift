import Foundation
import Synchronization

/// Runs a program to its end without holding a thread of Swift's cooperative pool.
///
/// Reading a pipe to its end and `waitUntilExit()` block their thread; the pool has one thread
/// per core, and on 2 cores two such waits stall every task in the process (a test's
/// in-process API server included). So the blocking part runs on Dispatch threads, and stdout
/// and stderr are drained side by side: a child that fills one pipe (64 KiB) while the other is
/// read would otherwise wait for us forever while we wait for it.
public enum ChildProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
    }

    /// Runs `executable` (a path) with `arguments`; `environment` and `directory` default to
    /// this process's. stdin is empty.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) async throws -> Result {
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
                let errors = Mutex(Data())
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
                continuation.resume(returning: Result(status: process.terminationStatus, stdout: output, stderr: errors.withLock { $0 }))
            }
        }
    }

    /// Waits for a started `process` to exit, off the pool.
    public static func exit(of process: Process) async {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}
