import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Synchronization
import Testing

/// Collects watch events in a task so tests can wait for a count without sleeping blindly.
actor EventLog {
    var events: [(type: WatchEventType, name: String, rv: String)] = []
    var failure: (any Error)?
    var ended = false

    func append(_ type: WatchEventType, _ name: String, _ rv: String) { events.append((type, name, rv)) }
    func fail(_ error: any Error) { failure = error }
    func end() { ended = true }

    /// Waits up to `seconds` for `count` events (or the end of the stream); the limit only
    /// bounds a failure (the suite runs beside builds), so it is the suites' 60 s.
    func wait(for count: Int, seconds: Double = 60) async -> [(type: WatchEventType, name: String, rv: String)] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while events.count < count && !ended && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return events
    }

    func waitForEnd(seconds: Double = 60) async {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !ended && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    }
}

func follow(_ stream: WatchStream<ConfigMap>, into log: EventLog) -> Task<Void, Never> {
    Task {
        do {
            for try await event in stream {
                switch event {
                case .bookmark(let rv): await log.append(.bookmark, "", rv)
                default: await log.append(event.type, event.object?.metadata.name ?? "", event.object?.metadata.resourceVersion ?? "")
                }
            }
        } catch {
            await log.fail(error)
        }
        await log.end()
    }
}

@Suite("Watches")
struct WatchTests {
    @Test("a watch from a list's resourceVersion sees ADDED, MODIFIED and DELETED in order")
    func eventsInOrder() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(configMap("before"))
            let list = try await client.list(ConfigMap.self, namespace: "default")
            let log = EventLog()
            let task = follow(try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(resourceVersion: list.metadata.resourceVersion)), into: log)
            var cm = try await client.create(configMap("w"))
            cm.data = ["k": "v"]
            _ = try await client.update(cm)
            try await client.delete(ConfigMap.self, name: "w", namespace: "default")
            let events = await log.wait(for: 3)
            #expect(events.map(\.type) == [.added, .modified, .deleted])
            #expect(events.allSatisfy { $0.name == "w" }, "the object listed before is not replayed")
            task.cancel()
        }
    }

    @Test("a watch without a resourceVersion starts with the existing objects")
    func initialState() async throws {
        try await KubeSandbox.with { _, client in
            for i in 0..<3 { _ = try await client.create(configMap("i\(i)")) }
            let log = EventLog()
            let task = follow(try await client.watch(ConfigMap.self, namespace: "default"), into: log)
            let events = await log.wait(for: 3)
            #expect(events.map(\.name) == ["i0", "i1", "i2"])
            #expect(events.allSatisfy { $0.type == .added })
            task.cancel()
        }
    }

    @Test("after a dropped watch, resuming from the last resourceVersion loses nothing")
    func resumeAfterDrop() async throws {
        try await KubeSandbox.with { sandbox, client in
            let start = try await client.list(ConfigMap.self, namespace: "default").metadata.resourceVersion
            let log = EventLog()
            _ = follow(try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(resourceVersion: start)), into: log)
            _ = try await client.create(configMap("one"))
            let first = await log.wait(for: 1)
            await sandbox.closeAllWatches()
            await log.waitForEnd()
            #expect(await log.ended)
            _ = try await client.create(configMap("two"))  // happens while no watch is open
            let resumed = EventLog()
            let task = follow(try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(resourceVersion: first.last?.rv)), into: resumed)
            _ = try await client.create(configMap("three"))
            #expect(await resumed.wait(for: 2).map(\.name) == ["two", "three"])
            task.cancel()
        }
    }

    @Test("resuming from a compacted resourceVersion fails with 410 Gone")
    func goneAfterCompaction() async throws {
        try await KubeSandbox.with { sandbox, client in
            let old = try await client.list(ConfigMap.self, namespace: "default").metadata.resourceVersion
            for i in 0..<3 { _ = try await client.create(configMap("g\(i)")) }
            await sandbox.compactHistory()
            let log = EventLog()
            _ = follow(try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(resourceVersion: old)), into: log)
            await log.waitForEnd()
            let raw = await log.failure
            #expect((raw as? KubeAPIError)?.isGone == true, "got \(String(describing: raw))")
        }
    }

    @Test("bookmarks carry a resourceVersion from which a watch can resume")
    func bookmarks() async throws {
        var options = KubeSandbox.Options()
        options.bookmarkInterval = .milliseconds(100)
        try await KubeSandbox.with(options) { _, client in
            let start = try await client.list(ConfigMap.self, namespace: "default").metadata.resourceVersion
            let log = EventLog()
            let task = follow(try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(labelSelector: "app=none", resourceVersion: start)), into: log)
            _ = try await client.create(configMap("unmatched"))  // filtered out, but moves the version on
            var bookmark: String?
            for _ in 0..<200 where bookmark == nil {
                bookmark = await log.events.last { $0.type == .bookmark && Int($0.rv) ?? 0 > Int(start ?? "0") ?? 0 }?.rv
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(bookmark != nil)
            task.cancel()
        }
    }

    @Test("the watch stream ends when the server's timeoutSeconds elapse")
    func serverTimeout() async throws {
        try await KubeSandbox.with { _, client in
            let log = EventLog()
            _ = follow(try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(timeoutSeconds: 1)), into: log)
            await log.waitForEnd()
            #expect(await log.ended)
            #expect(await log.failure == nil)
        }
    }

    @Test("cancelling the consuming task closes the watch on the server")
    func cancellation() async throws {
        try await KubeSandbox.with { sandbox, client in
            let log = EventLog()
            let task = follow(try await client.watch(ConfigMap.self, namespace: "default"), into: log)
            #expect(await sandbox.openWatchCount() == 1)
            _ = try await client.create(configMap("seen"))
            _ = await log.wait(for: 1)  // the consumer is now waiting inside the stream
            task.cancel()
            try await eventually("the watch closed on the server") { await sandbox.openWatchCount() == 0 }
        }
    }

    @Test("a watch with a label selector sees objects enter and leave the selection")
    func selectorTransitions() async throws {
        try await KubeSandbox.with { _, client in
            let start = try await client.list(ConfigMap.self, namespace: "default").metadata.resourceVersion
            let log = EventLog()
            let task = follow(try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(labelSelector: "flyte.org/managed=true", resourceVersion: start)), into: log)
            var cm = try await client.create(configMap("s"))
            cm.metadata.labels = ["flyte.org/managed": "true"]
            cm = try await client.update(cm)
            cm.metadata.labels = [:]
            _ = try await client.update(cm)
            #expect(await log.wait(for: 2).map(\.type) == [.added, .deleted])
            task.cancel()
        }
    }
}

@Suite("Retries")
struct RetryTests {
    final class Counter: Sendable {
        let codes = Mutex<[Int?]>([])
        func record(_ r: RequestRecord) { codes.withLock { $0.append(r.code) } }
        var all: [Int?] { codes.withLock { $0 } }
    }

    @Test("429 is retried after Retry-After on every verb, and the call then succeeds")
    func tooManyRequests() async throws {
        let counter = Counter()
        try await KubeSandbox.with { sandbox, _ in
            let client = try KubernetesClient(configuration: sandbox.clientConfiguration(), observer: counter.record)
            await sandbox.faults.failNext(2, code: 429, retryAfterSeconds: 1, method: "POST")
            let started = ContinuousClock.now
            _ = try await client.create(configMap("r"))
            #expect(ContinuousClock.now - started >= .seconds(1), "Retry-After is honoured")
            #expect(counter.all == [429, 429, 201])
            try await client.shutdown()
        }
    }

    @Test("5xx is retried on idempotent verbs but surfaced on POST")
    func serverErrors() async throws {
        let counter = Counter()
        try await KubeSandbox.with { sandbox, _ in
            var config = sandbox.clientConfiguration()
            config.retry = .init(maxAttempts: 4, initialBackoff: .milliseconds(5))
            let client = try KubernetesClient(configuration: config, observer: counter.record)
            _ = try await client.create(configMap("x"))
            await sandbox.faults.failNext(2, code: 503, method: "GET")
            _ = try await client.get(ConfigMap.self, name: "x", namespace: "default")
            #expect(counter.all == [201, 503, 503, 200])
            await sandbox.faults.failNext(1, code: 500, method: "POST")
            do {
                _ = try await client.create(configMap("y"))
                Issue.record("POST must not be retried on 500")
            } catch let error as KubeAPIError {
                #expect(error.code == 500)
            }
            await sandbox.faults.failNext(10, code: 500, method: "GET")
            await #expect(throws: KubeAPIError.self) { _ = try await client.get(ConfigMap.self, name: "x", namespace: "default") }
            await sandbox.faults.reset()
            try await client.shutdown()
        }
    }

    @Test("idempotent calls ride out an API server restart")
    func restart() async throws {
        try await KubeSandbox.with(configure: { $0.retry = .init(maxAttempts: 20, initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200)) }) { sandbox, client in
            _ = try await client.create(configMap("kept"))
            await sandbox.stop()
            let restarted = Task { try await Task.sleep(for: .milliseconds(300)); try await sandbox.restart() }
            let read = try await client.get(ConfigMap.self, name: "kept", namespace: "default")
            #expect(read.metadata.name == "kept", "state survives the restart")
            try await restarted.value
        }
    }

    @Test("a create whose connection was refused was never sent, so it is tried again and lands once the API server is back")
    func refusedCreateRetried() async throws {
        try await KubeSandbox.with(configure: { $0.retry = .init(maxAttempts: 20, initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200)) }) { sandbox, client in
            await sandbox.stop()
            let restarted = Task { try await Task.sleep(for: .milliseconds(300)); try await sandbox.restart() }
            let made = try await client.create(configMap("made-after"))
            #expect(made.metadata.name == "made-after")
            try await restarted.value
        }
    }

    @Test("after an outage in which many calls failed to connect, the next outage does not leave calls waiting for connections that back off for a minute")
    func outageUnderConcurrency() async throws {
        try await KubeSandbox.with { sandbox, client in
            _ = try await client.create(configMap("kept"))
            func get() async throws { _ = try await client.get(ConfigMap.self, name: "kept", namespace: "default") }
            // 1. Down while a busy controller makes many calls at once: over HTTP/1.1 each wants a
            // connection of its own, and each refused connect counts toward a backoff.
            await sandbox.stop()
            let calls = (0..<64).map { _ in Task { try await get() } }
            try await Task.sleep(for: .seconds(1))
            try await sandbox.restart()
            for call in calls { _ = try? await call.value }
            // 2. Down again for a moment: the connection the calls were answered on goes.
            await sandbox.stop()
            try await Task.sleep(for: .milliseconds(200))
            try await sandbox.restart()
            // 3. A call now gets a new connection at once. The defect this guards against
            // (AsyncHTTPClient's own connect retries) left it queued behind connections backing
            // off for up to 60 s, each try failing after the 10 s connect timeout.
            let started = ContinuousClock.now
            try await get()
            let waited = ContinuousClock.now - started
            #expect(waited < .seconds(5), "the call after the outage took \(waited)")
        }
    }

    @Test("the client-side rate limit spaces requests out")
    func rateLimit() async throws {
        try await KubeSandbox.with(configure: { $0.rateLimit = .init(qps: 20, burst: 1) }) { _, client in
            let started = ContinuousClock.now
            for _ in 0..<6 { _ = try await client.list(ConfigMap.self, namespace: "default") }
            #expect(ContinuousClock.now - started >= .milliseconds(240), "5 waits of 50 ms at 20 qps")
        }
    }
}
