import ExecutorAPI
import FlyteDataPlane
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import TaskPlugins
import Testing

/// `executor run` as a process: flags, a clean stop on SIGTERM, and one-line errors.
@Suite("executor run")
struct RunCommandTests {
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("executor").path
    }

    static func spawn(_ arguments: [String]) throws -> ChildProcess.Running {
        try ChildProcess.start(binary, arguments, stderr: .capture)
    }

    /// Waits up to `seconds` for `process` to exit, then stops it; its status and stderr.
    static func finish(_ process: ChildProcess.Running, seconds: Double = 20) async throws -> (Int32, String) {
        let status = await process.exit(terminatingAfter: .seconds(seconds))
        return (status, String(decoding: process.errorOutput, as: UTF8.self))
    }

    /// A sandbox with the TaskAction CRD and a kubeconfig for the `executor` binary next to
    /// this test bundle; records an issue and skips `body` when the binary is missing.
    static func withSandbox(_ options: KubeSandbox.Options, _ body: (KubeSandbox, KubernetesClient, _ kubeconfig: String) async throws -> Void) async throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("executor binary not found at \(binary)")
            return
        }
        try await KubeSandbox.with(options) { sandbox, client in
            try await ExecutorHarness.installCRD(client)
            let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString).kubeconfig").path
            try sandbox.writeKubeconfig(to: kubeconfig)
            defer { try? FileManager.default.removeItem(atPath: kubeconfig) }
            try await body(sandbox, client, kubeconfig)
        }
    }

    @Test("runs TaskActions, then on SIGTERM stops cleanly, releases its lease and exits 0")
    func sigterm() async throws {
        var options = KubeSandbox.Options()
        options.kubelet = true
        try await Self.withSandbox(options) { sandbox, client, kubeconfig in
            let process = try Self.spawn(["run", "--kubeconfig", kubeconfig, "--namespace", "default", "--leader-elect", "--leader-election-namespace", "default", "--metrics-bind-address", "0", "--health-probe-bind-address", "0"])
            try await eventually("leader") {
                (try? await client.get(Lease.self, name: "abf369a8.flyte.org", namespace: "default"))?.spec?.holderIdentity?.isEmpty == false
            }
            try await ExecutorHarness(sandbox: sandbox, client: client, sink: RecordingSink()).create(Fixtures.taskAction("r1-cli", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            try await eventually("completed") { (try? await client.get(TaskAction.self, name: "r1-cli", namespace: "default"))?.isTerminal ?? false }
            process.interrupt()  // SIGINT behaves as SIGTERM; both are graceful.
            let (status, text) = try await Self.finish(process)
            #expect(status == 0, "stderr: \(text)")
            let lease = try await client.get(Lease.self, name: "abf369a8.flyte.org", namespace: "default")
            #expect(lease.spec?.holderIdentity == "", "stderr: \(text)")
        }
    }

    @Test("with events and storage in its config file, the binary sends ActionEvents to the events service and fails a task on its error document")
    func dataPlane() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            Issue.record("executor binary not found at \(Self.binary)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await FakeEventsService.with { service in
            let config = directory.appendingPathComponent("executor.yaml").path
            try Data("events:\n  url: \(service.url)\nstorage:\n  type: local\n".utf8).write(to: URL(fileURLWithPath: config))
            var action = Fixtures.taskAction("r1-doc", template: Fixtures.template(duration: 0.05, startup: 0.05))
            action.spec.runOutputBase = "file://\(directory.path)/data/r1"
            let errorPath = String(TaskPaths(namespace: "default", name: "r1-doc", inputUri: "", runOutputBase: action.spec.runOutputBase ?? "", actionName: "r1-doc", attempt: 1).errorPath.dropFirst("file://".count))
            try FileManager.default.createDirectory(atPath: (errorPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(try ErrorDocumentTests.document(code: "BadInput", message: "n must be even", recoverable: false)).write(to: URL(fileURLWithPath: errorPath))

            var options = KubeSandbox.Options()
            options.kubelet = true
            try await KubeSandbox.with(options) { sandbox, client in
                try await ExecutorHarness.installCRD(client)
                let kubeconfig = directory.appendingPathComponent("kubeconfig").path
                try sandbox.writeKubeconfig(to: kubeconfig)
                let process = try Self.spawn(["run", "--kubeconfig", kubeconfig, "--namespace", "default", "--config", config, "--metrics-bind-address", "0", "--health-probe-bind-address", "0"])
                _ = try await client.create(action)
                try await eventually("r1-doc failed", seconds: 60) { (try? await client.get(TaskAction.self, name: "r1-doc", namespace: "default"))?.isTerminal ?? false }
                let done = try await client.get(TaskAction.self, name: "r1-doc", namespace: "default")
                #expect(done.status?.errorState == ErrorState(code: "BadInput", kind: "USER", message: "n must be even"))
                #expect(service.accepted.contains { $0.id.name == "r1-doc" && $0.phase == .failed && $0.errorInfo.message == "n must be even" })
                process.interrupt()
                let (status, text) = try await Self.finish(process)
                #expect(status == 0, "stderr: \(text)")
            }
        }
    }

    /// How many threads of NIO's singleton group (the event loops) process `pid` runs, by the
    /// names Linux keeps for them in /proc (NIO names them `NIO-SGLTN-<group>-#<n>`).
    static func eventLoopThreads(_ pid: pid_t) -> Int {
        let tasks = "/proc/\(pid)/task"
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        return threads.filter { ((try? String(contentsOfFile: "\(tasks)/\($0)/comm", encoding: .utf8)) ?? "").hasPrefix("NIO-SGLTN-") }.count
    }

    @Test("tasks run on one event loop by default, on Swift's pool with --no-tasks-on-event-loops, and on as many loops as --event-loops says; TaskActions complete each way")
    func tasksOnEventLoops() async throws {
        var options = KubeSandbox.Options()
        options.kubelet = true
        try await Self.withSandbox(options) { sandbox, client, kubeconfig in
            let layouts: [(flags: [String], action: String, said: String, loops: Int)] = [
                ([], "r1-loops", #""tasks":"event loops""#, 1),
                (["--no-tasks-on-event-loops"], "r1-pool", #""tasks":"Swift's pool""#, 1),
                (["--event-loops", "3"], "r1-three", #""tasks":"event loops""#, 3),
            ]
            for layout in layouts {
                let process = try Self.spawn(["run", "--kubeconfig", kubeconfig, "--namespace", "default", "--metrics-bind-address", "0", "--health-probe-bind-address", "0"] + layout.flags)
                _ = try await client.create(Fixtures.taskAction(layout.action, template: Fixtures.template(duration: 0.05, startup: 0.05)))
                try await eventually("\(layout.action) completed") { (try? await client.get(TaskAction.self, name: layout.action, namespace: "default"))?.status?.phaseHistory?.last?.phase == "Completed" }
                // The group is made whole when first used, before the first watch: all its loops run by now.
                let loops = Self.eventLoopThreads(process.pid)
                process.interrupt()
                let (status, text) = try await Self.finish(process)
                #expect(status == 0, "stderr: \(text)")
                #expect(text.contains(layout.said), "stderr: \(text)")
                #expect(text.contains(#""eventLoops":"\#(layout.loops)""#), "stderr: \(text)")
                #expect(loops == layout.loops, "\(layout.flags): \(loops) event loop threads")
            }
        }
    }

    @Test("where the API server offers HTTP/2, the executor keeps to HTTP/1.1 keep-alive unless --kube-api-http-version automatic, which puts the calls on one connection and the informers' watches on another")
    func httpVersion() async throws {
        var options = KubeSandbox.Options()
        options.http2 = true
        try await Self.withSandbox(options) { sandbox, client, kubeconfig in
            func connections(_ flags: [String], action: String) async throws -> Int {
                let before = sandbox.openConnections
                let process = try Self.spawn(["run", "--kubeconfig", kubeconfig, "--namespace", "default", "--metrics-bind-address", "0", "--health-probe-bind-address", "0"] + flags)
                // Once the TaskAction is Queued (no kubelet runs its Pod), the executor has watched,
                // created a Pod and written a status.
                _ = try await client.create(Fixtures.taskAction(action, template: Fixtures.template(duration: 0.05, startup: 0.05)))
                try await eventually("queued by the executor") { (try? await client.get(TaskAction.self, name: action, namespace: "default"))?.status?.conditions?.isEmpty == false }
                let opened = sandbox.openConnections - before
                process.interrupt()
                let (status, text) = try await Self.finish(process)
                #expect(status == 0, "stderr: \(text)")
                // The server sees the exited process's connections close a moment later; the next
                // count must not start while they are still open (it would go negative).
                try await eventually("the executor's connections closed") { sandbox.openConnections <= before }
                return opened
            }
            let pooled = try await connections([], action: "r1-http1")
            let multiplexed = try await connections(["--kube-api-http-version", "automatic"], action: "r1-http2")
            #expect(pooled > 1)
            // Two clients (HTTPTransport): the informers' watches have no read timer.
            #expect(multiplexed == 2)
        }
    }

    @Test("a bad flag or config ends the process at once with one line saying what is wrong")
    func badInput() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            Issue.record("executor binary not found at \(Self.binary)")
            return
        }
        let p1 = try Self.spawn(["run", "--max-concurrent-reconciles", "0"])
        let (s1, t1) = try await Self.finish(p1)
        #expect(s1 != 0)
        #expect(t1.contains("--max-concurrent-reconciles must be at least 1"))
        let pl = try Self.spawn(["run", "--event-loops", "0"])
        let (sl, tl) = try await Self.finish(pl)
        #expect(sl != 0)
        #expect(tl.contains("--event-loops must be between 1 and 256, not 0"))
        let p0 = try Self.spawn(["run", "--kube-api-http-version", "3"])
        let (s0, t0) = try await Self.finish(p0)
        #expect(s0 != 0)
        #expect(t0.contains("--kube-api-http-version must be http1 or automatic, not \"3\""))
        let p2 = try Self.spawn(["run", "--config", "/nonexistent/executor.yaml"])
        let (s2, t2) = try await Self.finish(p2)
        #expect(s2 != 0)
        #expect(t2.trimmingCharacters(in: .whitespacesAndNewlines) == "executor: invalid config /nonexistent/executor.yaml: cannot read the file")
        let p3 = try Self.spawn(["run", "--kubeconfig", "/nonexistent/kubeconfig"])
        let (s3, t3) = try await Self.finish(p3)
        #expect(s3 != 0)
        #expect(t3.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)
        #expect(t3.contains("/nonexistent/kubeconfig"))
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-events-\(UUID().uuidString).yaml").path
        try Data("events:\n  url: ftp://flyte\n".utf8).write(to: URL(fileURLWithPath: bad))
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let p4 = try Self.spawn(["run", "--config", bad])
        let (s4, t4) = try await Self.finish(p4)
        #expect(s4 != 0)
        #expect(t4.trimmingCharacters(in: .whitespacesAndNewlines) == "executor: invalid config \(bad): events.url: ftp://flyte is not an http(s) URL")
    }
}

@Suite("executor dev")
struct DevCommandTests {
    @Test("make dev's command shows a sample going Queued → Initializing → Executing → Completed, one retrying to PermanentFailure, the Kubeflow, Dask, clustered and connector samples completing, and the sample app becoming ACTIVE; executor describe works against it")
    func samples() async throws {
        guard FileManager.default.isExecutableFile(atPath: RunCommandTests.binary) else {
            Issue.record("executor binary not found at \(RunCommandTests.binary)")
            return
        }
        let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString).kubeconfig").path
        defer { try? FileManager.default.removeItem(atPath: kubeconfig) }
        let process = try ChildProcess.start(RunCommandTests.binary, ["dev", "--port", "0", "--kubeconfig-out", kubeconfig, "--samples", Fixtures.repositoryRoot + "/config/samples"], stdout: .capture)
        defer { process.kill() }  // when an expectation throws: no executor left running
        @Sendable func text() -> String { String(decoding: process.output, as: UTF8.self) }
        try await eventually("the samples finished and the app active") {
            text().contains("sample-run-a0    Succeeded=Completed") && text().contains("sample-run-a1    Failed=PermanentFailure")
                && text().contains("app dashboard    ACTIVE/RUNNING")
                && ["pytorch", "tensorflow", "mpi", "dask", "clustered", "connector"].allSatisfy { kind in
                    text().split(separator: "\n").contains { $0.split(separator: " ").first == "sample-run-\(kind)" && $0.contains("Succeeded=Completed") }
                }
        }
        // It names the people's commands, and they work against it while it runs.
        #expect(text().contains("inspect    ") && text().contains(" describe taskaction sample-run-a1 --kubeconfig \(kubeconfig)"))
        let described = try await InspectCommandTests.execute(["describe", "taskaction", "sample-run-a1", "--kubeconfig", kubeconfig])
        #expect(described.code == 0, "\(described.err)")
        #expect(described.out.contains("Phase:         Failed (attempt 3)") && described.out.contains("Pod sample-run-a1-2: Failed"), "\(described.out)")
        process.interrupt()
        let status = await process.exit()
        let lines = text().split(separator: "\n")
        let a0 = lines.filter { $0.contains("sample-run-a0    attempt") }.map { $0.split(separator: " ", omittingEmptySubsequences: true)[4] }
        // The dev loop prints what it sees as it happens; on a loaded machine a short phase may
        // pass between two looks, so only the order and the ends are fixed.
        let canonical = ["Queued", "Initializing", "Executing", "Completed"]
        #expect(a0.first == "Queued" && a0.last == "Completed", "\(a0)")
        #expect(a0.map(String.init) == canonical.filter { a0.map(String.init).contains($0) }, "\(a0)")
        #expect(lines.contains { $0.contains("sample-run-a1    attempt 3") })
        #expect(status == 0)
    }
}
