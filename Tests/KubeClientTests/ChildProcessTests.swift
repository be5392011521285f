import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeClient
import Testing

/// `ChildProcess.run` over `posix_spawn`: what the exec credential plugin relies on.
@Suite("Child processes")
struct ChildProcessTests {
    @Test("stdout and stderr are read apart, the exit status is the child's, and the directory and environment are the ones given")
    func outputsStatusDirectoryEnvironment() async throws {
        let result = try await ChildProcess.run("/bin/sh", ["-c", "pwd; echo \"$GREETING\"; echo oops >&2; exit 3"], environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"], directory: "/tmp")
        #expect(result.status == 3)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "/tmp\nhello\n")
        #expect(String(decoding: result.stderr, as: UTF8.self) == "oops\n")
    }

    @Test("a child that fills both pipes past 64 KiB finishes (both are drained at once); stdin is empty")
    func largeOutputs() async throws {
        let result = try await ChildProcess.run("/bin/sh", ["-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2; cat"])
        #expect(result.status == 0)
        #expect(result.stdout.count == 300_000 && result.stderr.count == 200_000)
    }

    @Test("a child ended by a signal reports 128 + the signal; a missing program is an error naming it")
    func signalAndMissing() async throws {
        let killed = try await ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$"])
        #expect(killed.status == 128 + 15)
        await #expect(throws: ChildProcess.SpawnError.self) { try await ChildProcess.run("/nonexistent/tool", []) }
    }

    @Test("a program still open for writing (Text file busy) is run once the writer closes it, not refused")
    func textFileBusy() async throws {
        let path = NSTemporaryDirectory() + "child-busy-\(UUID().uuidString).sh"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o755)
        #expect(fd > 2)
        let script = Array("#!/bin/sh\necho ran\n".utf8)
        #expect(script.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == script.count)
        // Exec of a file this process holds open for writing fails with ETXTBSY until it closes.
        let closer = Thread {
            usleep(50_000)
            close(fd)
        }
        closer.start()
        let result = try await ChildProcess.run(path, [])
        #expect(result.status == 0)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "ran\n")
    }

    @Test("the child inherits none of this process's other descriptors")
    func noInheritedDescriptors() async throws {
        let path = NSTemporaryDirectory() + "child-fd-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let fd = open(path, O_RDONLY)  // without close-on-exec, as a careless library might
        #expect(fd > 2)
        defer { close(fd); try? FileManager.default.removeItem(atPath: path) }
        let result = try await ChildProcess.run("/bin/sh", ["-c", "ls /proc/self/fd"])
        let fds = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").compactMap { Int($0) }
        // 0-2, and the descriptor ls opened to read /proc/self/fd.
        #expect(fds.filter { $0 > 2 }.count <= 1, "\(fds)")
    }
}

/// `ChildProcess.start`: a child kept running, as the tests' servers and the drills' executors are.
@Suite("Started child processes")
struct RunningChildProcessTests {
    @Test("lines written to its stdin come back from its stdout one at a time; closing stdin ends it; then there are no more lines")
    func linesInAndOut() async throws {
        let child = try ChildProcess.start("/bin/cat", [], stdin: .pipe, stdout: .capture)
        try child.write(Data("one\ntwo\n".utf8))
        #expect(await child.nextLine() == "one")
        #expect(await child.nextLine() == "two")
        #expect(child.isRunning)
        try child.write(Data("three".utf8))  // no newline: not a line until stdout ends
        child.closeInput()
        #expect(await child.exit() == 0)
        #expect(await child.nextLine() == "three")
        #expect(await child.nextLine() == nil)
        #expect(child.output == Data("one\ntwo\nthree".utf8))
    }

    @Test("terminate ends a running child with 128 + SIGTERM, seen by exit and waitUntilExit alike; a signal after it exited goes nowhere")
    func terminate() async throws {
        let child = try ChildProcess.start("/bin/sleep", ["60"])
        #expect(child.isRunning && child.exitStatus == nil)
        child.terminate()
        #expect(await child.exit() == 128 + SIGTERM)
        #expect(child.waitUntilExit() == 128 + SIGTERM)
        #expect(!child.isRunning)
        child.kill()  // its pid is no longer its: nothing is sent
        #expect(child.exitStatus == 128 + SIGTERM)
    }

    @Test("exit(terminatingAfter:) stops a child still running at the deadline, and leaves one that exits before it alone")
    func terminatingAfter() async throws {
        #expect(try await ChildProcess.start("/bin/sleep", ["60"]).exit(terminatingAfter: .milliseconds(200)) == 128 + SIGTERM)
        #expect(try await ChildProcess.start("/bin/sh", ["-c", "exit 3"]).exit(terminatingAfter: .seconds(60)) == 3)
    }

    @Test("stderr sent to stdout arrives in one stream in the order written; captured stderr alone is kept apart")
    func mergedAndSeparate() async throws {
        let merged = try ChildProcess.start("/bin/sh", ["-c", "echo a; echo b >&2; echo c"], stdout: .capture, stderr: .stdout)
        #expect(await merged.exit() == 0)
        #expect(String(decoding: merged.output, as: UTF8.self) == "a\nb\nc\n")
        let apart = try ChildProcess.start("/bin/sh", ["-c", "echo a; echo b >&2; exit 4"], stderr: .capture)
        #expect(await apart.exit() == 4)
        #expect(apart.output.isEmpty && String(decoding: apart.errorOutput, as: UTF8.self) == "b\n")
    }

    @Test("writing to a child that never had a stdin pipe is an error, not a crash")
    func writeWithoutPipe() async throws {
        let child = try ChildProcess.start("/bin/true", [])
        #expect(throws: ChildProcess.SpawnError.self) { try child.write(Data("x".utf8)) }
        #expect(await child.exit() == 0)
    }
}
