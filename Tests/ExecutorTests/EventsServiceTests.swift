import ExecutorAPI
import ExecutorControllers
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import Logging
import SwiftProtobuf
import TaskPlugins
import Testing

/// Flyte's events service as a test peer: decodes each Connect `Record` request, keeps the
/// events and the request heads, and answers as told (OK, a Connect error, or not yet).
final class FakeEventsService: Sendable {
    enum Mode: Sendable {
        case ok
        case fail(status: Int, code: String, message: String)
        /// Hold requests until the mode changes.
        case hold
    }

    struct Received: Sendable {
        var path: String
        var contentType: String?
        var protocolVersion: String?
        var authorization: String?
        var events: [Flyteidl2_Workflow_ActionEvent]
    }

    let mode = LockedBox(Mode.ok)
    let received = LockedBox<[Received]>([])
    let failed = LockedBox(0)
    /// Requests being held now.
    let holding = LockedBox(0)
    private let serverBox = LockedBox<LoopbackHTTPServer?>(nil)
    var server: LoopbackHTTPServer { serverBox.value! }
    var url: String { server.url }

    /// Events the service accepted, in the order the requests were answered.
    var accepted: [Flyteidl2_Workflow_ActionEvent] { received.value.flatMap(\.events) }

    init() async throws {
        let server = try await LoopbackHTTPServer { [mode, received, failed, holding] request in
            if case .hold = mode.value {
                holding.withLock { $0 += 1 }
                while case .hold = mode.value { try? await Task.sleep(for: .milliseconds(5)) }
                holding.withLock { $0 -= 1 }
            }
            guard request.method == "POST", request.path == EventsProxyClient.path else {
                return .init(status: 404, headers: [("Content-Type", "application/json")], body: Array(#"{"code":"unimplemented","message":"no such method"}"#.utf8))
            }
            if case .fail(let status, let code, let message) = mode.value {
                failed.withLock { $0 += 1 }
                return .init(status: status, headers: [("Content-Type", "application/json")], body: Array(#"{"code":"\#(code)","message":"\#(message)"}"#.utf8))
            }
            guard let decoded = try? Flyteidl2_Workflow_RecordRequest(serializedBytes: request.body) else {
                return .init(status: 400, headers: [("Content-Type", "application/json")], body: Array(#"{"code":"invalid_argument","message":"not a RecordRequest"}"#.utf8))
            }
            received.withLock {
                $0.append(Received(path: request.path, contentType: request.header("Content-Type"), protocolVersion: request.header("Connect-Protocol-Version"), authorization: request.header("Authorization"), events: decoded.events))
            }
            return .init(status: 200, headers: [("Content-Type", "application/proto")], body: try! Flyteidl2_Workflow_RecordResponse().serializedBytes())
        }
        serverBox.withLock { $0 = server }
    }

    private let fetchers = LockedBox<[HTTPFetcher]>([])

    /// A client of this service (closed by ``close()``).
    func client(metrics: MetricsRegistry = MetricsRegistry(), _ configure: (inout EventsConfig) -> Void = { _ in }) throws -> EventsProxyClient {
        var config = EventsConfig(url: url + "/")
        configure(&config)
        let http = try HTTPFetcher(timeout: .seconds(config.timeoutSeconds))
        fetchers.withLock { $0.append(http) }
        return try EventsProxyClient(config: config, http: http, metrics: metrics, logger: Logger(label: "events-test"))
    }

    /// Stops answering; clients keep their connections' pools until ``close()``.
    func stop() async { await server.stop() }

    /// Runs `body` with a new service, closing it and its clients' pools however `body` ends.
    static func with(_ body: (FakeEventsService) async throws -> Void) async throws {
        let service = try await FakeEventsService()
        do {
            try await body(service)
        } catch {
            await service.close()
            throw error
        }
        await service.close()
    }

    /// Stops the server and the clients' pools.
    func close() async {
        await server.stop()
        for http in fetchers.value { await http.shutdown() }
    }
}

@Suite("ActionEvents to Flyte's events service (Connect)")
struct EventsServiceTests {
    static func event(_ action: String, _ phase: Flyteidl2_Common_ActionPhase = .running) -> Flyteidl2_Workflow_ActionEvent {
        var event = Flyteidl2_Workflow_ActionEvent()
        event.id.run.name = "r1"
        event.id.name = action
        event.attempt = 1
        event.phase = phase
        return event
    }

    @Test("a TaskAction's ActionEvents reach the service in order, as Connect protobuf with the bearer token from its file")
    func endToEnd() async throws {
        try await FakeEventsService.with { service in
            let token = FileManager.default.temporaryDirectory.appendingPathComponent("events-token-\(UUID().uuidString)")
            try Data("s3cr3t\n".utf8).write(to: token)
            defer { try? FileManager.default.removeItem(at: token) }
            let client = try service.client { $0.tokenFile = token.path }
            var config = ExecutorConfig()
            config.cluster = "us-east-2a"
            try await ExecutorHarness.with(config: config, sink: client) { h in
                try await h.create(Fixtures.taskAction("r1-ev", template: Fixtures.template(manual: true)))
                try await h.reaches("r1-ev", "Initializing")
                try await h.advance("r1-ev-0")
                try await h.reaches("r1-ev", "Executing")
                try await h.advance("r1-ev-0")
                let done = try await h.terminal("r1-ev")
                #expect(TaskActionScenarioTests.phases(done) == ["Queued", "Initializing", "Executing", "Completed"])

                let events = service.accepted.filter { $0.id.name == "r1-ev" }
                // Each phase once at least (delivery is at least once), in order.
                var seen: [Flyteidl2_Common_ActionPhase] = []
                for event in events where seen.last != event.phase { seen.append(event.phase) }
                #expect(seen == [.queued, .initializing, .running, .succeeded])
                let last = try #require(events.last)
                #expect(last.id.run.project == "flytesnacks" && last.id.run.domain == "development" && last.id.run.name == "r1")
                #expect(last.attempt == 1)
                #expect(events.allSatisfy { $0.cluster == "us-east-2a" })
                let paths = TaskPaths(namespace: h.namespace, name: "r1-ev", inputUri: "", runOutputBase: "s3://bucket/data/r1", actionName: "r1-ev", attempt: 1)
                #expect(last.outputs.outputUri == paths.outputsPath && last.outputs.outputUri.hasSuffix("/r1-ev/1/outputs.pb"))
                #expect(last.outputs.reportUri == paths.reportPath)
                #expect(last.hasUpdatedTime && last.hasReportedTime)
                // Versions never go back within a phase.
                for (a, b) in zip(events, events.dropFirst()) where a.phase == b.phase { #expect(a.version <= b.version) }

                let request = try #require(service.received.value.first)
                #expect(request.path == "/flyteidl2.workflow.EventsProxyService/Record")
                #expect(request.contentType == "application/proto")
                #expect(request.protocolVersion == "1")
                #expect(request.authorization == "Bearer s3cr3t")
            }
            await client.shutdown()
        }
    }

    @Test("while the service fails the status does not move and a Warning says why; it resumes when the service recovers")
    func failureHoldsStatus() async throws {
        try await FakeEventsService.with { service in
            service.mode.withLock { $0 = .fail(status: 503, code: "unavailable", message: "events store is down") }
            let client = try service.client()
            try await ExecutorHarness.with(sink: client) { h in
                try await h.create(Fixtures.taskAction("r1-down", template: Fixtures.template(duration: 0.1, startup: 0.1)))
                try await eventually("three refused Record calls") { service.failed.value >= 3 }
                try await eventually("an ActionEventPublishFailed event") {
                    ((try? await h.client.list(Event.self, namespace: h.namespace).items) ?? []).contains {
                        $0.reason == "ActionEventPublishFailed" && $0.action == "PublishingActionEvent" && ($0.note ?? "").contains("unavailable: events store is down")
                    }
                }
                // Nothing Flyte has not heard of is on the TaskAction.
                let held = try await h.get("r1-down")
                #expect(held.status?.phaseHistory == nil)
                #expect(service.accepted.isEmpty)

                service.mode.withLock { $0 = .ok }
                let done = try await h.terminal("r1-down", seconds: 60)
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect(service.accepted.contains { $0.id.name == "r1-down" && $0.phase == .succeeded })
            }
            await client.shutdown()
        }
    }

    @Test("400 events in flight go in fewer than 40 requests, each event exactly once, and the metrics count them")
    func batching() async throws {
        try await FakeEventsService.with { service in
            let metrics = MetricsRegistry()
            let client = try service.client(metrics: metrics)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<400 {
                    group.addTask { try await client.record(Self.event("a\(i)")) }
                }
                try await group.waitForAll()
            }
            let requests = service.received.value.count
            #expect(requests >= 1 && Double(requests) / 400 < 0.1, "\(requests) requests for 400 events")
            #expect(service.received.value.allSatisfy { $0.events.count <= 400 })
            #expect(Set(service.accepted.map(\.id.name)) == Set((0..<400).map { "a\($0)" }))
            #expect(service.accepted.count == 400)
            let text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(text.contains("executor_action_events_sent_total 400"))
            #expect(text.contains("executor_action_event_batches_total \(requests)"))
            #expect(text.contains("executor_action_event_failures_total 0"))
            #expect(text.contains("executor_action_event_batch_duration_seconds_count \(requests)"))
            await client.shutdown()
        }
    }

    @Test("an event alone is sent at once; events that arrive while a request is out wait for the window and go together")
    func groupCommit() async throws {
        try await FakeEventsService.with { service in
            // A window far longer than any test step: only the rule can send at once.
            let client = try service.client { $0.batchWindowMilliseconds = 60_000 }
            try await client.record(Self.event("alone"))
            #expect(service.received.value.count == 1)

            // Hold the next request; the next events gather behind it until the window or a full
            // batch (2 here) sends them: as one request.
            service.mode.withLock { $0 = .hold }
            let paired = try service.client { $0.batchWindowMilliseconds = 60_000; $0.batchSize = 2; $0.queueSize = 8 }
            let first = Task { try await paired.record(Self.event("first")) }
            try await eventually("the first request held") { service.holding.value == 1 }
            let second = Task { try await paired.record(Self.event("second")) }
            let third = Task { try await paired.record(Self.event("third")) }
            try await eventually("the pair sent as one request and held") { service.holding.value == 2 }
            #expect(await paired.waiting == 0)
            service.mode.withLock { $0 = .ok }
            try await first.value
            try await second.value
            try await third.value
            let batches = service.received.value.map { $0.events.map(\.id.name) }
            #expect(batches.count == 3, "\(batches)")
            #expect(batches.contains { Set($0) == ["second", "third"] }, "\(batches)")
            await client.shutdown()
            await paired.shutdown()
        }
    }

    @Test("a Connect error body is the caller's error, and a full queue refuses at once")
    func errorsAndBackpressure() async throws {
        try await FakeEventsService.with { service in
            service.mode.withLock { $0 = .fail(status: 400, code: "invalid_argument", message: "attempt must be > 0") }
            let client = try service.client()
            await #expect(throws: EventsProxyError.rpc(httpStatus: 400, code: "invalid_argument", message: "attempt must be > 0")) {
                try await client.record(Self.event("bad"))
            }

            // One worker, one event per request, room for one waiting: the third caller is refused.
            service.mode.withLock { $0 = .hold }
            let small = try service.client { $0.workers = 1; $0.batchSize = 1; $0.queueSize = 1; $0.batchWindowMilliseconds = 0 }
            let first = Task { try await small.record(Self.event("q1")) }
            try await eventually("the first request held by the service") { service.holding.value == 1 }
            let second = Task { try await small.record(Self.event("q2")) }
            try await eventually("the second event waiting") { await small.waiting == 1 }
            await #expect(throws: EventsProxyError.queueFull(1)) { try await small.record(Self.event("q3")) }
            service.mode.withLock { $0 = .ok }
            try await first.value
            try await second.value
            #expect(service.accepted.map(\.id.name).suffix(2) == ["q1", "q2"])

            // Nothing listening: a transport error, not a hang.
            let http = try HTTPFetcher(timeout: .seconds(5))
            let nowhere = try EventsProxyClient(config: EventsConfig(url: "http://127.0.0.1:\(try MotoS3.freePort())"), http: http, metrics: MetricsRegistry(), logger: Logger(label: "events-test"))
            do {
                try await nowhere.record(Self.event("gone"))
                Issue.record("an event was recorded with nothing listening")
            } catch let error as EventsProxyError {
                guard case .transport = error else { Issue.record("\(error)"); return }
            }
            await http.shutdown()
            await client.shutdown()
            await small.shutdown()
        }
    }

    @Test("events config: defaults are Flyte's, and a bad value names its key")
    func config() throws {
        let defaults = EventsConfig()
        #expect(defaults.batchSize == 400 && defaults.batchWindowMilliseconds == 25 && defaults.queueSize == 8192 && defaults.workers == 32 && defaults.timeoutSeconds == 30)
        var bad = EventsConfig(url: "ftp://flyte")
        #expect(throws: EventsProxyError.invalidConfig("events.url: ftp://flyte is not an http(s) URL")) { try bad.validate() }
        bad = EventsConfig(url: "http://flyte")
        bad.queueSize = 10
        #expect(throws: EventsProxyError.invalidConfig("events.queue-size: must be at least batch-size (400), not 10")) { try bad.validate() }
    }
}
