import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Testing

@Suite("Controller against the sandbox")
struct ControllerIntegrationTests {
    /// Remembers, per object, the data the reconciler last read from the cache.
    final class Seen: Sendable {
        let box = LockedBox<[String: [String: String]]>([:])
        func record(_ key: String, _ data: [String: String]?) { box.withLock { $0[key] = data ?? [:] } }
        var value: [String: [String: String]] { box.value }
    }

    @Test("waits for caches to sync before processing")
    func waitsForSync() async throws {
        try await KubeSandbox.with { sandbox, client in
            for i in 0..<3 { _ = try await client.create(configMap("c\(i)")) }
            // The first lists fail, so the cache cannot sync for a while.
            await sandbox.faults.failNext(5, code: 500, method: "GET", pathContains: "configmaps")
            let informer = Informer<ConfigMap>(client: client, scope: InformerScope(namespace: "default"), options: InformerIntegrationTests.fastOptions)
            let sawUnsynced = LockedBox(false)
            let log = ReconcileLog()
            let controller = Controller(name: "sync", reconciler: ReconcileFunction { request, _ in
                if !informer.hasSynced { sawUnsynced.withLock { $0 = true } }
                log.append(request.name)
                return .done
            })
            controller.watch(informer)
            controller.enqueue(ReconcileRequest(namespace: "default", name: "early"))
            let run = Task { await controller.run() }
            let informerTask = Task { await informer.run() }
            try await eventually("all reconciled") { Set(log.entries) == ["early", "c0", "c1", "c2"] }
            #expect(!sawUnsynced.value)
            run.cancel()
            informerTask.cancel()
            await run.value
            await informerTask.value
        }
    }

    @Test("enqueues the controller owner on a child's event")
    func ownerEnqueue() async throws {
        try await TestCluster.with { cluster in
            let client = cluster.client, namespace = cluster.namespace
            let parents = Informer<ConfigMap>(client: client, scope: InformerScope(namespace: namespace, labelSelector: "role=parent"))
            let children = Informer<ConfigMap>(client: client, scope: InformerScope(namespace: namespace, labelSelector: "role=child"))
            let log = ReconcileLog()
            let controller = Controller(name: "owners", reconciler: ReconcileFunction { request, _ in
                log.append(request.name)
                return .done
            })
            controller.watch(parents)
            controller.watch(children, handler: .enqueueOwner(group: "", kind: "ConfigMap"))
            let tasks = [Task { await parents.run() }, Task { await children.run() }, Task { await controller.run() }]
            let parent = try await client.create(configMap("parent", namespace: namespace, labels: ["role": "parent"]))
            try await eventually("parent reconciled") { log.count("parent") == 1 }
            let ref = OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "parent", uid: parent.metadata.uid ?? "", controller: true)
            let notController = OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "bystander", uid: "u-1", controller: false)
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "child", namespace: namespace, labels: ["role": "child"], ownerReferences: [ref, notController])))
            try await eventually("parent woken by child") { log.count("parent") == 2 }
            #expect(log.count("child") == 0)
            #expect(log.count("bystander") == 0)
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }

    @Test("predicates drop events that change nothing they care about")
    func predicates() async throws {
        try await TestCluster.with { cluster in
            let client = cluster.client, namespace = cluster.namespace
            let informer = Informer<ConfigMap>(client: client, scope: InformerScope(namespace: namespace, labelSelector: "test=predicates"))
            let log = ReconcileLog()
            let controller = Controller(name: "labels", reconciler: ReconcileFunction { request, _ in
                log.append(request.name)
                return .done
            })
            controller.watch(informer, predicates: [.labelsChanged])
            let tasks = [Task { await informer.run() }, Task { await controller.run() }]
            var object = try await client.create(configMap("p", namespace: namespace, labels: ["test": "predicates"]))
            try await eventually("created") { log.count("p") == 1 }
            object.data = ["a": "b"]
            object = try await client.update(object)
            object.metadata.labels = ["test": "predicates", "now": "labelled"]
            _ = try await client.update(object)
            try await eventually("label change") { log.count("p") == 2 }
            #expect(log.count("p") == 2)
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }

    /// Needs no round for a ConfigMap whose cached `data.done` is "true".
    struct SettledAware: Reconciler {
        let informer: Informer<ConfigMap>
        let log: ReconcileLog
        func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
            log.append(request.name)
            return .done
        }
        func needsRound(_ request: ReconcileRequest) -> Bool {
            informer.store.get(namespace: request.namespace, name: request.name)?.data?["done"] != "true"
        }
    }

    @Test("events for a request the reconciler needs no round for queue nothing; a direct enqueue still runs it")
    func needsRound() async throws {
        try await TestCluster.with { cluster in
            let client = cluster.client, namespace = cluster.namespace
            let informer = Informer<ConfigMap>(client: client, scope: InformerScope(namespace: namespace, labelSelector: "test=needs-round"))
            let log = ReconcileLog()
            let controller = Controller(name: "settled", reconciler: SettledAware(informer: informer, log: log))
            controller.watch(informer)
            let tasks = [Task { await informer.run() }, Task { await controller.run() }]
            var object = try await client.create(configMap("s", namespace: namespace, labels: ["test": "needs-round"], data: ["done": "false"]))
            try await eventually("created") { log.count("s") == 1 }
            object.data = ["done": "true"]
            object = try await client.update(object)
            object.data = ["done": "true", "more": "1"]
            object = try await client.update(object)
            // Events are handled in order: once this one's round has run, the two before it were
            // seen and queued nothing.
            object.data = ["done": "false"]
            object = try await client.update(object)
            try await eventually("woken again") { log.count("s") == 2 }
            object.data = ["done": "true"]
            _ = try await client.update(object)
            try await eventually("cached as done") { informer.store.get(namespace: namespace, name: "s")?.data?["done"] == "true" }
            controller.enqueue(ReconcileRequest(namespace: namespace, name: "s"))
            try await eventually("a direct enqueue is not asked") { log.count("s") == 3 }
            #expect(log.count("s") == 3)
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }

    @Test("under dropped watches, a 410, a restart and 429s the reconciler sees the final state of every object")
    func finalStateUnderFaults() async throws {
        try await KubeSandbox.with { sandbox, client in
            let informer = Informer<ConfigMap>(client: client, scope: InformerScope(namespace: "default"), options: InformerIntegrationTests.fastOptions)
            let seen = Seen()
            let controller = Controller(name: "final", reconciler: ReconcileFunction { request, _ in
                let object = informer.store.get(namespace: request.namespace, name: request.name)
                seen.record(request.name, object?.data ?? ["deleted": "true"])
                return .done
            }, options: ControllerOptions(maxConcurrentReconciles: 4))
            controller.watch(informer)
            let tasks = [Task { await informer.run() }, Task { await controller.run() }]
            await informer.waitForSync()
            var expected: [String: [String: String]] = [:]
            for i in 0..<12 {
                let name = "obj-\(i)"
                var object = try await client.create(configMap(name, data: ["gen": "0"]))
                for gen in 1...3 {
                    object.data = ["gen": "\(gen)"]
                    object = try await client.update(object)
                    switch (i + gen) % 4 {
                    case 0: await sandbox.closeAllWatches()
                    case 1:
                        await sandbox.compactHistory()
                        await sandbox.closeAllWatches()
                    case 2: await sandbox.faults.failNext(3, code: 429, retryAfterSeconds: 0, method: "GET", pathContains: "configmaps")
                    default: break
                    }
                }
                expected[name] = ["gen": "3"]
                if i % 5 == 0 {
                    try await client.delete(ConfigMap.self, name: name, namespace: "default")
                    expected[name] = ["deleted": "true"]
                }
                if i == 6 {
                    await sandbox.stop()
                    try await sandbox.restart()
                }
            }
            let finalState = expected
            // An object created and deleted entirely while the watch was down is never seen,
            // as with client-go: its final state, absent, is all there is to see.
            let matches: @Sendable () -> Bool = {
                let observed = seen.value
                return finalState.allSatisfy { name, state in
                    state == ["deleted": "true"] ? (observed[name] == nil || observed[name] == state) : observed[name] == state
                } && observed.keys.allSatisfy { finalState[$0] != nil }
            }
            do {
                try await eventually("final state seen") { matches() }
                #expect(await sandbox.faults.servedCount(code: 429) > 0, "no 429 was served")
                #expect(Set(informer.store.keys.map(\.description)) == Set(finalState.filter { $0.value != ["deleted": "true"] }.keys.map { "default/\($0)" }))
            } catch {
                let storeNames = informer.store.keys.map(\.description).sorted()
                Issue.record("seen \(seen.value.sorted { $0.key < $1.key }) store \(storeNames) expected \(finalState.sorted { $0.key < $1.key })")
            }
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }
}
