import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeSandbox
import Logging
import Synchronization

/// The executor end to end, measured alone: the sandbox (API server and simulated kubelet,
/// whose Pods go Running → Succeeded at once) in one child process, the executor (`Manager` +
/// `Executor`, as `executor run` wires them) in another, and this process creating TaskActions
/// and timing them through watches. The executor's child reports its own CPU time (getrusage),
/// peak RSS (VmHWM) and every API request by verb and resource, so nothing of the sandbox or
/// of this driver is counted against it.
enum ExecutorBench {
    /// How the TaskActions arrive.
    enum Load: CustomStringConvertible {
        /// All at once, from 32 tasks: throughput when the executor is saturated.
        case saturated
        /// At a fixed rate: latency when it is not.
        case paced(perSecond: Double)

        var description: String {
            switch self {
            case .saturated: "at once"
            case .paced(let rate): "\(Int(rate))/s"
            }
        }
    }

    struct Result {
        var count: Int
        var load: Load
        var seconds: Double
        var createToPod: [Double]
        var createToSucceeded: [Double]
        var executor: ExecutorStats

        var succeededPerSecond: Double { Double(count) / seconds }
        var cpuPerAction: Double { executor.cpuSeconds / Double(count) }
    }

    /// What the executor's process says of itself over the measured window.
    struct ExecutorStats: Codable {
        var cpuSeconds: Double
        /// The kernel's part of ``cpuSeconds``, and the context switches (voluntary: a thread
        /// waited, e.g. a worker parked for work; involuntary: preempted): how much of the CPU
        /// is wake-ups and system calls rather than the executor's own work.
        var systemSeconds: Double
        var contextSwitches: Int
        var peakResident: Int
        /// glibc's bytes in use (`mallinfo2`), the most seen by a 5 Hz sampler, and at the end:
        /// what live objects cost, against the RSS the allocator and the code add.
        var peakHeap: Int
        var heapAtEnd: Int
        var residentAtEnd: Int
        /// `VERB resource[/subresource]` → count; watches as `WATCH`.
        var requests: [String: Int]
        /// TaskAction reconcile rounds finished (`controller_runtime_reconcile_total`).
        var rounds: Int

        var writes: Int { requests.filter { !$0.key.hasPrefix("GET") && !$0.key.hasPrefix("WATCH") && !$0.key.hasPrefix("LIST") }.map(\.value).reduce(0, +) }
        var all: Int { requests.values.reduce(0, +) }
    }

    // MARK: The sandbox's process

    /// The child: an HTTP sandbox with the kubelet and the TaskAction CRD.
    static func serveSandbox() async throws {
        var options = KubeSandbox.Options()
        // BENCH_TLS=1: HTTPS with HTTP/2 offered, as kube-apiserver serves; else plain HTTP/1.1.
        options.tls = transportUnderTest.tls
        options.http2 = true
        // The start-up bench seeds Pods that must stay as they are (BENCH_SANDBOX_KUBELET=0).
        options.kubelet = ProcessInfo.processInfo.environment["BENCH_SANDBOX_KUBELET"] != "0"
        options.historyCapacity = 200_000
        let sandbox = try await KubeSandbox.start(options)
        if options.tls { try sandbox.writeKubeconfig(to: transportUnderTest.kubeconfigPath) }
        let client = try KubernetesClient(configuration: sandbox.clientConfiguration())
        _ = try await client.create(ResourceType(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false), TaskActionSchema.crd)
        FileHandle.standardOutput.write(Data("\(sandbox.port)\n".utf8))
        _ = FileHandle.standardInput.readDataToEndOfFile()
        try await client.shutdown()
        await sandbox.shutdown()
    }

    // MARK: The executor's process

    /// Samples the heap in use 5 times a second into `peak` until cancelled.
    static func sampleHeap(into peak: LockedBox<Int>) -> Task<Void, Never> {
        Task { @Sendable in
            while !Task.isCancelled {
                // mallinfo2 walks the allocator's free lists (milliseconds on a large heap):
                // its CPU is the bench's, not the executor's, and is left out of the figures.
                let before = Self.threadCPUSeconds()
                let heap = Memory.heapInUse()
                Self.samplerCPUMicroseconds.add(Int((Self.threadCPUSeconds() - before) * 1e6), ordering: .relaxed)
                peak.withLock { $0 = max($0, heap) }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Where the executor child's workers run, as `executor run` places them: spread over the
    /// event loops when its tasks run there; BENCH_SPREAD_WORKERS=0 leaves them where tasks run.
    static func workerExecutors() -> [any TaskExecutor] {
        ProcessInfo.processInfo.environment["BENCH_SPREAD_WORKERS"] == "0" ? [] : EventLoopConcurrency.loopExecutors()
    }

    /// The child: one executor against the sandbox at `port`. Prints `ready` once it is ready
    /// as `/readyz` says; measures from the `start` line on stdin to the `stop` line, then prints its
    /// ``ExecutorStats`` as one JSON line.
    static func serveExecutor(port: Int) async throws {
        // As `executor run` does at start; BENCH_ALLOCATOR=glibc leaves glibc's dynamic
        // thresholds in place, for before/after figures from one binary.
        if ProcessInfo.processInfo.environment["BENCH_ALLOCATOR"] != "glibc" { AllocatorTuning.returnFreedMemoryPromptly() }
        // The log backend `executor run` installs by default (JSON lines), so that what a log
        // handler costs per reconcile (metadata set on every round) is the product's.
        LogFormat.json.bootstrap(level: .warning)
        var logging = Logger(label: "bench-executor")
        logging.logLevel = .warning
        let measuring = Atomic<Bool>(false)
        let counts = Mutex<[String: Int]>([:])
        var configuration = try transportUnderTest.configuration(port: port)
        // HTTP/1.1 keep-alive, as `executor run` speaks by default; BENCH_HTTP=2 lets it take the
        // HTTP/2 the sandbox offers over TLS.
        configuration.httpVersion = ProcessInfo.processInfo.environment["BENCH_HTTP"] == "2" ? .automatic : .http1
        let client = try KubernetesClient(configuration: configuration, logger: logging, observer: { record in
            guard measuring.load(ordering: .relaxed) else { return }
            let key = Self.requestKey(record)
            counts.withLock { $0[key, default: 0] += 1 }
        })
        let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0"), logger: logging)
        var config = ExecutorConfig()
        if let window = ProcessInfo.processInfo.environment["BENCH_COALESCE_MS"].flatMap(Int.init) { config.statusCoalesceMilliseconds = window }
        if let rate = ProcessInfo.processInfo.environment["BENCH_WRITES_PER_SECOND"].flatMap(Double.init) { config.statusWritesPerSecond = rate }
        if let widest = ProcessInfo.processInfo.environment["BENCH_COALESCE_MAX_MS"].flatMap(Int.init) { config.statusCoalesceMaxMilliseconds = widest }
        // BENCH_WORKERS: the executor's `--max-concurrent-reconciles` (10, its default).
        let workers = ProcessInfo.processInfo.environment["BENCH_WORKERS"].flatMap(Int.init) ?? 10
        _ = Executor(manager: manager, config: config, sink: SilentSink(), options: ControllerOptions(maxConcurrentReconciles: workers, workerExecutors: Self.workerExecutors()), logger: logging)
        let peakHeap = LockedBox(0)
        // Started by the end-to-end runs (`sample-heap`); the start-up bench samples from launch
        // to its `start` line (`BENCH_SAMPLE_HEAP_AT_LAUNCH`), so that its quiet minute holds
        // nothing but the executor (a sleeping loop's wake-ups cost ~1 ms/s).
        let sampleFromLaunch = ProcessInfo.processInfo.environment["BENCH_SAMPLE_HEAP_AT_LAUNCH"] == "1"
        var sampler: Task<Void, Never>? = sampleFromLaunch ? Self.sampleHeap(into: peakHeap) : nil
        defer { sampler?.cancel() }
        let run = Task { try await manager.run() }
        // Ready as `/readyz` says: the TaskAction caches synced and every readiness check
        // passing, each plugin's kind looked up and its cache (the Pods) synced. The required
        // caches alone left the Pods' list and watch, and the kinds' discovery, to fall inside
        // the measured window now and then, and the start-up bench's "ready" short of the Pods.
        // The checks are closures read on demand, as the probe reads them, so this asks every 5 ms.
        await manager.informers.waitForSync()
        while !manager.isReady { try await Task.sleep(for: .milliseconds(5)) }
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        let lines = Self.stdinLines()
        var cpuAtStart = 0.0
        var systemAtStart = 0.0
        var switchesAtStart = 0
        var roundsAtStart = 0
        for await line in lines {
            if line == "sample-heap" {
                sampler = Self.sampleHeap(into: peakHeap)
            } else if line == "cpu" {
                // The driver's probe for a settled executor: CPU seconds so far.
                FileHandle.standardOutput.write(Data("\(Self.cpuSeconds())\n".utf8))
            } else if line == "start" {
                if sampleFromLaunch {
                    sampler?.cancel()
                    sampler = nil
                }
                cpuAtStart = Self.cpuSeconds()
                (systemAtStart, switchesAtStart) = Self.systemSecondsAndSwitches()
                roundsAtStart = Self.taskActionRounds(manager.metrics)
                measuring.store(true, ordering: .relaxed)
            } else if line == "stop" {
                measuring.store(false, ordering: .relaxed)
                let (system, switches) = Self.systemSecondsAndSwitches()
                let stats = ExecutorStats(cpuSeconds: Self.cpuSeconds() - cpuAtStart, systemSeconds: system - systemAtStart, contextSwitches: switches - switchesAtStart, peakResident: Memory.peakResident, peakHeap: max(peakHeap.value, Memory.heapInUse()),
                                          heapAtEnd: Memory.heapInUse(), residentAtEnd: Memory.resident, requests: counts.withLock { $0 },
                                          rounds: Self.taskActionRounds(manager.metrics) - roundsAtStart)
                try Self.writeLine(stats)
                break
            }
        }
        run.cancel()
        _ = try? await run.value
        try await client.shutdown()
    }

    /// TaskAction reconcile rounds so far, whatever their result, read from the registry
    /// `/metrics` serves.
    static func taskActionRounds(_ metrics: MetricsRegistry) -> Int {
        let prefix = #"controller_runtime_reconcile_total{controller="taskaction","#
        return String(decoding: metrics.render(), as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix(prefix) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0) { $0 + Int($1) }
    }

    /// `PATCH taskactions/status`, `POST pods`, `WATCH pods`, `LIST taskactions`, `GET …`.
    static func requestKey(_ record: RequestRecord) -> String {
        var segments = record.path.split(separator: "?").first.map { $0.split(separator: "/").map(String.init) } ?? []
        if segments.first == "api" { segments.removeFirst(min(2, segments.count)) } else if segments.first == "apis" { segments.removeFirst(min(3, segments.count)) }
        if segments.first == "namespaces", segments.count >= 3 { segments.removeFirst(2) }
        let resource = segments.first ?? "?"
        let sub = segments.count >= 3 ? "/" + segments[2] : ""
        let verb = record.isWatch ? "WATCH" : record.method == "GET" ? (segments.count >= 2 ? "GET" : "LIST") : record.method
        return "\(verb) \(resource)\(sub)"
    }

    /// User plus system CPU seconds of this process.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime) - Double(samplerCPUMicroseconds.load(ordering: .relaxed)) / 1e6
    }

    /// System CPU seconds and context switches (voluntary + involuntary) of this process so far.
    static func systemSecondsAndSwitches() -> (Double, Int) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return (Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6, usage.ru_nvcsw + usage.ru_nivcsw)
    }

    /// CPU the heap sampler spent, subtracted from ``cpuSeconds()``.
    static let samplerCPUMicroseconds = Atomic<Int>(0)

    /// CPU seconds of the calling thread.
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Writes `value` to stdout as one JSON line: how a child reports its figures to the driver.
    static func writeLine(_ value: some Encodable) throws {
        var json = try JSONEncoder().encode(value)
        json.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(json)
    }

    /// Lines of stdin, read on a thread of their own.
    static func stdinLines() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        Thread.detachNewThread {
            while let line = readLine() { continuation.yield(line) }
            continuation.finish()
        }
        return stream
    }

    // MARK: The driver (this process)

    static func taskAction(_ i: Int) -> TaskAction {
        // The fact sheet's container vector; the kubelet runs its Pod Running → Succeeded at once.
        let template = Data(base64Encoded: "Cg8IARIBcBoBZCIBdCoCdjESCWNvbnRhaW5lchoEKgIoAjI4CgxidXN5Ym94OjEuMzYSAnNoEgItYxoKZWNobyBoZWxsbyIUCggIARIEMTAwbQoICAMSBDY0TWk=")!
        let spec = TaskActionSpec(runName: "bench", project: "p", domain: "d", actionName: "a\(i)", taskType: "container", taskTemplate: template, inputUri: "s3://bucket/in/\(i)", runOutputBase: "s3://bucket/out")
        return TaskAction(metadata: ObjectMeta(name: "bench-a\(i)", namespace: "default", annotations: [SimulatedKubelet.durationAnnotation: "0", SimulatedKubelet.startupAnnotation: "0"]), spec: spec)
    }

    /// A child process running this binary with `arguments`, its first line read.
    final class Child: Sendable {
        let process: ChildProcess.Running

        /// - Parameters:
        ///   - profile: run the child under `perf record --call-graph dwarf`, writing here.
        ///   - wrapper: a command, its words separated by spaces, that runs the child
        ///     (`BENCH_EXECUTOR_WRAPPER`, e.g. a `perf record` of page faults;
        ///     `hack/generate-symbol-order.sh` uses it).
        ///   - extraEnvironment: `KEY=value` pairs, separated by spaces, set for this child only
        ///     (`BENCH_EXECUTOR_ENV`: `hack/generate-symbol-order.sh` turns on coverage in the
        ///     executor and not in the sandbox or this driver).
        init(_ arguments: [String], profile: String? = nil, wrapper: String? = nil, extraEnvironment: String? = nil) throws {
            let profiler = profile.map { ["/usr/bin/perf", "record", "-q", "-F", "999", "--call-graph", "dwarf,16384", "-o", $0, "--"] }
            let prefix = profiler ?? (wrapper ?? "").split(separator: " ").map(String.init)
            let command = prefix + [CommandLine.arguments[0]] + arguments
            let (executable, all) = (command[0], Array(command.dropFirst()))
            var environment = ProcessInfo.processInfo.environment
            for pair in (extraEnvironment ?? "").split(separator: " ") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                environment[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            process = try ChildProcess.start(executable, all, environment: environment, stdin: .pipe, stdout: .capture, stderr: .inherit)
        }

        func readLine() async throws -> String {
            guard let line = await process.nextLine() else { throw InformerBench.BenchError.childExited }
            return line
        }

        func send(_ line: String) { try? process.write(Data((line + "\n").utf8)) }

        func finish() {
            process.closeInput()
            process.waitUntilExit()
        }
    }

    /// One run: a fresh sandbox and executor, `count` TaskActions arriving as `load` says.
    static func run(count: Int, load: Load) async throws -> Result {
        _ = transportUnderTest  // names the kubeconfig path in the environment before the children start
        let sandbox = try Child(["serve-executor-sandbox"])
        defer { sandbox.finish() }
        guard let port = Int(try await sandbox.readLine()) else { throw InformerBench.BenchError.childExited }
        let executor = try Child(["serve-bench-executor", String(port)], profile: ProcessInfo.processInfo.environment["BENCH_PERF"],
                                 wrapper: ProcessInfo.processInfo.environment["BENCH_EXECUTOR_WRAPPER"],
                                 extraEnvironment: ProcessInfo.processInfo.environment["BENCH_EXECUTOR_ENV"])
        defer { executor.finish() }
        guard try await executor.readLine() == "ready" else { throw InformerBench.BenchError.childExited }

        var logging = Logger(label: "bench")
        logging.logLevel = .warning
        let client = try KubernetesClient(configuration: try transportUnderTest.configuration(port: port), logger: logging)
        let created = LockedBox<[String: ContinuousClock.Instant]>([:])
        let podAt = LockedBox<[String: ContinuousClock.Instant]>([:])
        let doneAt = LockedBox<[String: ContinuousClock.Instant]>([:])
        let podWatch = try await client.watch(Pod.self, namespace: "default", options: WatchOptions(resourceVersion: "0", timeoutSeconds: 3600))
        let taWatch = try await client.watch(TaskAction.self, namespace: "default", options: WatchOptions(resourceVersion: "0", timeoutSeconds: 3600))
        let watchers = [
            Task {
                for try await event in podWatch {
                    guard case .added(let pod) = event, let name = pod.metadata.name else { continue }
                    let now = ContinuousClock.now
                    if podAt.withLock({ $0[String(name.dropLast(2))] = $0[String(name.dropLast(2))] ?? now; return $0.count }) == count { return }
                }
            },
            Task {
                for try await event in taWatch {
                    guard let action = event.object, action.status?.condition(.succeeded)?.status == "True", let name = action.metadata.name else { continue }
                    let now = ContinuousClock.now
                    if doneAt.withLock({ $0[name] = $0[name] ?? now; return $0.count }) == count { return }
                }
            },
        ]
        executor.send("sample-heap")
        executor.send("start")
        let started = ContinuousClock.now
        switch load {
        case .saturated:
            try await withThrowingTaskGroup(of: Void.self) { group in
                let workers = 32
                for w in 0..<workers {
                    group.addTask {
                        for i in stride(from: w, to: count, by: workers) {
                            let action = taskAction(i)
                            created.withLock { $0[action.metadata.name ?? ""] = ContinuousClock.now }
                            _ = try await client.create(action)
                        }
                    }
                }
                try await group.waitForAll()
            }
        case .paced(let rate):
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<count {
                    let due = started + .milliseconds(Int64(Double(i) * 1000 / rate))
                    try await Task.sleep(until: due, clock: .continuous)
                    group.addTask {
                        let action = taskAction(i)
                        created.withLock { $0[action.metadata.name ?? ""] = ContinuousClock.now }
                        _ = try await client.create(action)
                    }
                }
                try await group.waitForAll()
            }
        }
        for watcher in watchers { _ = try await watcher.value }
        let elapsed = (ContinuousClock.now - started).seconds
        executor.send("stop")
        let stats = try JSONDecoder().decode(ExecutorStats.self, from: Data(try await executor.readLine().utf8))
        try await client.shutdown()
        let starts = created.withLock { $0 }
        func latencies(_ ends: [String: ContinuousClock.Instant]) -> [Double] {
            ends.compactMap { name, end in starts[name].map { (end - $0).seconds * 1000 } }.sorted()
        }
        return Result(count: count, load: load, seconds: elapsed, createToPod: latencies(podAt.withLock { $0 }), createToSucceeded: latencies(doneAt.withLock { $0 }), executor: stats)
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    struct SilentSink: ActionEventSink {
        func record(_ event: Flyteidl2_Workflow_ActionEvent) async throws {}
    }
}

/// How the bench's processes reach the sandbox: plain HTTP/1.1 by default; with `BENCH_TLS=1`
/// HTTPS with client certificates through a kubeconfig the sandbox writes (the driver names
/// its path in the environment its children inherit).
struct BenchTransport {
    var tls: Bool
    var kubeconfigPath: String

    func configuration(port: Int) throws -> ClientConfiguration {
        guard tls else { return ClientConfiguration(server: URL(string: "http://127.0.0.1:\(port)")!) }
        return try ClientConfiguration.fromKubeconfig(paths: [kubeconfigPath])
    }
}

let transportUnderTest: BenchTransport = {
    let environment = ProcessInfo.processInfo.environment
    if environment["BENCH_KUBECONFIG_PATH"] == nil {
        setenv("BENCH_KUBECONFIG_PATH", NSTemporaryDirectory() + "executor-bench-\(getpid()).kubeconfig", 1)
    }
    return BenchTransport(tls: environment["BENCH_TLS"] == "1", kubeconfigPath: ProcessInfo.processInfo.environment["BENCH_KUBECONFIG_PATH"] ?? "")
}()
