import Foundation
import KubeClient
@testable import KubeRuntime
import KubeRuntimeTesting
import Testing

/// The controller contract, after controller-runtime's controller tests. The controllers here
/// have no informers, so requests go in through `enqueue`, and the clock is manual.
@Suite("Controller")
struct ControllerTests {
    static func request(_ name: String) -> ReconcileRequest { ReconcileRequest(namespace: "default", name: name) }

    /// Runs a controller over `reconcile` while `body` runs.
    static func withController(workers: Int = 1, timeout: Duration? = nil, clock: ManualClock = ManualClock(), metrics: MetricsRegistry? = nil, reconcile: @escaping @Sendable (ReconcileRequest, ReconcileContext) async throws -> ReconcileResult, _ body: (Controller, ManualClock) async throws -> Void) async throws {
        let controller = Controller(name: "test", reconciler: ReconcileFunction(reconcile), options: ControllerOptions(maxConcurrentReconciles: workers, reconcileTimeout: timeout), clock: clock, metrics: metrics)
        let task = Task { await controller.run() }
        do {
            try await body(controller, clock)
        } catch {
            task.cancel()
            await task.value
            throw error
        }
        task.cancel()
        await task.value
    }

    struct Boom: Error {}

    /// A reconciler whose first round of a key asks to run again in 30 s and whose later rounds
    /// find nothing left to do.
    static func requeueAfterOnce(_ log: ReconcileLog) -> @Sendable (ReconcileRequest, ReconcileContext) async throws -> ReconcileResult {
        { request, _ in
            log.append(request.name)
            return log.count(request.name) == 1 ? .requeueAfter(.seconds(30)) : .done
        }
    }

    @Test("requeues a request after an error and keeps processing other items")
    func errorRequeues() async throws {
        let log = ReconcileLog()
        let failures = LockedBox(1)
        try await Self.withController(reconcile: { request, _ in
            log.append(request.name)
            if request.name == "bad" && failures.withLock({ f in defer { f -= 1 }; return f > 0 }) { throw Boom() }
            return .done
        }) { controller, clock in
            controller.enqueue(Self.request("bad"))
            controller.enqueue(Self.request("good"))
            await settle { log.entries.count >= 2 }
            #expect(log.entries == ["bad", "good"])
            #expect(controller.queue.retries(of: Self.request("bad")) == 1)
            // The retry waits for its 5 ms backoff.
            await settle { clock.sleeperCount > 0 }
            clock.advance(by: .milliseconds(5))
            await settle { log.entries.count >= 3 }
            #expect(log.entries == ["bad", "good", "bad"])
            await settle { controller.queue.retries(of: Self.request("bad")) == 0 }
            #expect(controller.queue.retries(of: Self.request("bad")) == 0)
        }
    }

    @Test("does not requeue on a terminal error")
    func terminal() async throws {
        let log = ReconcileLog()
        let metrics = MetricsRegistry()
        try await Self.withController(metrics: metrics, reconcile: { request, _ in
            log.append(request.name)
            throw TerminalError(Boom())
        }) { controller, clock in
            controller.enqueue(Self.request("a"))
            await settle { log.entries.count >= 1 && controller.queue.processingCount == 0 }
            clock.advance(by: .seconds(3600))
            await settle { log.entries.count > 1 }
            #expect(log.entries == ["a"])
            #expect(controller.queue.delayedCount == 0)
            let text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(text.contains(#"controller_runtime_terminal_reconcile_errors_total{controller="test"} 1"#))
            #expect(text.contains(#"controller_runtime_reconcile_errors_total{controller="test"} 1"#))
        }
    }

    @Test("requeues after a duration without rate limiting")
    func requeueAfter() async throws {
        let log = ReconcileLog()
        try await Self.withController(reconcile: Self.requeueAfterOnce(log)) { controller, clock in
            controller.enqueue(Self.request("a"))
            await settle { controller.queue.delayedCount == 1 }
            #expect(controller.queue.retries(of: Self.request("a")) == 0)
            clock.advance(by: .seconds(29))
            await settle { log.entries.count > 1 }
            #expect(log.entries.count == 1)
            clock.advance(by: .seconds(1))
            await settle { log.entries.count > 1 }
            #expect(log.entries.count == 2)
        }
    }

    @Test("a round that ends done drops the requeue-after an earlier round asked for")
    func doneDropsRequeueAfter() async throws {
        let log = ReconcileLog()
        try await Self.withController(reconcile: Self.requeueAfterOnce(log)) { controller, clock in
            controller.enqueue(Self.request("a"))
            await settle { controller.queue.delayedCount == 1 }
            #expect(controller.queue.delayedCount == 1)
            // An event: the second round finds nothing left to do.
            controller.enqueue(Self.request("a"))
            await settle { log.entries.count == 2 && controller.queue.delayedCount == 0 }
            #expect(log.entries.count == 2)
            #expect(controller.queue.delayedCount == 0)
            clock.advance(by: .seconds(60))
            await settle { log.entries.count > 2 }
            #expect(log.entries.count == 2)
        }
    }

    @Test("requeue runs again after the rate-limited backoff")
    func requeue() async throws {
        let log = ReconcileLog()
        try await Self.withController(reconcile: { request, _ in
            log.append(request.name)
            return log.count(request.name) < 3 ? .requeue : .done
        }) { controller, clock in
            controller.enqueue(Self.request("a"))
            await settle { controller.queue.delayedCount == 1 }
            clock.advance(by: .milliseconds(5))
            await settle { log.entries.count == 2 && controller.queue.delayedCount == 1 }
            #expect(controller.queue.retries(of: Self.request("a")) == 2)
            // The second retry waits 10 ms, not 5.
            clock.advance(by: .milliseconds(5))
            await settle { log.entries.count > 2 }
            #expect(log.entries.count == 2)
            clock.advance(by: .milliseconds(5))
            await settle { log.entries.count > 2 }
            #expect(log.entries.count == 3)
        }
    }

    @Test("does not reset the backoff until a success")
    func backoffKeptUntilSuccess() async throws {
        let log = ReconcileLog()
        try await Self.withController(reconcile: { request, _ in
            log.append(request.name)
            if log.count(request.name) <= 3 { throw Boom() }
            return .done
        }) { controller, clock in
            let key = Self.request("a")
            controller.enqueue(key)
            for expected in 1...3 {
                await settle { controller.queue.retries(of: key) == expected && controller.queue.delayedCount == 1 && clock.sleeperCount > 0 }
                #expect(controller.queue.retries(of: key) == expected)
                clock.advanceToNextDeadline()
            }
            await settle { log.entries.count == 4 && controller.queue.retries(of: key) == 0 }
            #expect(log.entries.count == 4)
            #expect(controller.queue.retries(of: key) == 0)
        }
    }

    @Test("never runs two reconciles for one key")
    func oneReconcilePerKey() async throws {
        let log = ReconcileLog()
        let gate = LockedBox(false)
        try await Self.withController(workers: 4, reconcile: { request, _ in
            log.begin(request.name)
            log.append(request.name)
            while !gate.value { await Task.yield() }
            log.end(request.name)
            return .done
        }) { controller, _ in
            for _ in 0..<10 { controller.enqueue(Self.request("a")) }
            controller.enqueue(Self.request("b"))
            await settle { log.entries.count >= 2 }
            for _ in 0..<10 { controller.enqueue(Self.request("a")) }
            await settle { false }
            #expect(log.entries.sorted() == ["a", "b"])
            gate.withLock { $0 = true }
            await settle { log.count("a") == 2 }
            #expect(log.maxConcurrentPerKey == 1)
            #expect(log.count("a") == 2)
        }
    }

    @Test("runs once more when a key is re-added during its reconcile")
    func readd() async throws {
        let log = ReconcileLog()
        let release = LockedBox(false)
        try await Self.withController(reconcile: { request, _ in
            log.append(request.name)
            while log.count(request.name) == 1 && !release.value { await Task.yield() }
            return .done
        }) { controller, _ in
            controller.enqueue(Self.request("a"))
            await settle { log.entries.count == 1 }
            controller.enqueue(Self.request("a"))
            controller.enqueue(Self.request("a"))
            release.withLock { $0 = true }
            await settle { log.entries.count >= 2 && controller.queue.processingCount == 0 }
            await settle { false }
            #expect(log.entries == ["a", "a"])
        }
    }

    @Test("cancels a reconcile past its timeout and retries it with backoff")
    func timeout() async throws {
        let log = ReconcileLog()
        let clock = ManualClock()
        try await Self.withController(timeout: .seconds(10), clock: clock, reconcile: { request, _ in
            log.append(request.name)
            if log.count(request.name) == 1 {
                try await clock.sleep(for: .seconds(3600))
            }
            return .done
        }) { controller, clock in
            controller.enqueue(Self.request("slow"))
            await settle { clock.sleeperCount >= 2 }
            clock.advance(by: .seconds(10))
            await settle { controller.queue.retries(of: Self.request("slow")) == 1 }
            #expect(controller.queue.retries(of: Self.request("slow")) == 1)
            await settle { clock.sleeperCount > 0 }
            clock.advanceToNextDeadline()
            await settle { log.entries.count == 2 }
            #expect(log.entries.count == 2)
        }
    }

    @Test("gives each reconcile its own ID in the log metadata")
    func reconcileID() async throws {
        let ids = LockedBox<[String]>([])
        try await Self.withController(reconcile: { _, context in
            ids.withLock { $0.append(context.reconcileID) }
            #expect(context.logger[metadataKey: "reconcileID"]?.description == context.reconcileID)
            #expect(context.logger[metadataKey: "controller"]?.description == "test")
            return .done
        }) { controller, _ in
            controller.enqueue(Self.request("a"))
            controller.enqueue(Self.request("b"))
            await settle { ids.value.count == 2 }
            #expect(Set(ids.value).count == 2)
            #expect(ids.value.allSatisfy { UUID(uuidString: $0) != nil })
        }
    }

    @Test("reconcile IDs are lowercase version-4 UUIDs, distinct within a controller and across controllers")
    func reconcileIDForm() {
        let generator = ReconcileIDGenerator()
        let ids = (0..<10_000).map { _ in generator.next().description }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil)
            #expect(id == id.lowercased())
            let bytes = uuid.map { withUnsafeBytes(of: $0.uuid) { Array($0) } } ?? []
            #expect(bytes.count == 16 && bytes[6] >> 4 == 4 && bytes[8] >> 6 == 0b10, "\(id)")
        }
        #expect(ReconcileIDGenerator().next() != ReconcileIDGenerator().next())
        #expect(ReconcileID("given").description == "given")
    }

    @Test("counts every result, each pre-set to 0, and the configured concurrency")
    func resultMetrics() async throws {
        let metrics = MetricsRegistry()
        let log = ReconcileLog()
        try await Self.withController(workers: 3, metrics: metrics, reconcile: { request, _ in
            log.append(request.name)
            return .done
        }) { controller, _ in
            let before = String(decoding: metrics.render(), as: UTF8.self)
            for result in ["success", "error", "requeue", "requeue_after"] {
                #expect(before.contains(#"controller_runtime_reconcile_total{controller="test",result="\#(result)"} 0"#))
            }
            #expect(before.contains(#"controller_runtime_max_concurrent_reconciles{controller="test"} 3"#))
            controller.enqueue(Self.request("a"))
            // The result is counted before the worker releases the key.
            await settle { log.entries.count == 1 && controller.queue.processingCount == 0 }
            let after = String(decoding: metrics.render(), as: UTF8.self)
            #expect(after.contains(#"controller_runtime_reconcile_total{controller="test",result="success"} 1"#))
            #expect(after.contains(#"workqueue_adds_total{name="test"} 1"#))
            #expect(after.contains("controller_runtime_reconcile_time_seconds_count{controller=\"test\"} 1"))
        }
    }
}
