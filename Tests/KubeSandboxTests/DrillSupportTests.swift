import KubeClient
import KubeSandbox
import Testing

/// What the reliability drills rely on the sandbox for: counting creates per object, failing a
/// share of requests at random, and an audit record of who wrote what.
@Suite("Sandbox support for drills")
struct DrillSupportTests {
    @Test("createCounts counts every create of a name, a name made again after deletion twice, and not a refused create")
    func createCounts() async throws {
        try await KubeSandbox.with { sandbox, client in
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default")))
            await #expect(throws: KubeAPIError.self) { _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default"))) }
            try await client.delete(ConfigMap.self, name: "a", namespace: "default")
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default")))
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "b", namespace: "default")))
            let counts = await sandbox.createCounts(ConfigMap.resourceType)
            #expect(counts["default/a"] == 2 && counts["default/b"] == 1)
        }
    }

    @Test("failRandomly answers about the share asked for with the codes given, spares watches when told, and stops at reset")
    func failRandomly() async throws {
        try await KubeSandbox.with(configure: { $0.retry.maxAttempts = 1 }) { sandbox, client in
            await sandbox.faults.failRandomly(fraction: 0.5, codes: [500, 429], exceptWatches: true)
            var failed = 0
            for _ in 0..<200 {
                do {
                    _ = try await client.list(ConfigMap.self, namespace: "default")
                } catch let error as KubeAPIError {
                    #expect(error.code == 500 || error.code == 429)
                    failed += 1
                }
            }
            #expect((60...140).contains(failed), "\(failed) of 200 failed")
            let served = await sandbox.faults.servedCount(code: 500) + sandbox.faults.servedCount(code: 429)
            #expect(served == failed)
            // Watches are spared: every one of them opens.
            for _ in 0..<20 {
                let stream = try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(timeoutSeconds: 1))
                _ = stream
            }
            await sandbox.faults.reset()
            for _ in 0..<50 { _ = try await client.list(ConfigMap.self, namespace: "default") }
        }
    }

    @Test("auditRecords keeps each successful write with its user, verb, object and subresource, in order; not reads, refusals or dry runs")
    func auditRecords() async throws {
        var options = KubeSandbox.Options()
        options.auditWrites = true
        try await KubeSandbox.with(options) { sandbox, admin in
            var config = sandbox.clientConfiguration(authentication: .bearerToken(sandbox.serviceAccountToken(namespace: "default", name: "writer")))
            config.userAgent = "writer/1.0"
            let client = try KubernetesClient(configuration: config)
            defer { Task { try? await client.shutdown() } }
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default")))
            await #expect(throws: KubeAPIError.self) { _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default"))) }
            _ = try await client.get(ConfigMap.self, name: "a", namespace: "default")
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "dry", namespace: "default")), options: WriteOptions(dryRun: true))
            _ = try await client.patch(ConfigMap.self, name: "a", namespace: "default", .merge(["data": ["k": "v"]]))
            _ = try await admin.create(Pod(metadata: ObjectMeta(name: "p", namespace: "default"), spec: PodSpec(containers: [Container(name: "c", image: "busybox")])))
            _ = try await admin.patch(Pod.self, name: "p", namespace: "default", .merge(["status": ["phase": "Running"]]), subresource: "status")
            try await client.delete(ConfigMap.self, name: "a", namespace: "default")
            let records = sandbox.auditRecords
            #expect(records.map(\.verb) == ["create", "patch", "create", "patch", "delete"])
            #expect(records.map(\.sequence) == Array(0..<5))
            #expect(records.map { $0.name ?? "-" } == ["a", "a", "p", "p", "a"])
            #expect(records.map(\.resource) == ["configmaps", "configmaps", "pods", "pods", "configmaps"])
            #expect(records.map { $0.subresource ?? "-" } == ["-", "-", "-", "status", "-"])
            #expect(records.filter { $0.user == "system:serviceaccount:default:writer" }.count == 3)
            #expect(records[0].userAgent == "writer/1.0" && records[0].code == 201 && records[0].namespace == "default")
            #expect(zip(records, records.dropFirst()).allSatisfy { $0.time <= $1.time })
        }
        // Off by default.
        try await KubeSandbox.with { sandbox, client in
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default")))
            #expect(sandbox.auditRecords.isEmpty)
        }
    }
}
