import ExecutorAPI
@testable import ExecutorControllers
import FlyteDataPlane
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Logging
import Testing

/// A webhook receiver on loopback: records every request and when it came, and answers as
/// `answer` says (given the request and how many came before it).
final class WebhookReceiver: Sendable {
    typealias Answer = @Sendable (LoopbackHTTPServer.Request, Int) async -> LoopbackHTTPServer.Response
    let server: LoopbackHTTPServer
    let requests: LockedBox<[(request: LoopbackHTTPServer.Request, at: ContinuousClock.Instant)]>

    private init(server: LoopbackHTTPServer, requests: LockedBox<[(request: LoopbackHTTPServer.Request, at: ContinuousClock.Instant)]>) {
        self.server = server
        self.requests = requests
    }

    static func with(answer: @escaping Answer = { _, _ in LoopbackHTTPServer.Response(status: 200) }, _ body: (WebhookReceiver) async throws -> Void) async throws {
        let requests = LockedBox<[(request: LoopbackHTTPServer.Request, at: ContinuousClock.Instant)]>([])
        let server = try await LoopbackHTTPServer { request in
            let index = requests.withLock { list -> Int in
                list.append((request, .now))
                return list.count - 1
            }
            return await answer(request, index)
        }
        let receiver = WebhookReceiver(server: server, requests: requests)
        do {
            try await body(receiver)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    var url: String { server.url + "/hooks/flyte" }
    /// The bodies received, parsed, in arrival order.
    var events: [JSONValue] { requests.value.compactMap { try? JSONValue.parse($0.request.body) } }
}

/// Opens once; whoever waits before then waits.
actor Gate {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        open = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

@Suite("Phase-change webhooks")
struct WebhookTests {
    static let secret = "s3cr3t-key"

    /// A secret file for the duration of `body`.
    static func withSecret(_ body: (String) async throws -> Void) async throws {
        let path = NSTemporaryDirectory() + "webhook-secret-\(UUID().uuidString)"
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await body(path)
    }

    static func webhook(_ url: String, name: String = "", phases: [String] = [], secretFile: String? = nil) -> WebhookConfig {
        var webhook = WebhookConfig(name: name, url: url)
        webhook.phases = phases
        webhook.secretFile = secretFile
        webhook.initialBackoffMilliseconds = 50
        return webhook
    }

    static func change(_ object: String, _ index: Int, phase: String = "Running") -> PhaseChange {
        PhaseChange(resource: .taskActions, namespace: "default", name: object, id: "\(object)/\(index)", phase: phase, occurredAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)),
                    project: "p", domain: "d", taskType: "python", data: ["index": .int(Int64(index)), "object": .string(object)])
    }

    /// Runs one webhook's delivery (as the manager stage does) around `body`, then stops it with `grace`.
    static func delivering(_ webhook: WebhookConfig, metrics: MetricsRegistry = MetricsRegistry(), grace: Duration = .seconds(5), _ body: (WebhookNotifier) async throws -> Void) async throws {
        let http = try HTTPFetcher(timeout: .seconds(webhook.timeoutSeconds))
        let notifier = WebhookNotifier(deliveries: [WebhookDelivery(config: webhook, cluster: "", http: http, metrics: metrics, logger: Logger(label: "test"))])
        let run = Task { await notifier.run(grace: grace) }
        do {
            try await body(notifier)
        } catch {
            run.cancel()
            await run.value
            await http.shutdown()
            throw error
        }
        run.cancel()
        await run.value
        await http.shutdown()
    }

    static func metric(_ registry: MetricsRegistry, _ line: String) -> Bool {
        String(decoding: registry.render(), as: UTF8.self).split(separator: "\n").contains { $0 == line }
    }

    // MARK: - Signature, config, filters

    @Test("the signature is HMAC-SHA256 of the exact body (RFC 4231 case 2) and verification refuses a changed body or key")
    func signature() {
        let body = Array("what do ya want for nothing?".utf8)
        let header = WebhookSignature.sign(body, secret: Array("Jefe".utf8))
        #expect(header == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(WebhookSignature.verify(body, secret: Array("Jefe".utf8), header: header))
        #expect(!WebhookSignature.verify(body + [0x20], secret: Array("Jefe".utf8), header: header))
        #expect(!WebhookSignature.verify(body, secret: Array("jefe".utf8), header: header))
        #expect(!WebhookSignature.verify(body, secret: Array("Jefe".utf8), header: "sha256=zz"))
    }

    static func load(_ yaml: String) throws -> ExecutorConfig {
        let path = NSTemporaryDirectory() + "executor-config-\(UUID().uuidString).yaml"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ExecutorConfig.load(path: path)
    }

    static func loadError(_ yaml: String) -> String {
        do {
            _ = try load(yaml)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("config: the issue's camelCase keys and the file's kebab-case both work, with defaults and names; mistakes are one line naming the key")
    func config() async throws {
        try await Self.withSecret { secretFile in
            let config = try Self.load("""
            notifications:
              webhooks:
                - url: https://hooks.example.com/a
                  phases: [Succeeded, timed_out]
                  secretFile: \(secretFile)
                  taskTypes: [spark]
                - name: second
                  url: http://receiver.ops:8080/b
                  secret-file: \(secretFile)
                  task-types: [ray]
                  max-attempts: 3
                  headers: {X-Team: data}
            """)
            let hooks = config.notifications.webhooks
            #expect(hooks.count == 2)
            #expect(hooks[0].name == "webhook-0" && hooks[0].secretFile == secretFile && hooks[0].taskTypes == ["spark"] && hooks[0].maxAttempts == 8 && hooks[0].timeoutSeconds == 10)
            #expect(hooks[1].name == "second" && hooks[1].secretFile == secretFile && hooks[1].taskTypes == ["ray"] && hooks[1].maxAttempts == 3 && hooks[1].headers == ["X-Team": "data"])
        }
        #expect(Self.loadError("notifications: {webhooks: [{url: 'https://h.example.com', secret: x}]}").hasSuffix("notifications.webhooks[0]: unknown key \"secret\""))
        #expect(Self.loadError("notifications: {webhooks: [{url: 'https://h.example.com', phases: [Done]}]}").contains("notifications.webhooks[0].phases: unknown phase \"Done\"; known: Queued, Initializing, Running"))
        #expect(Self.loadError("notifications: {webhooks: [{url: 'ftp://h.example.com'}]}").contains("notifications.webhooks[0].url: ftp://h.example.com is not an http(s) URL"))
        #expect(Self.loadError("notifications: {webhooks: [{phases: [Failed]}]}").contains("notifications.webhooks[0].url: is required"))
        #expect(Self.loadError("notifications: {webhooks: [{url: 'https://h.example.com', secretFile: /nonexistent/secret}]}").contains("notifications.webhooks[0].secretFile: /nonexistent/secret cannot be read"))
        #expect(Self.loadError("notifications: {webhooks: [{url: 'https://h.example.com', resources: [pods]}]}").contains("unknown resource \"pods\""))
        #expect(Self.loadError("notifications: {webhooks: [{name: a, url: 'https://h.example.com'}, {name: a, url: 'https://g.example.com'}]}").contains("notifications.webhooks[1].name: \"a\" is used by another webhook"))
    }

    @Test("filters: resource, phase (ignoring case and underscores), project, domain and task type each narrow what is sent")
    func filters() {
        var webhook = WebhookConfig(url: "http://x")
        let running = Self.change("a", 0, phase: "Running")
        #expect(webhook.selects(running))
        webhook.phases = ["RUNNING", "timed_out"]
        #expect(webhook.selects(running) && webhook.selects(Self.change("a", 1, phase: "TimedOut")) && !webhook.selects(Self.change("a", 2, phase: "Succeeded")))
        webhook.projects = ["p"]
        webhook.domains = ["d"]
        webhook.taskTypes = ["python", "spark"]
        #expect(webhook.selects(running))
        webhook.domains = ["production"]
        #expect(!webhook.selects(running))
        webhook.domains = []
        webhook.resources = ["apps"]
        #expect(!webhook.selects(running))
        var app = Self.change("web", 0, phase: "ACTIVE")
        app.resource = .apps
        app.taskType = nil
        webhook = WebhookConfig(url: "http://x")
        webhook.taskTypes = ["python"]
        #expect(!webhook.selects(app), "a task-type filter admits no App")
        webhook.taskTypes = []
        webhook.phases = ["Active"]
        #expect(webhook.selects(app))
    }

    // MARK: - Delivery

    @Test("503 with Retry-After is retried no sooner than asked, with the same id and bytes; 400 is not retried and counts as a drop")
    func retries() async throws {
        try await WebhookReceiver.with(answer: { request, index in
            let id = (try? JSONValue.parse(request.body))?["id"]?.stringValue ?? ""
            if id.hasPrefix("bad/") { return LoopbackHTTPServer.Response(status: 400) }
            return index == 0 ? LoopbackHTTPServer.Response(status: 503, headers: [("Retry-After", "1")]) : LoopbackHTTPServer.Response(status: 204)
        }) { receiver in
            let metrics = MetricsRegistry()
            var webhook = Self.webhook(receiver.url, name: "ops")
            webhook.concurrency = 1
            try await Self.delivering(webhook, metrics: metrics) { notifier in
                notifier.observe(Self.change("good", 0))
                try await eventually("the retry", seconds: 60) { receiver.requests.value.count == 2 }
                notifier.observe(Self.change("bad", 0))
                try await eventually("the 400 counted", seconds: 60) { Self.metric(metrics, #"executor_webhook_dropped_total{webhook="ops",reason="rejected"} 1"#) }
                try await Task.sleep(for: .milliseconds(300))
            }
            let requests = receiver.requests.value
            #expect(requests.count == 3, "the 400 is sent once: \(requests.map(\.request.path))")
            #expect(requests[0].request.body == requests[1].request.body)
            #expect(requests[1].at - requests[0].at >= .seconds(1), "Retry-After: 1 is honoured")
            #expect(Self.metric(metrics, #"executor_webhook_delivered_total{webhook="ops"} 1"#))
            #expect(Self.metric(metrics, #"executor_webhook_failed_attempts_total{webhook="ops"} 1"#))
        }
    }

    @Test("a receiver that keeps failing gets maxAttempts tries with growing gaps, then the event is dropped and counted")
    func givesUp() async throws {
        try await WebhookReceiver.with(answer: { _, _ in LoopbackHTTPServer.Response(status: 500) }) { receiver in
            let metrics = MetricsRegistry()
            var webhook = Self.webhook(receiver.url, name: "down")
            webhook.maxAttempts = 4
            webhook.initialBackoffMilliseconds = 100
            try await Self.delivering(webhook, metrics: metrics) { notifier in
                notifier.observe(Self.change("a", 0))
                try await eventually("the drop", seconds: 60) { Self.metric(metrics, #"executor_webhook_dropped_total{webhook="down",reason="max_attempts"} 1"#) }
            }
            let times = receiver.requests.value.map(\.at)
            #expect(times.count == 4)
            // Equal jitter: the n-th gap is at least half of 100 ms · 2^(n-1).
            for n in 1..<times.count {
                #expect(times[n] - times[n - 1] >= .milliseconds(50 * (1 << (n - 1))))
            }
        }
    }

    @Test("events of one object arrive in order while several objects are delivered at once")
    func ordering() async throws {
        try await WebhookReceiver.with(answer: { _, index in
            // Uneven answers, and a 503 now and then, to shuffle anything not kept in order.
            try? await Task.sleep(for: .milliseconds(Int64(index * 7 % 13)))
            return LoopbackHTTPServer.Response(status: index % 9 == 4 ? 503 : 200)
        }) { receiver in
            var webhook = Self.webhook(receiver.url)
            webhook.concurrency = 4
            webhook.initialBackoffMilliseconds = 10
            try await Self.delivering(webhook) { notifier in
                for index in 0..<10 {
                    for object in ["a", "b", "c", "d", "e", "f"] { notifier.observe(Self.change(object, index)) }
                }
                try await eventually("all delivered", seconds: 90) { notifier.pending == 0 }
            }
            let delivered = receiver.requests.value.indices.filter { index in
                // A request answered 503 is sent again; keep each id's last arrival.
                let id = receiver.events[index]["id"]?.stringValue
                return !receiver.events[(index + 1)...].contains { $0["id"]?.stringValue == id }
            }.map { receiver.events[$0] }
            #expect(delivered.count == 60)
            for object in ["a", "b", "c", "d", "e", "f"] {
                let order = delivered.filter { $0["data"]?["object"]?.stringValue == object }.compactMap { $0["data"]?["index"]?.intValue }
                #expect(order == Array(0..<10), "\(object): \(order)")
            }
        }
    }

    @Test("a full queue drops new events and counts them; shutdown sends what is queued, and gives up on a hung receiver at the deadline")
    func queueAndShutdown() async throws {
        let gate = Gate()
        try await WebhookReceiver.with(answer: { _, _ in
            await gate.wait()
            return LoopbackHTTPServer.Response(status: 200)
        }) { receiver in
            let metrics = MetricsRegistry()
            var webhook = Self.webhook(receiver.url, name: "slow")
            webhook.concurrency = 1
            webhook.queueSize = 3
            webhook.timeoutSeconds = 600
            let started = ContinuousClock.now
            try await Self.delivering(webhook, metrics: metrics, grace: .seconds(1)) { notifier in
                notifier.observe(Self.change("a", 0))
                try await eventually("in flight", seconds: 60) { receiver.requests.value.count == 1 }
                for index in 1...5 { notifier.observe(Self.change("a", index)) }
                #expect(notifier.pending == 3)
                #expect(Self.metric(metrics, #"executor_webhook_dropped_total{webhook="slow",reason="queue_full"} 3"#))
                #expect(Self.metric(metrics, #"executor_webhook_queue_length{webhook="slow"} 2.0"#))
            }
            // The receiver never answered: the stage ended at the 1 s deadline, not the request's 600 s timeout.
            #expect(ContinuousClock.now - started < .seconds(120))
            #expect(Self.metric(metrics, #"executor_webhook_dropped_total{webhook="slow",reason="shutdown"} 3"#))
            await gate.release()
        }

        try await WebhookReceiver.with { receiver in
            // A grace long enough for a loaded machine: the stage ends as soon as the queue is empty.
            try await Self.delivering(Self.webhook(receiver.url), grace: .seconds(60)) { notifier in
                for index in 0..<12 { notifier.observe(Self.change("o\(index % 3)", index)) }
            }
            #expect(receiver.requests.value.count == 12, "queued events are sent during the graceful shutdown")
        }
    }

    // MARK: - End to end

    @Test("a retried TaskAction's phase changes arrive as signed CloudEvents, one per phaseHistory entry and in its order, with unique ids; a phase filter sends only its phases")
    func endToEnd() async throws {
        try await Self.withSecret { secretFile in
            try await WebhookReceiver.with { all in
                try await WebhookReceiver.with { failures in
                    var config = ExecutorConfig()
                    config.cluster = "east"
                    var everything = Self.webhook(all.url, name: "all", secretFile: secretFile)
                    everything.headers = ["X-Team": "data"]
                    config.notifications.webhooks = [everything, Self.webhook(failures.url, name: "failures", phases: ["Failed"])]
                    try await ExecutorHarness.with(config: config) { h in
                        try await h.create(Fixtures.taskAction("hooked", template: Fixtures.template(outcome: "fail", duration: 0.05, startup: 0.05, retries: 2)))
                        let done = try await h.terminal("hooked")
                        let history = done.status?.phaseHistory ?? []
                        try await eventually("every transition delivered", seconds: 60) { all.requests.value.count >= history.count && failures.requests.value.count >= 1 }
                        try await Task.sleep(for: .milliseconds(200))

                        let events = all.events
                        #expect(events.count == history.count, "one event per phaseHistory entry: \(history.map(\.phase))")
                        #expect(events.compactMap { $0["data"]?["reason"]?.stringValue } == history.map(\.phase))
                        #expect(Set(events.compactMap { $0["id"]?.stringValue }).count == events.count)
                        let uid = done.metadata.uid ?? ""
                        for (index, event) in events.enumerated() {
                            #expect(event["specversion"] == "1.0" && event["type"] == "org.flyte.taskaction.phase.changed")
                            #expect(event["source"]?.stringValue == "/clusters/east/apis/flyte.org/v1/namespaces/\(h.namespace)/taskactions/hooked")
                            #expect(event["subject"] == .string("\(h.namespace)/hooked") && event["cluster"] == "east")
                            #expect(event["id"]?.stringValue == "\(uid)/\(index)/\(history[index].phase)")
                            #expect(event["time"]?.stringValue == history[index].occurredAt)
                            #expect(event["data"]?["run"] == "r1" && event["data"]?["project"] == "flytesnacks" && event["data"]?["action"] == "hooked" && event["data"]?["taskType"] == "python")
                            if index > 0 { #expect(event["data"]?["previousPhase"]?.stringValue == PhaseChange.webhookPhase(history[index - 1].phase)) }
                        }
                        for received in all.requests.value {
                            #expect(received.request.header("Content-Type") == "application/cloudevents+json; charset=utf-8")
                            #expect(received.request.header("X-Team") == "data")
                            let signature = try #require(received.request.header("X-Executor-Signature"))
                            #expect(WebhookSignature.verify(received.request.body, secret: Array(Self.secret.utf8), header: signature))
                            let sent = try #require(received.request.header("X-Executor-Timestamp").flatMap(Double.init))
                            #expect(abs(sent - Date().timeIntervalSince1970) < 120)
                        }
                        // Three attempts: each restart is a Queued with its attempt number and the error that ended the last.
                        let queued = events.filter { $0["data"]?["phase"] == "Queued" }
                        #expect(queued.compactMap { $0["data"]?["attempt"]?.intValue } == [1, 2, 3])
                        #expect(queued.dropFirst().allSatisfy { $0["data"]?["errorState"]?["kind"] == "USER" && $0["data"]?["message"] == "restarting task" })
                        let last = try #require(events.last)
                        #expect(last["data"]?["phase"] == "Failed" && last["data"]?["attempt"] == 3)
                        #expect(last["data"]?["errorState"]?["code"]?.stringValue == done.status?.errorState?.code)
                        #expect(last["data"]?["child"]?["kind"] == "Pod" && last["data"]?["child"]?["name"] == "hooked-2")
                        #expect(last["data"]?["previousPhaseDurationSeconds"]?.doubleValue != nil)

                        #expect(failures.events.count == 1 && failures.events.first?["data"]?["phase"] == "Failed")
                        #expect(failures.requests.value.first?.request.header("X-Executor-Signature") == nil, "no secret, no signature")
                    }
                }
            }
        }
    }

    @Test("a receiver that hangs delays no status write: the TaskAction finishes while its first event is still unanswered")
    func hungReceiver() async throws {
        let gate = Gate()
        try await WebhookReceiver.with(answer: { _, _ in
            await gate.wait()
            return LoopbackHTTPServer.Response(status: 200)
        }) { receiver in
            var config = ExecutorConfig()
            var webhook = Self.webhook(receiver.url)
            webhook.concurrency = 1
            webhook.timeoutSeconds = 300
            config.notifications.webhooks = [webhook]
            try await ExecutorHarness.with(config: config) { h in
                try await h.create(Fixtures.taskAction("patient", template: Fixtures.template(duration: 0.05, startup: 0.05)))
                let done = try await h.terminal("patient")
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect(receiver.requests.value.count == 1, "one request, still unanswered, and the rest queued behind it")
            }
            await gate.release()
        }
    }

    @Test("an aborted TaskAction and one whose spec is refused are announced too (Aborted, Failed), though neither adds a phaseHistory entry")
    func abortAndRefusal() async throws {
        try await WebhookReceiver.with { receiver in
            var config = ExecutorConfig()
            config.notifications.webhooks = [Self.webhook(receiver.url, phases: ["Aborted", "Failed"])]
            try await ExecutorHarness.with(config: config) { h in
                try await h.create(Fixtures.taskAction("doomed", template: Fixtures.template(manual: true)))
                try await h.reaches("doomed", "Initializing")
                try await h.client.delete(TaskAction.self, name: "doomed", namespace: h.namespace)
                var refused = Fixtures.taskAction("refused")
                refused.spec.runOutputBase = nil
                try await h.create(refused)
                try await eventually("both announced", seconds: 60) { receiver.events.count >= 2 }
                let byName = Dictionary(receiver.events.compactMap { e in e["subject"]?.stringValue.map { ($0, e) } }, uniquingKeysWith: { a, _ in a })
                #expect(byName["\(h.namespace)/doomed"]?["data"]?["phase"] == "Aborted")
                #expect(byName["\(h.namespace)/refused"]?["data"]?["phase"] == "Failed")
                #expect(byName["\(h.namespace)/refused"]?["data"]?["reason"] == "InvalidSpec")
                #expect(byName["\(h.namespace)/refused"]?["data"]?["message"]?.stringValue?.contains("runOutputBase") == true)
            }
        }
    }

    @Test("an App's deployment-status changes go out the same way, as org.flyte.app.status.changed", TestCluster.sandboxOnly)
    func apps() async throws {
        try await WebhookReceiver.with { receiver in
            var config = ExecutorConfig()
            var webhook = Self.webhook(receiver.url)
            webhook.resources = ["apps"]
            config.notifications.webhooks = [webhook]
            try await ExecutorHarness.with(config: config, operators: [.knative], apps: true) { h in
                try await AppScenarioTests.create(h, AppScenarioTests.app(fields: ["container": AppScenarioTests.container()]))
                let app = try await AppScenarioTests.until(h, "ACTIVE") { $0.status?.phase == "ACTIVE" }
                let history = app.status?.phaseHistory ?? []
                try await eventually("the app's changes", seconds: 60) { receiver.events.count >= history.count }
                let events = receiver.events
                #expect(events.allSatisfy { $0["type"] == "org.flyte.app.status.changed" && $0["subject"] == "default/web" })
                #expect(events.compactMap { $0["data"]?["phase"]?.stringValue } == history.map(\.phase))
                #expect(events.last?["data"]?["url"]?.stringValue == app.status?.url)
                #expect(events.last?["data"]?["project"] == "flytesnacks")
                #expect(Set(events.compactMap { $0["id"]?.stringValue }).count == events.count)
            }
        }
    }
}
