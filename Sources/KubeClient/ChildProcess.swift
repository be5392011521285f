import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to its end without holding a thread of Swift's cooperative pool.
///
/// Reading a pipe to its end and waiting for the child block their thread; the pool has one
/// thread per core, and on 2 cores two such waits stall every task in the process (a test's
/// in-process API server included). So the blocking part runs on threads of its own, and stdout
/// and stderr are drained side by side: a child that fills one pipe (64 KiB) while the other is
/// read would otherwise wait for us forever while we wait for it.
///
/// ``start(_:_:environment:directory:stdin:stdout:stderr:)`` starts one to keep (a server a test
/// talks to, a process a drill kills) and returns a ``Running`` handle.
///
/// The child is started with `posix_spawn`, not Foundation's `Process`: on Linux (Swift 6.3.1)
/// `Process.run()` reads 256 bytes of each `/proc/self/fd` entry whatever its length, and
/// crashes now and then when an entry ends a page (swift-corelibs-foundation PR 5472; met
/// here as a SIGSEGV in `Process.run` during a test run on a loaded machine). The exec
/// credential plugin runs through this, inside the executor.
public enum ChildProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
    }

    /// Why a child could not be started.
    public struct SpawnError: Error, CustomStringConvertible {
        public var executable: String
        public var errno: Int32
        public var description: String { "cannot run \(executable): \(String(cString: strerror(errno)))" }
    }

    /// Runs `executable` (a path) with `arguments`; `environment` and `directory` default to
    /// this process's. stdin is empty. The exit status is the child's, or 128 + the signal
    /// that ended it, as a shell reports it.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) async throws -> Result {
        let child = try start(executable, arguments, environment: environment, directory: directory, stdout: .capture, stderr: .capture)
        let status = await child.exit()
        return Result(status: status, stdout: child.output, stderr: child.errorOutput)
    }

    // MARK: - posix_spawn

    static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SpawnError(executable: "(pipe)", errno: errno) }
        // Close-on-exec, so another child started meanwhile does not hold our ends open (the
        // Glibc module does not declare pipe2; the child closes what it inherits anyway).
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// What one of the child's standard descriptors is.
    enum Descriptor {
        /// /dev/null.
        case null
        /// A copy of this descriptor of ours (a pipe's end).
        case copy(Int32)
        /// Ours, the same one.
        case inherited
    }

    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String], directory: String?, stdin: Descriptor, stdout: Descriptor, stderr: Descriptor) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, descriptor) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch descriptor {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            // dup2 clears close-on-exec on the copy; the pipe ends themselves close at exec.
            case .copy(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .inherited: break
            }
        }
        // Nothing else of ours is the child's: sockets opened without close-on-exec included.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let directory {
            guard let chdir = Self.addChdir else { throw SpawnError(executable: executable, errno: ENOSYS) }
            let result = chdir(&actions, directory)
            guard result == 0 else { throw SpawnError(executable: executable, errno: result) }
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        // The calling thread's signal mask (Dispatch's threads block most signals) and ignored
        // signals would be the child's: start it with none blocked and every one at default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        var result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        // ETXTBSY: the program is open for writing somewhere, most often in a child another
        // thread forked just as the file was written, which holds a copy of the descriptor until
        // its own exec closes it (golang/go#22315). It passes: try again, for at most ~1.6 s.
        var attempt: UInt32 = 0
        while result == ETXTBSY, attempt < 25 {
            attempt += 1
            usleep(attempt * 5_000)
            result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        }
        guard result == 0 else { throw SpawnError(executable: executable, errno: result) }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34) and `_addchdir_np` (2.29),
    /// looked up at run time: the Glibc module does not declare these GNU extensions.
    private static let addCloseFrom = glibc("posix_spawn_file_actions_addclosefrom_np", as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    private static let addChdir = glibc("posix_spawn_file_actions_addchdir_np", as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)

    private static func glibc<F>(_ name: String, as type: F.Type) -> F? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }

    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return -1 }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which are macros.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
