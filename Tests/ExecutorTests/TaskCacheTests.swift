import ExecutorAPI
@testable import ExecutorCLI
import ExecutorControllers
@testable import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import Logging
import SwiftProtobuf
import TaskPlugins
import Testing

/// Flyte's task cache against a reference cache service on loopback and a real S3-compatible
/// store (moto): the client's calls, and whole TaskActions that miss and populate, hit without
/// a Pod, wait for a reservation's owner, and run on when the service is down.
@Suite("Task cache", .serialized)
struct TaskCacheTests {
    /// A cached (`discoverable`) Python task taking `n: int` and returning `o0`, whose Pod
    /// moves on only when the test advances it.
    static func template(serializable: Bool = false) -> Data {
        var t = try! Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.template(duration: 0.05, startup: 0.05, manual: true))
        t.metadata.discoverable = true
        t.metadata.discoveryVersion = "1"
        t.metadata.cacheSerializable = serializable
        t.interface.inputs.variables = Fixtures.variables([("n", .integer)])
        t.interface.outputs.variables = Fixtures.variables([("o0", .string)])
        return try! t.serializedBytes()
    }

    static func literals(_ name: String, _ literal: Flyteidl2_Core_Literal) -> [UInt8] {
        var map = Flyteidl2_Core_LiteralMap()
        map.literals[name] = literal
        return try! map.serializedBytes()
    }

    static func inputs(_ n: Int64) -> [UInt8] {
        var literal = Flyteidl2_Core_Literal()
        literal.scalar.primitive.integer = n
        return literals("n", literal)
    }

    static func outputs(_ text: String) -> [UInt8] {
        var literal = Flyteidl2_Core_Literal()
        literal.scalar.primitive.stringValue = text
        return literals("o0", literal)
    }

    static func action(_ name: String, template: Data = TaskCacheTests.template()) -> TaskAction {
        var action = Fixtures.taskAction(name, template: template)
        action.spec.cacheKey = "v1"
        return action
    }

    /// `s3://bucket/<key>` → `<key>`.
    static func key(_ uri: String) -> String { String(uri.dropFirst("s3://bucket/".count)) }

    static func paths(_ h: ExecutorHarness, _ name: String, attempt: Int = 1) -> TaskPaths {
        TaskPaths(namespace: h.namespace, name: name, inputUri: "s3://bucket/metadata/r1/\(name)/inputs.pb", runOutputBase: "s3://bucket/data/r1", actionName: name, attempt: attempt)
    }

    static func cacheStatus(_ h: ExecutorHarness, _ name: String) async -> Flyteidl2_Core_CatalogCacheStatus? {
        guard let raw = (try? await h.get(name))?.status?.cacheStatus else { return nil }
        return Flyteidl2_Core_CatalogCacheStatus(rawValue: Int(raw))
    }

    @Test("the client: a miss, an entry put and got, a second put refused already_exists, max age, reservations, Connect errors")
    func client() async throws {
        let service = try await ReferenceCacheService()
        let http = try HTTPFetcher(timeout: .seconds(10))
        let client = try service.client(http: http)
        var id = Flyteidl2_Core_Identifier()
        id.project = "p"
        id.domain = "d"
        id.name = "t"
        let key = try CacheKey(task: id, interface: .init(), inputs: .init(), ignoredInputs: [], cacheVersion: "v1")
        let scope = CacheServiceClient.Scope(task: id)

        #expect(try await client.get(key, scope: scope) == nil)
        var metadata = Flyteidl2_Cacheservice_Metadata()
        metadata.sourceIdentifier = id
        try await client.put(key, scope: scope, outputURI: "s3://bucket/o/outputs.pb", metadata: metadata)
        let entry = try #require(try await client.get(key, scope: scope))
        #expect(entry.outputUri == "s3://bucket/o/outputs.pb")
        #expect(entry.metadata.sourceIdentifier == id)
        // Another scope does not see it.
        #expect(try await client.get(key, scope: .init(org: "", project: "p", domain: "other")) == nil)
        do {
            try await client.put(key, scope: scope, outputURI: "s3://bucket/p/outputs.pb", metadata: metadata)
            Issue.record("a second put was accepted")
        } catch {
            #expect(error.isAlreadyExists)
        }

        // An entry past max-cache-age is a miss.
        service.entries.withLock { $0[ReferenceCacheService.Scoped(org: "", project: "p", domain: "d", key: key.value)]!.metadata.lastUpdatedAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-120)) }
        #expect(try await service.client(http: http) { $0.maxCacheAgeSeconds = 60 }.get(key, scope: scope) == nil)
        #expect(try await service.client(http: http) { $0.maxCacheAgeSeconds = 600 }.get(key, scope: scope) != nil)
        // One without metadata is refused.
        service.entries.withLock { $0[ReferenceCacheService.Scoped(org: "", project: "p", domain: "d", key: key.value)]!.clearMetadata() }
        await #expect(throws: CacheServiceError.malformed("the entry for \(key) has no outputs or no metadata")) { try await client.get(key, scope: scope) }

        #expect(try await client.reserve(key, scope: scope, owner: "ns/a") == "ns/a")
        #expect(try await client.reserve(key, scope: scope, owner: "ns/b") == "ns/a")
        try await client.release(key, scope: scope, owner: "ns/b")
        #expect(try await client.reserve(key, scope: scope, owner: "ns/b") == "ns/a")
        try await client.release(key, scope: scope, owner: "ns/a")
        #expect(try await client.reserve(key, scope: scope, owner: "ns/b") == "ns/b")

        service.failure.withLock { $0 = (503, "unavailable") }
        await #expect(throws: CacheServiceError.rpc(httpStatus: 503, code: "unavailable", message: "told to fail")) { try await client.get(key, scope: scope) }
        await http.shutdown()
        await service.stop()
    }

    @Test("after a call with no answer, calls within outage-cooldown-seconds are not made; then they are again")
    func outage() async throws {
        // AsyncHTTPClient tries a refused connection again until the request's deadline: an
        // unreachable service costs each call its whole timeout, which is what the cooldown saves.
        let http = try HTTPFetcher(timeout: .seconds(1))
        var config = CacheServiceConfig(url: "http://127.0.0.1:\(try MotoS3.freePort())")
        config.outageCooldownSeconds = 1
        let client = try CacheServiceClient(config: config, http: http)
        var id = Flyteidl2_Core_Identifier()
        id.project = "p"
        id.domain = "d"
        let key = try CacheKey(task: id, interface: .init(), inputs: .init(), ignoredInputs: [], cacheVersion: "v1")
        func failure() async -> String {
            do {
                _ = try await client.get(key, scope: .init(task: id))
                return "answered"
            } catch {
                return "\(error)"
            }
        }
        let first = await failure()
        #expect(first.hasPrefix("cache service unreachable: POST http://127.0.0.1"))
        #expect(await failure() == "cache service unreachable: Get not called: the cache service gave no answer within the last 1 s (outage-cooldown-seconds)")
        try await Task.sleep(for: .milliseconds(1100))
        #expect(await failure().hasPrefix("cache service unreachable: POST http://127.0.0.1"))
        // 0 calls every time.
        config.outageCooldownSeconds = 0
        let always = try CacheServiceClient(config: config, http: http)
        for _ in 0..<2 {
            do {
                _ = try await always.get(key, scope: .init(task: id))
            } catch {
                #expect("\(error)".hasPrefix("cache service unreachable: POST"))
            }
        }
        await http.shutdown()
    }

    @Test("a miss runs the task and records its outputs; the same task and inputs then succeed from the cache with no Pod; other inputs run")
    func missPopulateHit() async throws {
        try await MotoS3.with { moto, http in
            try await moto.createBucket("bucket")
            for (name, n) in [("c1", 7), ("c2", 7), ("c3", 8)] {
                try await moto.put("bucket", "metadata/r1/\(name)/inputs.pb", Self.inputs(Int64(n)))
            }
            let service = try await ReferenceCacheService()
            let store = BlobStores(s3: try moto.store(http: http))
            let metrics = MetricsRegistry()
            let cache = TaskCache(client: try service.client(http: http), store: store, metrics: metrics, logger: Logger(label: "cache"))
            try await ExecutorHarness.with(taskCache: cache) { h in
                try await h.create(Self.action("c1"))
                try await h.reaches("c1", "Initializing")
                #expect(await Self.cacheStatus(h, "c1") == .cacheMiss)
                #expect(service.count("Get") == 1)
                let outputs = Self.outputs("hello")
                let c1 = Self.paths(h, "c1")
                try await moto.put("bucket", Self.key(c1.outputsPath), outputs)
                try await h.advance("c1-0")
                try await h.reaches("c1", "Executing")
                try await h.advance("c1-0")
                let done = try await h.terminal("c1")
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect(done.status?.cacheStatus == Int32(Flyteidl2_Core_CatalogCacheStatus.cachePopulated.rawValue))
                let entry = try #require(service.entries.value.values.first)
                #expect(service.entries.value.count == 1)
                #expect(entry.outputUri == c1.outputsPath)
                #expect(entry.metadata.keyMap.values["exec-node"] == "c1" && entry.metadata.keyMap.values["exec-attempt"] == "0" && entry.metadata.keyMap.values["task-version"] == "v1")
                #expect(service.entries.value.keys.first?.project == "flytesnacks" && service.entries.value.keys.first?.domain == "development")
                let c1Events = h.sink.events.value.filter { $0.id.name == "c1" }
                #expect(c1Events.first?.cacheStatus == .cacheMiss)
                #expect(c1Events.last?.phase == .succeeded && c1Events.last?.cacheStatus == .cachePopulated)

                try await h.create(Self.action("c2"))
                let hit = try await h.terminal("c2")
                #expect(hit.status?.phaseHistory?.last?.phase == "Completed")
                #expect(hit.status?.cacheStatus == Int32(Flyteidl2_Core_CatalogCacheStatus.cacheHit.rawValue))
                #expect(try await store.read(Self.paths(h, "c2").outputsPath, maxBytes: 1 << 20) == outputs)
                #expect(!(try await h.pods()).contains { $0.metadata.name == "c2-0" })
                let c2Event = try #require(h.sink.events.value.last { $0.id.name == "c2" })
                #expect(c2Event.phase == .succeeded && c2Event.cacheStatus == .cacheHit)
                #expect(service.count("Put") == 1)
                let described = try await Inspector(client: h.client, style: .plain, plugins: ExecutorCLI.registry()).describe("c2", namespace: h.namespace)
                #expect(described.contains("\nCache:         on, version v1: hit (outputs taken from the cache; nothing ran)\n"))

                try await h.create(Self.action("c3"))
                try await h.reaches("c3", "Initializing")
                #expect(await Self.cacheStatus(h, "c3") == .cacheMiss)
                #expect(try await h.pods().contains { $0.metadata.name == "c3-0" })
                // An entry whose outputs are gone from the bucket is a failed lookup: the task runs.
                let template = try Flyteidl2_Core_TaskTemplate(serializedBytes: Self.template())
                let c5Inputs = try Flyteidl2_Core_LiteralMap(serializedBytes: Self.inputs(9))
                let c5Key = try CacheKey(task: template.id, interface: template.interface, inputs: c5Inputs, ignoredInputs: [], cacheVersion: "v1")
                var stale = Flyteidl2_Cacheservice_CachedOutput()
                stale.outputUri = "s3://bucket/gone/outputs.pb"
                stale.metadata.sourceIdentifier = template.id
                service.entries.withLock { $0[ReferenceCacheService.Scoped(org: "", project: "flytesnacks", domain: "development", key: c5Key.value)] = stale }
                try await moto.put("bucket", "metadata/r1/c5/inputs.pb", Self.inputs(9))
                try await h.create(Self.action("c5"))
                try await h.reaches("c5", "Initializing")
                #expect(await Self.cacheStatus(h, "c5") == .cacheLookupFailure)
                #expect(try await h.pods().contains { $0.metadata.name == "c5-0" })

                let text = String(decoding: metrics.render(), as: UTF8.self)
                #expect(text.contains(#"executor_task_cache_lookups_total{result="miss"} 2"#))
                #expect(text.contains(#"executor_task_cache_lookups_total{result="hit"} 1"#))
                #expect(text.contains(#"executor_task_cache_writes_total{result="populated"} 1"#))
                #expect(text.contains(#"executor_task_cache_lookups_total{result="failure"} 1"#))
            }
            await service.stop()
        }
    }

    @Test("cache_serializable: the second identical task waits for the first's reservation, then takes its outputs without a Pod")
    func serializable() async throws {
        try await MotoS3.with { moto, http in
            try await moto.createBucket("bucket")
            for name in ["s1", "s2"] { try await moto.put("bucket", "metadata/r1/\(name)/inputs.pb", Self.inputs(3)) }
            // Heartbeats of a second keep the test short; a lease of a minute keeps a busy
            // machine's late extension from handing s1's reservation to s2.
            let service = try await ReferenceCacheService(graceHeartbeats: 60)
            let store = BlobStores(s3: try moto.store(http: http))
            let cache = TaskCache(client: try service.client(http: http) { $0.reservationHeartbeatSeconds = 1 }, store: store, logger: Logger(label: "cache"))
            try await ExecutorHarness.with(taskCache: cache) { h in
                try await h.create(Self.action("s1", template: Self.template(serializable: true)))
                try await h.reaches("s1", "Initializing")
                try await h.create(Self.action("s2", template: Self.template(serializable: true)))
                try await eventually("s2 waits for s1") {
                    (try? await h.get("s2"))?.status?.pluginPhase == "PhaseWaitingForCache"
                }
                let waiting = try await h.get("s2")
                #expect(waiting.status?.condition(.progressing)?.message == "waiting for cache to be populated by reservation owner \"\(h.namespace)/s1\"")
                #expect(waiting.status?.cacheStatus == Int32(Flyteidl2_Core_CatalogCacheStatus.cacheMiss.rawValue))
                // s1 holds its reservation while it runs: extended every heartbeat.
                let byS1 = { @Sendable in service.calls.value.filter { $0.hasPrefix("GetOrExtendReservation") && $0.hasSuffix(" \(h.namespace)/s1") }.count }
                let before = byS1()
                try await eventually("s1's reservation extended twice more") { byS1() >= before + 2 }

                try await moto.put("bucket", Self.key(Self.paths(h, "s1").outputsPath), Self.outputs("once"))
                try await h.advance("s1-0")
                try await h.reaches("s1", "Executing")
                try await h.advance("s1-0")
                #expect(try await h.terminal("s1").status?.cacheStatus == Int32(Flyteidl2_Core_CatalogCacheStatus.cachePopulated.rawValue))
                #expect(service.calls.value.contains { $0.hasPrefix("ReleaseReservation") && $0.hasSuffix(" \(h.namespace)/s1") })

                let s2 = try await h.terminal("s2")
                #expect(s2.status?.cacheStatus == Int32(Flyteidl2_Core_CatalogCacheStatus.cacheHit.rawValue))
                #expect(try await store.read(Self.paths(h, "s2").outputsPath, maxBytes: 1 << 20) == Self.outputs("once"))
                #expect(!(try await h.pods()).contains { $0.metadata.name == "s2-0" })
            }
            await service.stop()
        }
    }

    @Test("a cache service that fails: the task runs, CACHE_LOOKUP_FAILURE while it does, CACHE_PUT_FAILURE at its end")
    func serviceDown() async throws {
        try await MotoS3.with { moto, http in
            try await moto.createBucket("bucket")
            try await moto.put("bucket", "metadata/r1/d1/inputs.pb", Self.inputs(1))
            let service = try await ReferenceCacheService()
            service.failure.withLock { $0 = (503, "unavailable") }
            let cache = TaskCache(client: try service.client(http: http), store: BlobStores(s3: try moto.store(http: http)), logger: Logger(label: "cache"))
            try await ExecutorHarness.with(taskCache: cache) { h in
                try await h.create(Self.action("d1"))
                try await h.reaches("d1", "Initializing")
                #expect(await Self.cacheStatus(h, "d1") == .cacheLookupFailure)
                try await moto.put("bucket", Self.key(Self.paths(h, "d1").outputsPath), Self.outputs("x"))
                try await h.advance("d1-0")
                try await h.reaches("d1", "Executing")
                try await h.advance("d1-0")
                let done = try await h.terminal("d1")
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect(done.status?.cacheStatus == Int32(Flyteidl2_Core_CatalogCacheStatus.cachePutFailure.rawValue))
            }
            await service.stop()
        }
    }

    @Test("a task that is not discoverable never calls the cache service")
    func notDiscoverable() async throws {
        try await MotoS3.with { moto, http in
            try await moto.createBucket("bucket")
            let service = try await ReferenceCacheService()
            let cache = TaskCache(client: try service.client(http: http), store: BlobStores(s3: try moto.store(http: http)), logger: Logger(label: "cache"))
            try await ExecutorHarness.with(taskCache: cache) { h in
                try await h.create(Fixtures.taskAction("plain", template: Fixtures.template(duration: 0.05, startup: 0.05)))
                let done = try await h.terminal("plain")
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect(done.status?.cacheStatus == nil)
                #expect(service.calls.value.isEmpty)
            }
            await service.stop()
        }
    }

    @Test("cache-service config: its keys, a blob store required, bad values named")
    func config() throws {
        let config = try ExecutorConfig.parse(yaml: """
            storage: {type: local}
            cache-service: {url: "http://cache:8094", max-cache-age-seconds: 3600, reservation-heartbeat-seconds: 5, timeout-seconds: 3}
            """, path: "executor.yaml")
        #expect(config.cacheService.enabled && config.cacheService.url == "http://cache:8094")
        #expect(config.cacheService.maxCacheAgeSeconds == 3600 && config.cacheService.reservationHeartbeatSeconds == 5 && config.cacheService.timeoutSeconds == 3)
        #expect(!ExecutorConfig().cacheService.enabled)
        func refusal(_ yaml: String) -> String {
            do {
                _ = try ExecutorConfig.parse(yaml: yaml, path: "executor.yaml")
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal("cache-service: {url: http://cache:8094}\n") == "invalid config executor.yaml: cache-service needs a blob store to copy cached outputs with: storage.type must not be none")
        #expect(refusal("storage: {type: local}\ncache-service: {url: cache:8094}\n") == "invalid config executor.yaml: cache-service.url: cache:8094 is not an http(s) URL")
        #expect(refusal("storage: {type: local}\ncache-service: {url: http://c, reservation-heartbeat-seconds: 0}\n") == "invalid config executor.yaml: cache-service.reservation-heartbeat-seconds: must be at least 1, not 0")
        #expect(refusal("cache-service: {uri: http://c}\n").contains("cache-service: unknown key \"uri\""))
    }
}
