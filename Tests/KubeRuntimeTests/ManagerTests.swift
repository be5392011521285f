import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Testing

@Suite("Manager against the sandbox")
struct ManagerTests {
    static func fetch(_ port: Int, _ path: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("serves /healthz at once, /readyz once caches synced, and /metrics with controller-runtime's names")
    func endpoints() async throws {
        try await KubeSandbox.with { sandbox, client in
            await sandbox.faults.failNext(6, code: 500, method: "GET", pathContains: "configmaps")
            let metrics = MetricsRegistry()
            let observed = try KubernetesClient(configuration: sandbox.clientConfiguration(), observer: metrics.restClientObserver())
            var informerOptions = InformerOptions()
            informerOptions.backoff = Backoff(initial: .milliseconds(300), maximum: .milliseconds(300))
            let manager = Manager(client: observed, options: ManagerOptions(metricsBindAddress: "127.0.0.1:0", healthProbeBindAddress: "127.0.0.1:0"), metrics: metrics, informerOptions: informerOptions)
            let informer = manager.informers.informer(ConfigMap.self, scope: InformerScope(namespace: "default"))
            let controller = manager.controller(name: "configmaps", reconciler: ReconcileFunction { _, _ in .done })
            controller.watch(informer)
            let run = Task { try await manager.run() }
            try await eventually("servers up") { manager.healthPort != nil }
            let health = manager.healthPort!, metricsPort = manager.metricsPort!
            #expect(try await Self.fetch(health, "/healthz").0 == 200)
            #expect(try await Self.fetch(health, "/readyz").0 == 500)
            try await eventually("ready") { (try? await Self.fetch(health, "/readyz").0) == 200 }
            _ = try await client.create(configMap("m"))
            try await eventually("reconciled") { String(decoding: metrics.render(), as: UTF8.self).contains(#"controller_runtime_reconcile_total{controller="configmaps",result="success"} 1"#) }
            let (code, text) = try await Self.fetch(metricsPort, "/metrics")
            #expect(code == 200)
            for name in ["controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total", "controller_runtime_terminal_reconcile_errors_total", "controller_runtime_reconcile_time_seconds_bucket", "controller_runtime_max_concurrent_reconciles", "controller_runtime_active_workers", "workqueue_depth", "workqueue_adds_total", "workqueue_queue_duration_seconds_bucket", "workqueue_work_duration_seconds_bucket", "workqueue_unfinished_work_seconds", "workqueue_longest_running_processor_seconds", "workqueue_retries_total", "rest_client_requests_total", "rest_client_request_duration_seconds_bucket", "executor_informer_cached_objects", "process_resident_memory_bytes", "process_cpu_seconds_total", "process_start_time_seconds"] {
                #expect(text.contains(name), "missing \(name)")
            }
            #expect(text.contains(#"rest_client_requests_total{code="500",method="GET",host="127.0.0.1"}"#))
            #expect(text.contains(#"executor_informer_cached_objects{informer="configmaps[namespace=default]"} 1"#))
            run.cancel()
            try await run.value
            try await observed.shutdown()
        }
    }

    @Test("stops in reverse order on cancellation: workers first, then caches, then servers")
    func orderlyStop() async throws {
        try await KubeSandbox.with { sandbox, client in
            let events = LockedBox<[String]>([])
            let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "127.0.0.1:0"))
            let informer = manager.informers.informer(ConfigMap.self, scope: InformerScope(namespace: "default"))
            manager.add(name: "worker") {
                events.withLock { $0.append("worker started synced=\(informer.hasSynced)") }
                try? await Task.sleep(for: .seconds(3600))
                let open = await sandbox.openWatchCount()
                events.withLock { $0.append("worker stopped with \(open) watch open") }
            }
            let run = Task { try await manager.run() }
            try await eventually("worker started") { events.value.count == 1 }
            #expect(events.value == ["worker started synced=true"])
            try await eventually("watch open") { await sandbox.openWatchCount() == 1 }
            run.cancel()
            try await run.value
            #expect(events.value.last == "worker stopped with 1 watch open")
            try await eventually("watch closed") { await sandbox.openWatchCount() == 0 }
        }
    }

    @Test("a failing runnable stops the manager with its error")
    func failingRunnable() async throws {
        struct Broken: Error {}
        try await KubeSandbox.with { _, client in
            let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0"))
            manager.add(name: "broken", leaderOnly: false) { throw Broken() }
            await #expect(throws: Manager.RunnableFailed.self) { try await manager.run() }
        }
    }

    @Test("a bad bind address ends with one clear error")
    func badAddress() async throws {
        #expect(throws: ProbeServer.AddressError.self) { try ProbeServer.parse(address: "8080") }
        #expect(throws: ProbeServer.AddressError.self) { try ProbeServer.parse(address: ":99999") }
        #expect(try ProbeServer.parse(address: ":8080") == ("0.0.0.0", 8080))
        #expect(try ProbeServer.parse(address: "[::1]:9000") == ("::1", 9000))
    }
}

@Suite("Manager cache sync")
struct ManagerCacheSyncTests {
    @Test("a stop while the caches have not synced (a CRD not installed yet) ends at once, not after each stage's graceful timeout")
    func stopBeforeSync() async throws {
        try await KubeSandbox.with { sandbox, client in
            await sandbox.faults.failNext(1_000_000, code: 404, method: "GET", pathContains: "/configmaps")
            var informerOptions = InformerOptions()
            informerOptions.backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(100))
            // Each stage that overran would wait this long: the stages waiting for the sync
            // (leader-only work, leader election) used to, since the sync was cancelled after them.
            let graceful = Duration.seconds(20)
            let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", gracefulShutdownTimeout: graceful, cacheSyncTimeout: .seconds(600)), informerOptions: informerOptions)
            let informer = manager.informers.informer(ConfigMap.self, scope: InformerScope(namespace: "default"))
            manager.add(name: "leader-only work") { try? await Task.sleep(for: .seconds(3600)) }
            let run = Task { try await manager.run() }
            try await eventually("the informer failed a list") { informer.lastFailure != nil }
            let asked = ContinuousClock.now
            run.cancel()
            try await run.value
            let took = ContinuousClock.now - asked
            #expect(took < graceful / 2, "stopping took \(took)")
            await sandbox.faults.reset()
        }
    }

    @Test("a cache that never syncs fails the manager after the cache sync timeout, naming the informer and its last error")
    func cacheSyncTimeout() async throws {
        try await KubeSandbox.with { sandbox, client in
            await sandbox.faults.failNext(1_000_000, code: 500, method: "GET", pathContains: "/configmaps")
            // No client retries, so the informer sees each failure at once.
            var configuration = sandbox.clientConfiguration()
            configuration.retry = .init(maxAttempts: 1)
            let once = try KubernetesClient(configuration: configuration)
            defer { Task { try? await once.shutdown() } }
            // The fault answers, and the client's connection is open before the clock starts:
            // beside a build, a first request has taken longer than a short sync timeout, which
            // then had no error to name.
            await #expect(throws: KubeAPIError.self) { _ = try await once.list(ConfigMap.self, namespace: "default") }
            var informerOptions = InformerOptions()
            informerOptions.backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(100))
            let manager = Manager(client: once, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", cacheSyncTimeout: .seconds(6)), informerOptions: informerOptions)
            _ = manager.informers.informer(ConfigMap.self, scope: InformerScope(namespace: "default"))
            let started = LockedBox(false)
            manager.add(name: "after sync", leaderOnly: false) { started.withLock { $0 = true } }
            do {
                try await manager.run()
                Issue.record("run() returned without an error")
            } catch let error as Manager.RunnableFailed {
                #expect(error.name == "cache sync")
                let timeout = try #require(error.underlying as? Manager.CacheSyncTimeout)
                #expect(timeout.informers.map(\.name) == ["configmaps[namespace=default]"])
                #expect("\(error)".contains("500"), "\(error)")
            }
            #expect(!started.value, "a runnable ran before the caches synced")
            await sandbox.faults.reset()
        }
    }

    @Test("an optional informer that is forbidden holds up neither readiness nor the workers, and says which rule is missing")
    func optionalForbiddenInformer() async throws {
        try await KubeSandbox.with { sandbox, client in
            await sandbox.faults.failNext(1_000_000, code: 403, pathContains: "/api/v1/pods")
            var informerOptions = InformerOptions()
            informerOptions.backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(100))
            let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", cacheSyncTimeout: .seconds(30)), informerOptions: informerOptions)
            let configMaps = manager.informers.informer(ConfigMap.self, scope: InformerScope(namespace: "default"))
            let pods = manager.informers.informer(Pod.self, optional: true)
            let reconciled = LockedBox(0)
            let controller = manager.controller(name: "configmaps", reconciler: ReconcileFunction { _, _ in reconciled.withLock { $0 += 1 }; return .done })
            controller.watch(configMaps)
            controller.watch(pods, handler: .enqueueObject, waitForSync: false)
            let run = Task { try await manager.run() }
            try await eventually("forbidden") { pods.isForbidden }
            #expect(pods.requiredRule.contains(#"resources: ["pods"], verbs: ["list", "watch"]"#))
            if case .forbidden = pods.lastFailure {} else { Issue.record("last failure is \(String(describing: pods.lastFailure))") }
            try await eventually("ready without the forbidden cache") { manager.isReady }
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "m", namespace: "default")))
            try await eventually("reconciled") { reconciled.value >= 1 }
            // A rule added later: the informer syncs and is no longer forbidden.
            await sandbox.faults.reset()
            try await eventually("synced once allowed") { pods.hasSynced }
            #expect(!pods.isForbidden)
            #expect(pods.lastFailure == nil)
            run.cancel()
            try await run.value
        }
    }
}
