import ExecutorAPI
@testable import ExecutorControllers
import Foundation
import KubeClient
@testable import KubeRuntime
import KubeRuntimeTesting
import Logging
import KubeSandbox
import TaskPlugins
import Testing

/// What the executor writes per TaskAction: the finalizer, the child, coalesced status
/// writes, no GC labels unless asked, and no wait for its own write's watch event.
@Suite("Status writes", TestCluster.sandboxOnly)
struct StatusWriteTests {
    /// Counts the executor's writes to TaskActions (`/taskactions`, status and metadata).
    final class WriteLog: Sendable {
        let writes = LockedBox<[(method: String, path: String)]>([])
        func observer() -> @Sendable (RequestRecord) -> Void {
            { record in
                if record.method != "GET", record.path.contains("/taskactions/") { self.writes.withLock { $0.append((record.method, record.path)) } }
            }
        }
        var statusWrites: Int { writes.value.filter { $0.path.hasSuffix("/status") }.count }
        var metadataWrites: Int { writes.value.filter { !$0.path.hasSuffix("/status") }.count }
    }

    static func start(_ h: ExecutorHarness, config: ExecutorConfig, log: WriteLog) throws -> (Task<Void, any Error>, KubernetesClient) {
        let client = try KubernetesClient(configuration: h.sandbox.clientConfiguration(), observer: log.observer())
        let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", gracefulShutdownTimeout: .seconds(5)))
        _ = Executor(manager: manager, config: config, sink: h.sink)
        return (Task { try await manager.run() }, client)
    }

    /// A reconciler of the built-in plugins over `informer`, a cache the test moves by hand, so
    /// a round sees exactly the version it is given. Its plugins never start: a round that
    /// reaches one waits for it.
    static func reconciler(_ h: ExecutorHarness, config: ExecutorConfig = ExecutorConfig(), informer: Informer<TaskAction>) -> TaskActionReconciler {
        let registry = PluginRegistration.registry(PluginRegistration.builtIn, config: config, logger: Logger(label: "test"))
        return TaskActionReconciler(client: h.client, config: config, plugins: PluginTable(registry: registry, client: h.client, logger: Logger(label: "test")), sink: h.sink,
                                    events: EventRecorder(client: h.client, reportingController: "test"), taskActions: { _ in informer })
    }

    /// A TaskAction created in the sandbox, held by a cache the test moves by hand, and a
    /// reconciler over that cache (``reconciler(_:config:informer:)``).
    struct HandMoved {
        let h: ExecutorHarness
        let name: String
        /// The TaskAction as created, the version the cache holds at first.
        let created: TaskAction
        let informer: Informer<TaskAction>
        let reconciler: TaskActionReconciler
        var request: ReconcileRequest { ReconcileRequest(namespace: "default", name: name) }

        /// The TaskAction as the server has it now.
        func get() async throws -> TaskAction { try await h.client.get(TaskAction.self, name: name, namespace: "default") }
    }

    static func handMoved(_ h: ExecutorHarness, _ name: String, config: ExecutorConfig = ExecutorConfig()) async throws -> HandMoved {
        try await h.create(Fixtures.taskAction(name))
        let created = try await h.client.get(TaskAction.self, name: name, namespace: "default")
        let informer = Informer<TaskAction>(client: h.client)
        _ = informer.store.upsert(created)
        return HandMoved(h: h, name: name, created: created, informer: informer, reconciler: reconciler(h, config: config, informer: informer))
    }

    @Test("within the coalescing window every transition of a quick Pod goes into one status write, each with its own entry in phaseHistory and its own ActionEvent, in order")
    func coalesced() async throws {
        var config = ExecutorConfig()
        config.statusCoalesceMilliseconds = 60_000
        try await ExecutorHarness.with(start: false) { h in
            let log = WriteLog()
            let (run, client) = try Self.start(h, config: config, log: log)
            try await h.create(Fixtures.taskAction("w-quick", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            let done = try await h.terminal("w-quick")
            let phases = done.status?.phaseHistory?.map(\.phase) ?? []
            #expect(phases.first == "Queued" && phases.last == "Completed", "\(phases)")
            #expect(phases == ["Queued", "Initializing", "Executing", "Completed"].filter(phases.contains), "\(phases)")
            // Counted once the executor has stopped: a request's observer runs after the server
            // has applied it, so a write the test already sees may not be counted yet before.
            run.cancel()
            _ = try? await run.value
            #expect(log.statusWrites == 1, "\(log.writes.value)")
            #expect(log.metadataWrites == 1, "the finalizer only: no GC labels by default")
            let events = h.sink.events.value.map(\.phase)
            #expect(events.count >= phases.count)
            #expect(events.last == .succeeded)
            try await client.shutdown()
        }
    }

    @Test("stamps within one second are one string, sharing its storage; the next second is formatted anew")
    func secondStampsShareOneString() {
        let stamps = SecondStamps()
        func storage(_ s: String) -> UnsafePointer<UInt8>? { s.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil }
        let first = stamps.text(Date(timeIntervalSince1970: 1_440_938_160.1))
        let again = stamps.text(Date(timeIntervalSince1970: 1_440_938_160.9))
        let next = stamps.text(Date(timeIntervalSince1970: 1_440_938_161.0))
        #expect(first == "2015-08-30T12:36:00Z" && again == first && next == "2015-08-30T12:36:01Z")
        #expect(storage(first) != nil && storage(again) == storage(first))
        #expect(storage(next) != storage(first))
        // A time before the last one is a different second too, not the last one's text.
        #expect(stamps.text(Date(timeIntervalSince1970: 1_440_938_159.5)) == "2015-08-30T12:35:59Z")
    }

    @Test("the completed-time label is Go's layout 2006-01-02.15-04 in UTC, so its order is time order")
    func completedLabelLayout() {
        #expect(TaskActionTime.completedLabel(Date(timeIntervalSince1970: 1_440_938_160.9)) == "2015-08-30.12-36")
        #expect(TaskActionTime.completedLabel(Date(timeIntervalSince1970: 951_868_799)) == "2000-02-29.23-59")
        #expect(TaskActionTime.completedLabel(Date(timeIntervalSince1970: 0)) < TaskActionTime.completedLabel(Date(timeIntervalSince1970: 3_600)))
    }

    @Test("with gc.labels on, a TaskAction gets its GC labels in one write once it ends: the finalizer and the labels are its only metadata writes")
    func gcLabelsOnce() async throws {
        var config = ExecutorConfig()
        config.gc.labels = true
        config.statusCoalesceMilliseconds = 60_000
        try await ExecutorHarness.with(start: false) { h in
            let log = WriteLog()
            let (run, client) = try Self.start(h, config: config, log: log)
            try await h.create(Fixtures.taskAction("w-labels", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            try await eventually("the GC labels") { (try? await h.get("w-labels"))?.metadata.labels?[TaskActionLabels.completedTime] != nil }
            // Time for a second label write, were a round to make one after the first.
            try await Task.sleep(for: .milliseconds(500))
            run.cancel()
            _ = try? await run.value
            #expect(log.metadataWrites == 2, "\(log.writes.value)")
            #expect(log.statusWrites == 1, "\(log.writes.value)")
            try await client.shutdown()
        }
    }

    @Test("a retry is written before the failed attempt's Pod is deleted, even inside the coalescing window (a process dying between them must not lose the attempt)")
    func retryWrittenBeforeDelete() async throws {
        var config = ExecutorConfig()
        config.statusCoalesceMilliseconds = 60_000
        try await ExecutorHarness.with(start: false) { h in
            let writes = LockedBox<[String]>([])
            let client = try KubernetesClient(configuration: h.sandbox.clientConfiguration(), observer: { record in
                if record.method != "GET", record.code.map({ (200..<300).contains($0) }) == true { writes.withLock { $0.append("\(record.method) \(record.path)") } }
            })
            let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", gracefulShutdownTimeout: .seconds(5)))
            _ = Executor(manager: manager, config: config, sink: h.sink)
            let run = Task { try await manager.run() }
            try await h.create(Fixtures.taskAction("w-retry", template: Fixtures.template(outcome: "fail", duration: 0.05, startup: 0.05, retries: 1)))
            let done = try await h.terminal("w-retry")
            run.cancel()
            _ = try? await run.value
            try await client.shutdown()
            #expect(done.status?.attempts == 2)
            let log = writes.value
            let deleted = try #require(log.firstIndex { $0.hasPrefix("DELETE") && $0.hasSuffix("/pods/w-retry-0") }, "\(log)")
            #expect(log[..<deleted].contains { $0.hasSuffix("/taskactions/w-retry/status") }, "the new attempt was only held in memory when the Pod was deleted: \(log)")
        }
    }

    @Test("under load the window widens to the TaskActions in flight over status-writes-per-second, within its bounds; the keys parse and are checked")
    func adaptiveWindow() throws {
        var config = ExecutorConfig()
        // The defaults: 25 writes a second, windows of 1-30 s.
        #expect(TaskActionReconciler.coalescingWindow(config, inFlight: 3) == 1)
        #expect(TaskActionReconciler.coalescingWindow(config, inFlight: 250) == 10)
        #expect(TaskActionReconciler.coalescingWindow(config, inFlight: 5_000) == 30)
        config.statusWritesPerSecond = 0
        #expect(TaskActionReconciler.coalescingWindow(config, inFlight: 5_000) == 1)
        config.statusWritesPerSecond = 25
        config.statusCoalesceMilliseconds = 0
        #expect(TaskActionReconciler.coalescingWindow(config, inFlight: 5_000) == 0, "0 still writes every change")
        let parsed = try ExecutorConfig.parse(yaml: "status-writes-per-second: 10\nstatus-coalesce-max-milliseconds: 30000\n", path: "c.yaml")
        #expect(parsed.statusWritesPerSecond == 10 && parsed.statusCoalesceMaxMilliseconds == 30_000)
        #expect(throws: (any Error).self) { try ExecutorConfig.parse(yaml: "status-writes-per-second: -1\n", path: "c.yaml") }
        #expect(throws: (any Error).self) { try ExecutorConfig.parse(yaml: "status-coalesce-milliseconds: 2000\nstatus-coalesce-max-milliseconds: 1000\n", path: "c.yaml") }
    }

    @Test("a window widened by the TaskActions in flight does not narrow as they end: a status waiting in it is not written early, and the next write starts from the base window again")
    func windowHoldsAsBurstDrains() async throws {
        try await ExecutorHarness.with(start: false) { h in
            // The default budget: 25 status writes a second, windows of 1-30 s.
            let reconciler = Self.reconciler(h, informer: Informer<TaskAction>(client: h.client))
            let start = Date(timeIntervalSince1970: 1_000_000)
            let actions = (0..<1_000).map { Fixtures.taskAction("b-\($0)") }
            let burst = actions.map { ObjectKey($0) }
            for action in actions { reconciler.inFlight.apply(.added(action, initialList: false)) }
            reconciler.coalescing.withLock { held in for key in burst { held[key] = HeldStatus(lastWrite: start) } }
            // 1,000 in flight: 40 s, capped at 30.
            #expect(reconciler.holdOff(burst[0], now: start.addingTimeInterval(1)) == .seconds(29))
            // Most of the burst ends; 10 left would make the window 1 s, long past for this one.
            for action in actions.dropFirst(10) { reconciler.inFlight.apply(.deleted(action)) }
            reconciler.coalescing.withLock { held in for key in burst.dropFirst(10) { held.removeValue(forKey: key) } }
            #expect(reconciler.holdOff(burst[0], now: start.addingTimeInterval(5)) == .seconds(25), "the window narrowed under a status waiting in it")
            #expect(reconciler.holdOff(burst[0], now: start.addingTimeInterval(30)) == nil, "due at the end of the widest window")
            // A key whose window was never asked for while the burst ran gets the one of the load now.
            #expect(reconciler.holdOff(burst[1], now: start.addingTimeInterval(5)) == nil)
            // Written: the next window is measured from the write, with the load of now.
            reconciler.coalescing.withLock { $0[burst[0]] = HeldStatus(lastWrite: start.addingTimeInterval(30)) }
            #expect(reconciler.holdOff(burst[0], now: start.addingTimeInterval(30.5)) == .milliseconds(500))
        }
    }

    @Test("the window counts every TaskAction not ended, from the informer's events: the first actions of a burst created at once see the whole burst, not only the few started before them")
    func windowCountsActionsNotStarted() async throws {
        try await ExecutorHarness.with(start: false) { h in
            let reconciler = Self.reconciler(h, informer: Informer<TaskAction>(client: h.client))
            let start = Date(timeIntervalSince1970: 1_000_000)
            // A burst of 1,000 is in the cache; one action has had its finalizer written and holds
            // a status. Counting only the actions holding one (as the window did), it was 1 s.
            let burst = (0..<1_000).map { Fixtures.taskAction("n-\($0)") }
            for action in burst { reconciler.inFlight.apply(.added(action, initialList: false)) }
            let first = ObjectKey(burst[0])
            reconciler.coalescing.withLock { $0[first] = HeldStatus(lastWrite: start) }
            #expect(reconciler.inFlight.value == 1_000)
            #expect(reconciler.holdOff(first, now: start.addingTimeInterval(1)) == .seconds(29), "the window of 1,000 in flight is 30 s (40, capped)")
        }
    }

    @Test("in flight follows adds, updates and deletions: an action that ends, one brought back, a condition action and a deleted one")
    func inFlightCount() throws {
        let count = TaskActionsInFlight()
        let running = Fixtures.taskAction("c-run")
        var ended = running
        var status = TaskActionStatus()
        status.setCondition(.succeeded, status: true, reason: .completed, message: "done", now: Date())
        ended.status = status
        #expect(ended.isTerminal && !running.isTerminal)
        var condition = Fixtures.taskAction("c-cond")
        condition.spec.actionType = "condition"

        count.apply(.added(running, initialList: true))
        count.apply(.added(condition, initialList: false))
        count.apply(.added(Fixtures.taskAction("c-other"), initialList: false))
        #expect(count.value == 2, "a condition action does not count")
        count.apply(.updated(old: running, new: running))
        #expect(count.value == 2)
        count.apply(.updated(old: running, new: ended))
        #expect(count.value == 1, "ended")
        count.apply(.updated(old: ended, new: running))
        #expect(count.value == 2, "brought back (a relist's older state)")
        count.apply(.deleted(running))
        count.apply(.deleted(ended))
        #expect(count.value == 1, "a terminal action's deletion takes nothing off")
        count.apply(.deleted(Fixtures.taskAction("c-other")))
        #expect(count.value == 0)
    }

    @Test("ten TaskActions in flight at 0.01 status writes per second hold every intermediate phase past the 1 s base window: one status write each, every phase still in phaseHistory")
    func widenedUnderLoad() async throws {
        var config = ExecutorConfig()
        // Ten in flight: a 1,000 s window (300 s, the cap). The last one still in flight alone
        // has 100 s: on a loaded machine the others can take tens of seconds to end, and at
        // 0.1 per second its 10 s window ran out and it was written early (11 writes).
        config.statusWritesPerSecond = 0.01
        config.statusCoalesceMaxMilliseconds = 300_000
        try await ExecutorHarness.with(start: false) { h in
            let log = WriteLog()
            let (run, client) = try Self.start(h, config: config, log: log)
            let names = (0..<10).map { "w-load-\($0)" }
            for name in names { try await h.create(Fixtures.taskAction(name, template: Fixtures.template(manual: true))) }
            try await eventually("every Pod") { (try? await h.pods().count) == names.count }
            // Longer than the base window: with the window fixed at 1 s each action's Queued
            // and Initializing would be written now.
            try await Task.sleep(for: .seconds(2))
            for name in names { try await h.advance("\(name)-0") }
            for name in names { try await h.advance("\(name)-0") }
            for name in names {
                let done = try await h.terminal(name)
                let phases = done.status?.phaseHistory?.map(\.phase) ?? []
                #expect(phases.first == "Queued" && phases.last == "Completed" && phases.contains("Initializing"), "\(name): \(phases)")
            }
            run.cancel()
            _ = try? await run.value
            #expect(log.statusWrites == names.count, "\(log.writes.value.map(\.path))")
            try await client.shutdown()
        }
    }

    @Test("with coalescing off every change is its own status write")
    func uncoalesced() async throws {
        var config = ExecutorConfig()
        config.statusCoalesceMilliseconds = 0
        try await ExecutorHarness.with(start: false) { h in
            let log = WriteLog()
            let (run, client) = try Self.start(h, config: config, log: log)
            try await h.create(Fixtures.taskAction("w-each", template: Fixtures.template(manual: true)))
            try await h.reaches("w-each", "Initializing")
            try await h.advance("w-each-0")
            try await h.reaches("w-each", "Executing")
            try await h.advance("w-each-0")
            let done = try await h.terminal("w-each")
            #expect(done.status?.phaseHistory?.map(\.phase) == ["Queued", "Initializing", "Executing", "Completed"])
            run.cancel()
            _ = try? await run.value
            #expect(log.statusWrites >= 4, "\(log.writes.value)")
            try await client.shutdown()
        }
    }

    @Test("the Pod is created from the finalizer write's response, not after that write's watch event")
    func noWaitForOwnWrite() async throws {
        try await ExecutorHarness.with(start: false) { h in
            // The executor's TaskAction watch sees ADDED at once but every MODIFIED 60 s late: a
            // Pod made after the finalizer's watch event could not appear within the 45 s waited.
            await h.sandbox.faults.delayWatchEvents(.seconds(60), pathContains: "/taskactions", types: ["MODIFIED"])
            let run = h.startExecutor()
            defer { run.cancel() }
            try await h.create(Fixtures.taskAction("w-fast", template: Fixtures.template(manual: true)))
            try await eventually("the Pod", seconds: 45) { (try? await h.client.get(Pod.self, name: "w-fast-0", namespace: "default")) != nil }
            run.cancel()
            _ = try? await run.value
        }
    }

    @Test("the watch event of the executor's own status write wakes no round; a round that stopped at a version the write superseded makes it pass; anyone else's write passes")
    func ownWriteEventsFiltered() async throws {
        try await ExecutorHarness.with(start: false) { h in
            // A cache the test moves by hand, so the round below sees exactly the version it is given.
            let w = try await Self.handMoved(h, "w-echo")
            let (created, informer, reconciler) = (w.created, w.informer, w.reconciler)
            let filter = reconciler.ownWriteEvents
            func get() async throws -> TaskAction { try await w.get() }
            var status = TaskActionStatus()
            status.attempts = 1
            status.pluginPhase = "Queued"

            // 1. Our write's own event needs no round.
            try await reconciler.writeStatus(created, status)
            let first = try await get()
            #expect(first.metadata.resourceVersion != created.metadata.resourceVersion)
            #expect(filter.update(created, first) == false, "the event of our own last write is dropped")
            _ = informer.store.upsert(first)

            // 2. A round woken (by a Pod, say) while the cache still shows the version our next
            // write superseded stops; the event of that write must then wake it again.
            status.pluginPhase = "Initializing"
            try await reconciler.writeStatus(first, status)
            let result = try await reconciler.reconcile(w.request, context: ReconcileContext(logger: Logger(label: "test"), reconcileID: "r"))
            #expect(result == .done)
            let second = try await get()
            #expect(filter.update(first, first) == false, "a superseded version's event would only find a stale cache")
            #expect(filter.update(first, second) == true, "the round that stopped runs again on our write's event")

            // 3. Anyone else's write passes.
            _ = try await h.client.patch(TaskAction.resourceType, name: "w-echo", namespace: "default", .merge(["metadata": ["labels": ["team": "ml"]]]))
            let third = try await get()
            #expect(filter.update(second, third) == true)
        }
    }

    @Test("a status write whose watch event beats its answer: its own event is held back and wakes no round; anyone else's, held back meanwhile, runs the round again at once")
    func ownWriteEventBeforeAnswer() async throws {
        try await ExecutorHarness.with(start: false) { h in
            let w = try await Self.handMoved(h, "w-late")
            let (created, informer, reconciler, request) = (w.created, w.informer, w.reconciler, w.request)
            let filter = reconciler.ownWriteEvents
            let context = ReconcileContext(logger: Logger(label: "test"), reconcileID: "r")
            func get() async throws -> TaskAction { try await w.get() }
            /// Writes `status` over `base` with its answer held by the sandbox until `meanwhile`
            /// has run: by then the write is stored, so its watch event came first.
            func writeAnsweredLate(_ base: TaskAction, _ status: TaskActionStatus, meanwhile: () async throws -> Void) async throws -> TaskAction {
                let gate = await h.sandbox.faults.holdAnswers(1, method: "PATCH", pathContains: "/taskactions/w-late/status")
                let write = Task { try await reconciler.writeStatus(base, status) }
                do {
                    try await eventually("the status write is stored and its answer held", seconds: 30) { await gate.held == 1 }
                    try await meanwhile()
                } catch {
                    await gate.open()
                    _ = try? await write.value
                    throw error
                }
                await gate.open()
                return try await write.value
            }
            var status = TaskActionStatus()
            status.attempts = 1
            status.pluginPhase = "Queued"

            // 1. The event of our own write, before its answer: held back, and once the answer
            // says it was ours, nothing is owed. The next round runs as any other would.
            var stored: TaskAction?
            let first = try await writeAnsweredLate(created, status) {
                stored = try await get()
                #expect(stored?.metadata.resourceVersion != created.metadata.resourceVersion)
                #expect(filter.update(created, stored!) == false, "held back while the write is unanswered")
            }
            #expect(first.metadata.resourceVersion == stored?.metadata.resourceVersion)
            _ = informer.store.upsert(stored!)
            #expect(try await reconciler.reconcile(request, context: context) == .done, "its own event: no round is owed")

            // 2. Someone else's write lands after ours, while ours is unanswered: both events are
            // held back, and the answer makes the writing round run again at once.
            status.pluginPhase = "Initializing"
            var other: TaskAction?
            _ = try await writeAnsweredLate(stored!, status) {
                let mine = try await get()
                _ = try await h.client.patch(TaskAction.resourceType, name: "w-late", namespace: "default", .merge(["metadata": ["labels": ["team": "ml"]]]))
                other = try await get()
                #expect(filter.update(stored!, mine) == false)
                #expect(filter.update(mine, other!) == false, "held back while the write is unanswered")
            }
            _ = informer.store.upsert(other!)
            #expect(try await reconciler.reconcile(request, context: context) == .requeueAfter(.zero), "the held-back event of another's write runs the round again")
            #expect(try await reconciler.reconcile(request, context: context) == .done, "once")
        }
    }

    @Test("a status held for coalescing is dropped by the next round once someone else has ended the TaskAction")
    func heldStatusDroppedWhenEndedElsewhere() async throws {
        try await ExecutorHarness.with(start: false) { h in
            try await h.create(Fixtures.taskAction("w-ended"))
            let created = try await h.client.get(TaskAction.self, name: "w-ended", namespace: "default")
            let informer = Informer<TaskAction>(client: h.client)
            let reconciler = Self.reconciler(h, informer: informer)
            var held = TaskActionStatus()
            held.attempts = 1
            held.pluginPhase = "Running"
            reconciler.coalescing.withLock {
                var record = HeldStatus(lastWrite: Date())
                record.hold(held, extending: created.metadata.resourceVersion)
                $0[ObjectKey(namespace: "default", name: "w-ended")] = record
            }
            // Someone else marks it failed; the cache has that version.
            var ended = created
            var status = TaskActionStatus()
            status.setCondition(.failed, status: true, reason: .permanentFailure, message: "stopped by an operator", now: Date())
            ended.status = status
            ended.metadata.resourceVersion = "999999"
            _ = informer.store.upsert(ended)
            let result = try await reconciler.reconcile(ReconcileRequest(namespace: "default", name: "w-ended"), context: ReconcileContext(logger: Logger(label: "test"), reconcileID: "r"))
            #expect(result == .done)
            #expect(reconciler.coalescing.value[ObjectKey(namespace: "default", name: "w-ended")] == nil, "the held status is dropped, not kept for a write")
        }
    }

    @Test("a held status is never written over a newer version: when a write of ours was applied but its answer lost (a new attempt recorded), the next round goes on from that version, not from the held attempt")
    func heldStatusYieldsToNewerVersion() async throws {
        var config = ExecutorConfig()
        config.statusCoalesceMilliseconds = 60_000
        try await ExecutorHarness.with(start: false) { h in
            let (executor, run) = try h.launchExecutor(config: config)
            defer { run.cancel() }  // also when an expectation below throws
            try await h.create(Fixtures.taskAction("w-lost", template: Fixtures.template(duration: 600, startup: 0.05, retries: 1)))
            let key = ObjectKey(namespace: h.namespace, name: "w-lost")
            // Executing, held for the window: the object has the finalizer and no status yet.
            try await eventually("the Executing phase held") {
                executor.reconciler.coalescing.value[key]?.pending?.phaseHistory?.last?.phase == "Executing"
            }
            let held = try #require(executor.reconciler.coalescing.value[key]?.pending)
            // What our retry's write leaves on the server when the API server goes away after
            // applying it: attempt 2, its child not made yet. The executor never saw the answer.
            var retried = held
            retried.attempts = 2
            retried.pluginState = PluginState().base64
            retried.phaseHistory = (held.phaseHistory ?? []) + [PhaseTransition(phase: "Queued", occurredAt: KubeTime.format(Date()), message: "restarting task")]
            _ = try await h.client.patch(TaskAction.resourceType, name: "w-lost", namespace: h.namespace, Patch.merge(encoding: TaskActionStatusPatch(status: retried, resourceVersion: nil)), subresource: "status")
            let second = ChildNames.generated(taskAction: "w-lost", attempt: 2)
            try await eventually("attempt 2's Pod") { (try? await h.client.get(Pod.self, name: second, namespace: h.namespace)) != nil }
            let now = try await h.get("w-lost")
            #expect(now.status?.attempts == 2, "the held attempt-1 status was written over the new attempt")
            #expect(await h.sandbox.createCounts(Pod.resourceType)["\(h.namespace)/\(ChildNames.generated(taskAction: "w-lost", attempt: 1))"] == 1)
            run.cancel()
            _ = try? await run.value
        }
    }

    @Test("events of a TaskAction whose work is over wake no round: terminal in the cache, or in our write's answer while the cache lags; deletion, missing GC labels and anyone else's later write do")
    func noRoundWhenOver() async throws {
        try await ExecutorHarness.with(start: false) { h in
            let w = try await Self.handMoved(h, "w-over")
            let (created, informer, plain, request) = (w.created, w.informer, w.reconciler, w.request)
            var labelled = ExecutorConfig()
            labelled.gc.labels = true
            let withLabels = Self.reconciler(h, config: labelled, informer: informer)
            func get() async throws -> TaskAction { try await w.get() }

            #expect(plain.needsRound(ReconcileRequest(namespace: "default", name: "not-cached")), "an object the cache does not hold: its round forgets it")
            var running = TaskActionStatus()
            running.attempts = 1
            running.pluginPhase = "Running"
            try await plain.writeStatus(created, running)
            #expect(plain.needsRound(request), "a running action's events wake rounds, whatever the cache shows")
            let first = try await get()
            _ = informer.store.upsert(first)
            #expect(plain.needsRound(request))

            // Our terminal write is accepted; the cache still holds the version it replaced.
            var over = running
            over.pluginPhase = "Success"
            over.setCondition(.succeeded, status: true, reason: .completed, message: "done", now: Date())
            try await plain.writeStatus(first, over)
            #expect(!plain.needsRound(request), "a round would stop at the stale version, then find the action over")
            let done = try await get()
            #expect(done.isTerminal)
            _ = informer.store.upsert(done)
            #expect(!plain.needsRound(request), "terminal in the cache")
            #expect(withLabels.needsRound(request), "gc.labels on and the labels not yet stamped: the round stamps them")

            // Someone rewrites the status to running after our terminal write: not ours, so not over.
            var reopened = first
            reopened.metadata.resourceVersion = "999999"
            _ = informer.store.upsert(reopened)
            #expect(plain.needsRound(request), "a version our write did not replace is judged by what it shows")

            // Being deleted: the round aborts the child and removes the finalizer.
            var deleting = done
            deleting.metadata.deletionTimestamp = KubeTime.format(Date())
            _ = informer.store.upsert(deleting)
            #expect(plain.needsRound(request))
        }
    }
}
