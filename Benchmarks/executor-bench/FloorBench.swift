import Foundation
import ExecutorAPI
import KubeClient
import KubeRuntime
import Logging
import NIOCore
import Synchronization

/// What the transport and the controller runtime cost before any executor logic runs: the
/// floor under the executor's CPU per TaskAction.
///
/// A child process (this binary, `serve-floor`) is set up as the executor sets itself up (JSON
/// logs at warning, HTTP/1.1 keep-alive, the allocator tuned, 10 workers) and does one of three
/// things for each watch event of a TaskAction whose annotation the driver (this process) patches
/// at a fixed rate (no executor runs: nothing else touches them):
///
/// - `watched`: an informer decodes the event and caches the object (no handler);
/// - `reconciled`: as well, a controller queues the key and a worker runs a round that does nothing;
/// - `requested`: as well, that round sends one small merge patch (to a ConfigMap the informer
///   does not watch, its annotation) and reads the answer's resourceVersion, as a round of the
///   executor sends a write.
///
/// Four more rows read the same watch with less code (``FloorReaders``): a bare socket; a NIO
/// channel with NIO's HTTP decoder; that channel decoding each event; and, as well, sending a
/// patch on a second NIO channel for each. They say what the kernel, NIO, decoding and a bare
/// request cost, and so what AsyncHTTPClient and the controller runtime add above them. One
/// more, `streamed`, reads the watch through the client's watch stream in a task, as the
/// informer does, without the informer: it splits the client's share from the informer's.
///
/// The child measures its own getrusage from the driver's `start` to the last event (the
/// sandbox is a third process), so the differences between the rows are what one watch event,
/// one round and one request cost at that rate. The TaskActions are the executor bench's (the
/// fact sheet's container template), decoded as the executor's informer decodes them; a Pod's
/// status view costs about as much. What the executor adds to these is its own logic.
enum FloorBench {
    enum Variant: String, CaseIterable, Sendable {
        case socket, nio, decoded, patched, streamed, watched, reconciled, requested

        /// Read by ``FloorReaders``, without the client; plain HTTP only.
        var isBareReader: Bool { [.socket, .nio, .decoded, .patched].contains(self) }
        /// Counts every event of its watch, the opening ones too, rather than an informer's updates.
        var countsWatchEvents: Bool { isBareReader || self == .streamed }
        /// Each event is followed by a round (or, for `patched`, an answer) counted in `rounds`.
        var runsRounds: Bool { [.patched, .reconciled, .requested].contains(self) }
    }

    /// How many TaskActions the driver patches in turn, and a bare reader's watch lists first.
    static let keys = 64

    struct Result: Codable, Sendable {
        var events: Int
        var rounds: Int
        var cpuSeconds: Double
        var systemSeconds: Double
        var contextSwitches: Int
    }

    static let watchedLabel = "floor-bench"

    // MARK: The child

    /// The child: reads, watches, reconciles or requests as `variant` says; measures from `start` on
    /// stdin until `stop <events>` and that many events seen, then prints a ``Result`` line.
    static func serve(port: Int, variant: Variant) async throws {
        AllocatorTuning.returnFreedMemoryPromptly()
        LogFormat.json.bootstrap(level: .warning)
        var logging = Logger(label: "floor-bench")
        logging.logLevel = .warning
        var configuration = try transportUnderTest.configuration(port: port)
        configuration.httpVersion = .http1
        let client = try KubernetesClient(configuration: configuration, logger: logging)
        let events = Counter()
        let rounds = Counter()
        var run: Task<Void, any Error>?
        var channels: [any Channel] = []
        switch variant {
        case .socket:
            try FloorReaders.readBySocket(port: port, events: events)
        case .nio, .decoded, .patched:
            channels = try await FloorReaders.readByNIO(port: port, decode: variant != .nio, events: events, answers: variant == .patched ? rounds : nil)
        case .streamed:
            // As the informer opens its watch: no read timer, its decoder settings.
            let options = WatchOptions(labelSelector: "\(watchedLabel)=true", allowWatchBookmarks: true, silence: .caller)
            let stream = try await client.watch(TaskAction.self, namespace: "default", options: options, decoder: FloorReaders.informerDecoder)
            run = Task {
                for try await event in stream {
                    switch event {
                    case .added, .modified: events.add()
                    default: break
                    }
                }
            }
        case .watched, .reconciled, .requested:
            let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0"), logger: logging)
            let informer = manager.informers.informer(TaskAction.self, scope: InformerScope(namespace: "default", labelSelector: "\(watchedLabel)=true"))
            _ = informer.addHandler { event in
                if case .updated = event { events.add() }
            }
            if variant.runsRounds {
                let reconciler = FloorReconciler(client: variant == .requested ? client : nil, rounds: rounds)
                let controller = manager.controller(name: "floor", reconciler: reconciler, options: ControllerOptions(maxConcurrentReconciles: 10, workerExecutors: ExecutorBench.workerExecutors()))
                controller.watch(informer)
            }
            run = Task { try await manager.run() }
            await manager.informers.waitForSync()
        }
        if variant.countsWatchEvents {
            // Synced when the watch's opening events (one for each TaskAction) have arrived.
            let deadline = ContinuousClock.now + .seconds(10)
            while events.value < keys, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
            guard events.value >= keys else { throw FloorError.watchNotOpened(variant, events: events.value) }
        }
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        var cpuAtStart = 0.0
        var systemAtStart = 0.0
        var switchesAtStart = 0
        var eventsAtStart = 0
        var roundsAtStart = 0
        for await line in ExecutorBench.stdinLines() {
            if line == "start" {
                eventsAtStart = events.value
                roundsAtStart = rounds.value
                cpuAtStart = ExecutorBench.cpuSeconds()
                (systemAtStart, switchesAtStart) = ExecutorBench.systemSecondsAndSwitches()
            } else if line.hasPrefix("stop ") {
                let expected = eventsAtStart + (Int(line.dropFirst(5)) ?? 0)
                // The last events may still be on their way; 10 s is far more than they need.
                let deadline = ContinuousClock.now + .seconds(10)
                while events.value < expected || (variant.runsRounds && rounds.value - roundsAtStart < expected - eventsAtStart), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(2))
                }
                let (system, switches) = ExecutorBench.systemSecondsAndSwitches()
                let result = Result(events: events.value - eventsAtStart, rounds: rounds.value - roundsAtStart,
                                    cpuSeconds: ExecutorBench.cpuSeconds() - cpuAtStart, systemSeconds: system - systemAtStart, contextSwitches: switches - switchesAtStart)
                try ExecutorBench.writeLine(result)
                break
            }
        }
        run?.cancel()
        _ = try? await run?.value
        for channel in channels { try? await channel.close() }
        try await client.shutdown()
    }

    /// A round that does nothing, or sends one small write and reads its answer.
    struct FloorReconciler: Reconciler {
        let client: KubernetesClient?
        let rounds: Counter

        func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
            if let client {
                _ = try await client.patch(TaskAction.resourceType, name: "\(request.name)-out", namespace: request.namespace,
                                           .merge(["metadata": ["annotations": ["floor-bench/round": .string(request.name)]]]), as: WrittenVersion.self)
            }
            rounds.add()
            return .done
        }
    }

    enum FloorError: Error {
        /// A reader's watch did not bring an event for each TaskAction within 10 s.
        case watchNotOpened(Variant, events: Int)
    }

    /// A count shared between tasks.
    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .relaxed) }
        func add() { count.add(1, ordering: .relaxed) }
    }

    // MARK: The driver (this process)

    /// One run of `variant`: a fresh sandbox and child; `count` patches at `rate` a second,
    /// spread over `keys` TaskActions so that no key has two events waiting for one round.
    static func run(variant: Variant, count: Int, rate: Double) async throws -> Result {
        _ = transportUnderTest
        let sandbox = try ExecutorBench.Child(["serve-executor-sandbox"])
        defer { sandbox.finish() }
        guard let port = Int(try await sandbox.readLine()) else { throw InformerBench.BenchError.childExited }
        var logging = Logger(label: "bench")
        logging.logLevel = .warning
        let client = try KubernetesClient(configuration: try transportUnderTest.configuration(port: port), logger: logging)
        for i in 0..<keys {
            var watched = ExecutorBench.taskAction(i)
            watched.metadata.name = "floor-\(i)"
            watched.metadata.labels = [watchedLabel: "true"]
            _ = try await client.create(watched)
            var out = ExecutorBench.taskAction(keys + i)
            out.metadata.name = "floor-\(i)-out"
            _ = try await client.create(out)
        }
        let child = try ExecutorBench.Child(["serve-floor", String(port), variant.rawValue], profile: ProcessInfo.processInfo.environment["BENCH_PERF"])
        defer { child.finish() }
        guard try await child.readLine() == "ready" else { throw InformerBench.BenchError.childExited }
        func patch(_ i: Int) async throws {
            _ = try await client.patch(TaskAction.resourceType, name: "floor-\(i % keys)", namespace: "default", .merge(["metadata": ["annotations": ["floor-bench/i": .string(String(i))]]]), as: WrittenVersion.self)
        }
        // Warm up: connections open, code paged in, caches of the runtime filled.
        for i in 0..<100 {
            try await patch(i)
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: .milliseconds(500))
        child.send("start")
        let start = ContinuousClock.now
        let interval = Duration.seconds(1 / rate)
        for i in 0..<count {
            try await Task.sleep(until: start + interval * i)
            try await patch(100 + i)
        }
        child.send("stop \(count)")
        let line = try await child.readLine()
        try await client.shutdown()
        return try JSONDecoder().decode(Result.self, from: Data(line.utf8))
    }
}
