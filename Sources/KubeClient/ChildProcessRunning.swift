import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ChildProcess {
    /// Where a started child's stdin comes from.
    public enum Input: Sendable {
        /// /dev/null: the child reads end of file at once.
        case empty
        /// A pipe this process writes with ``Running/write(_:)`` and closes with ``Running/closeInput()``.
        case pipe
    }

    /// Where a started child's stdout or stderr goes.
    public enum Output: Sendable {
        /// /dev/null.
        case discard
        /// A pipe drained as the child writes, off the cooperative pool; read it with
        /// ``Running/output``, ``Running/errorOutput`` or ``Running/nextLine()``.
        case capture
        /// This process's own descriptor (a bench's stderr, so the child's logs show).
        case inherit
        /// For stderr: wherever stdout goes (one stream, in the order written).
        case stdout
    }

    /// Starts `executable` (a path) with `arguments` and returns at once; `environment` and
    /// `directory` default to this process's.
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
                             stdin: Input = .empty, stdout: Output = .discard, stderr: Output = .discard) throws -> Running {
        var opened: [Int32] = []
        func pipeIf(_ wanted: Bool) throws -> (read: Int32, write: Int32)? {
            guard wanted else { return nil }
            let p = try makePipe()
            opened += [p.read, p.write]
            return p
        }
        do {
            let input = try pipeIf(stdin == .pipe)
            let out = try pipeIf(stdout == .capture)
            let err = try pipeIf(stderr == .capture)
            func descriptor(_ output: Output, _ pipe: (read: Int32, write: Int32)?) -> Descriptor {
                switch output {
                case .discard: .null
                case .capture: .copy(pipe!.write)
                case .inherit: .inherited
                case .stdout: .null  // stdout into itself: nothing to merge, so discarded
                }
            }
            let stdoutDescriptor = descriptor(stdout, out)
            let stderrDescriptor = stderr == .stdout ? stdoutDescriptor : descriptor(stderr, err)
            let pid = try spawn(executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment, directory: directory,
                                stdin: input.map { .copy($0.read) } ?? .null, stdout: stdoutDescriptor, stderr: stderrDescriptor)
            // The child's ends are the child's now: holding them would keep our reads from
            // ever seeing end of file.
            for end in [input?.read, out?.write, err?.write].compactMap({ $0 }) { close(end) }
            return Running(pid: pid, input: input?.write, stdout: out?.read, stderr: err?.read)
        } catch {
            for fd in opened { close(fd) }
            throw error
        }
    }

    /// A started child: its pid, signals, what it has written so far, and its exit.
    ///
    /// A thread of its own waits for its exit and one drains each captured pipe, so nothing
    /// here blocks a thread of Swift's cooperative pool except ``waitUntilExit()``, which is
    /// for synchronous callers. Not Dispatch's global queues: on Linux Swift's pool is built on
    /// them, and two reads blocked there held every task back until libdispatch's monitor
    /// added a thread, about a second later (measured: a `cat` echoing a line took 0.97 s).
    ///
    /// Captured output is kept whole until the handle goes away (it is meant for tests, drills
    /// and benches, whose children say little). Those threads keep the handle alive until the
    /// child exits, so close a reading child's stdin (``closeInput()``) or stop it when done.
    public final class Running: Sendable {
        /// The child's process id.
        public let pid: pid_t
        private let input: Mutex<Int32?>
        private let state: Mutex<State>
        private let finished = DispatchSemaphore(value: 0)

        private struct State {
            var status: Int32?
            var stdout = Data()
            var stderr = Data()
            var stdoutOpen: Bool
            var stderrOpen: Bool
            /// Where ``nextLine()`` goes on in `stdout`.
            var lineStart = 0
            /// Bumped on every change, so a waiter cannot miss one between looking and waiting.
            var version = 0
            var waiters: [CheckedContinuation<Void, Never>] = []
            var done: Bool { status != nil && !stdoutOpen && !stderrOpen }
        }

        fileprivate init(pid: pid_t, input: Int32?, stdout: Int32?, stderr: Int32?) {
            self.pid = pid
            self.input = Mutex(input)
            state = Mutex(State(stdoutOpen: stdout != nil, stderrOpen: stderr != nil))
            if let stdout { drain(stdout, stderr: false) }
            if let stderr { drain(stderr, stderr: true) }
            Thread.detachNewThread { [self] in
                let status = ChildProcess.waitForExit(pid)
                change { $0.status = status }
            }
        }

        deinit {
            if let fd = input.withLock({ $0 }) { close(fd) }
        }

        /// Whether it has not exited yet.
        public var isRunning: Bool { state.withLock { $0.status == nil } }

        /// Its exit status (128 + the signal when a signal ended it), once it has exited.
        public var exitStatus: Int32? { state.withLock { $0.status } }

        /// What it has written to a captured stdout so far.
        public var output: Data { state.withLock { $0.stdout } }

        /// What it has written to a captured stderr so far.
        public var errorOutput: Data { state.withLock { $0.stderr } }

        /// Sends `signal` to it, unless it has exited (its pid may be another process's by then).
        public func signal(_ signal: Int32) {
            state.withLock { if $0.status == nil { _ = sendSignal(pid, signal) } }
        }

        /// SIGTERM.
        public func terminate() { signal(SIGTERM) }
        /// SIGINT.
        public func interrupt() { signal(SIGINT) }
        /// SIGKILL.
        public func kill() { signal(SIGKILL) }

        /// Writes `data` to its stdin (started with `stdin: .pipe`).
        public func write(_ data: Data) throws {
            try input.withLock { fd in
                guard let fd else { throw SpawnError(executable: "(stdin of \(pid))", errno: EBADF) }
                try data.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let n = writeBytes(fd, bytes.baseAddress! + offset, bytes.count - offset)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw SpawnError(executable: "(stdin of \(pid))", errno: errno)
                        }
                        offset += n
                    }
                }
            }
        }

        /// Closes its stdin: it reads end of file.
        public func closeInput() {
            input.withLock { fd in
                if let open = fd { close(open) }
                fd = nil
            }
        }

        /// Waits until it has exited and its captured output is read to the end; its status.
        @discardableResult
        public func exit() async -> Int32 {
            await wait { $0.done ? $0.status : nil }
        }

        /// ``exit()``, sending SIGTERM first if it is still running after `timeout`.
        @discardableResult
        public func exit(terminatingAfter timeout: Duration) async -> Int32 {
            let timer = Task { [self] in
                do {
                    try await Task.sleep(for: timeout)
                    terminate()
                } catch {}  // cancelled: it exited in time
            }
            defer { timer.cancel() }
            return await exit()
        }

        /// ``exit()`` for synchronous callers: blocks the calling thread.
        @discardableResult
        public func waitUntilExit() -> Int32 {
            finished.wait()
            finished.signal()  // for the next caller
            return state.withLock { $0.status! }
        }

        /// The next line of a captured stdout, without its newline (the last may have none);
        /// nil once stdout has ended and every line was read.
        public func nextLine() async -> String? {
            await wait { s -> String?? in
                let rest = s.stdout[(s.stdout.startIndex + s.lineStart)...]
                if let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
                    s.lineStart = newline - s.stdout.startIndex + 1
                    return .some(String(decoding: rest[..<newline], as: UTF8.self))
                }
                if s.stdoutOpen { return nil }
                // Ended: what is left is the last line, if anything is.
                s.lineStart = s.stdout.count
                return .some(rest.isEmpty ? nil : String(decoding: rest, as: UTF8.self))
            }
        }

        /// Runs `ready` on the state until it returns a value, waiting for a change between tries.
        private func wait<T: Sendable>(_ ready: (inout State) -> T?) async -> T {
            while true {
                let look = state.withLock { s -> (T?, Int) in (ready(&s), s.version) }
                if let value = look.0 { return value }
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s in
                        if s.version != look.1 { return true }
                        s.waiters.append(continuation)
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
        }

        /// Applies `update` and wakes every waiter; the first time the child is done, lets
        /// ``waitUntilExit()`` through.
        private func change(_ update: (inout State) -> Void) {
            let (waiters, nowDone) = state.withLock { s in
                let wasDone = s.done
                update(&s)
                s.version += 1
                defer { s.waiters = [] }
                return (s.waiters, !wasDone && s.done)
            }
            for waiter in waiters { waiter.resume() }
            if nowDone { finished.signal() }
        }

        private func drain(_ fd: Int32, stderr: Bool) {
            Thread.detachNewThread { [self] in
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n > 0 {
                        let chunk = buffer[0..<n]
                        change { s in
                            if stderr { s.stderr.append(contentsOf: chunk) } else { s.stdout.append(contentsOf: chunk) }
                        }
                    } else if n < 0 && errno == EINTR {
                        continue
                    } else {
                        close(fd)
                        change { s in
                            if stderr { s.stderrOpen = false } else { s.stdoutOpen = false }
                        }
                        return
                    }
                }
            }
        }
    }
}

// The C functions, under names the handle's methods do not shadow.
private func sendSignal(_ pid: pid_t, _ signal: Int32) -> Int32 { kill(pid, signal) }
private func writeBytes(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
