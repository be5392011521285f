import ExecutorAPI
import ExecutorControllers
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import SwiftProtobuf
import TaskPlugins
import Testing

/// Flyte's error-document check (§5.7) end to end: the executor against the sandbox, the
/// documents in a real S3-compatible server (moto) read with SigV4.
@Suite("error.pb decides a succeeded attempt", .serialized, TestCluster.sandboxOnly)
struct ErrorDocumentTests {
    /// A store whose target a test can change while the executor runs.
    final class SwitchableStore: BlobStore {
        let target: LockedBox<any BlobStore>
        init(_ store: any BlobStore) { target = LockedBox(store) }
        func read(_ uri: String, maxBytes: Int) async throws -> [UInt8]? { try await target.value.read(uri, maxBytes: maxBytes) }
        func write(_ uri: String, bytes: [UInt8]) async throws { try await target.value.write(uri, bytes: bytes) }
        func exists(_ uri: String) async throws -> Bool { try await target.value.exists(uri) }
    }

    static func document(code: String, message: String, recoverable: Bool, origin: Flyteidl2_Core_ExecutionError.ErrorKind = .user) throws -> [UInt8] {
        var document = Flyteidl2_Core_ErrorDocument()
        document.error.code = code
        document.error.message = message
        document.error.kind = recoverable ? .recoverable : .nonRecoverable
        document.error.origin = origin
        return try document.serializedBytes()
    }

    /// The key of `action`'s error document for `attempt` in the fixtures' bucket.
    static func key(_ action: String, attempt: Int) -> String {
        let path = TaskPaths(namespace: "default", name: action, inputUri: "", runOutputBase: "s3://bucket/data/r1", actionName: action, attempt: attempt).errorPath
        return String(path.dropFirst("s3://bucket/".count))
    }

    @Test("exit 0 with a recoverable document is retried; non-recoverable fails with its code and message; none succeeds")
    func branches() async throws {
        try await MotoS3.with { moto, http in
            try await moto.createBucket("bucket")
            try await moto.put("bucket", Self.key("r1-rec", attempt: 1), try Self.document(code: "OOM", message: "worker ran out of memory", recoverable: true))
            try await moto.put("bucket", Self.key("r1-perm", attempt: 1), try Self.document(code: "ValueError", message: "bad input: x must be > 0", recoverable: false))
            let check = ErrorDocumentCheck(store: BlobStores(s3: try moto.store(http: http)))
            try await ExecutorHarness.with(errorDocuments: check) { h in
                try await h.create(Fixtures.taskAction("r1-rec", template: Fixtures.template(duration: 0.05, startup: 0.05, retries: 1)))
                try await h.create(Fixtures.taskAction("r1-perm", template: Fixtures.template(duration: 0.05, startup: 0.05, retries: 1)))
                try await h.create(Fixtures.taskAction("r1-ok", template: Fixtures.template(duration: 0.05, startup: 0.05)))

                let recovered = try await h.terminal("r1-rec")
                #expect(recovered.status?.attempts == 2)
                #expect(recovered.status?.phaseHistory?.last?.phase == "Completed")
                let pods = try await h.pods().map { $0.metadata.name ?? "" }
                #expect(pods.contains("r1-rec-1"))

                let failed = try await h.terminal("r1-perm")
                #expect(failed.status?.attempts == 1)
                #expect(failed.status?.phaseHistory?.last?.phase == "PermanentFailure")
                #expect(failed.status?.errorState == ErrorState(code: "ValueError", kind: "USER", message: "bad input: x must be > 0"))
                #expect(failed.status?.condition(.failed)?.message == "bad input: x must be > 0")
                let event = try #require(h.sink.events.value.last { $0.id.name == "r1-perm" })
                #expect(event.phase == .failed && event.errorInfo.message == "bad input: x must be > 0" && event.errorInfo.kind == .user)

                let ok = try await h.terminal("r1-ok")
                #expect(ok.status?.phaseHistory?.last?.phase == "Completed")
                #expect(ok.status?.attempts == 1)
            }
        }
    }

    @Test("a store that cannot answer is a system error, retried, and never a success; the action completes once it answers, its Pod run once")
    func storeDown() async throws {
        try await MotoS3.with { moto, http in
            try await moto.createBucket("bucket")
            // First the executor reads from a port where nothing listens.
            let closed = try S3BlobStore.make(config: MotoS3.config(port: try MotoS3.freePort(), credentials: moto.credentials), environment: [:], http: http)
            let store = SwitchableStore(BlobStores(s3: closed))
            var config = ExecutorConfig()
            config.maxSystemFailures = 100
            config.requeueSeconds = 1
            try await ExecutorHarness.with(config: config, errorDocuments: ErrorDocumentCheck(store: store)) { h in
                try await h.create(Fixtures.taskAction("r1-blind", template: Fixtures.template(duration: 0.05, startup: 0.05)))
                try await eventually("two system failures counted", seconds: 60) { ((try? await h.get("r1-blind"))?.status?.systemFailures ?? 0) >= 2 }
                let events = try await h.client.list(Event.self, namespace: "default").items
                #expect(events.contains { $0.reason == "FailedPluginHandle" && ($0.note ?? "").contains("blob store unavailable") })
                let waiting = try await h.get("r1-blind")
                #expect(!waiting.isTerminal)
                #expect(waiting.status?.phaseHistory?.contains { $0.phase == "Completed" } != true)

                store.target.withLock { $0 = BlobStores(s3: try! moto.store(http: http)) }
                let done = try await h.terminal("r1-blind", seconds: 60)
                #expect(done.status?.phaseHistory?.last?.phase == "Completed")
                #expect(done.status?.systemFailures == 0)
                // The store's errors said nothing about the Pod: it was kept and judged again, not
                // deleted and run a second time.
                #expect(await h.sandbox.createCounts(Pod.resourceType)["default/r1-blind-0"] == 1)
                #expect(await h.sandbox.createCounts(Pod.resourceType)["default/r1-blind-1"] == nil)
            }
        }
    }

    @Test("a container error maps to the phase, code, message and kind Flyte uses (Unknown when empty)")
    func mapping() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("errdoc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var action = Fixtures.taskAction("r1-map")
        action.spec.runOutputBase = "file://\(directory.path)/data/r1"
        let context = TaskExecutionContext(taskAction: action, template: Flyteidl2_Core_TaskTemplate(), properties: PluginProperties(), config: PluginConfig())
        let check = ErrorDocumentCheck(store: BlobStores(s3: nil))
        #expect(try await check.judge(.success("done"), context: context).phase == .success)

        let path = String(context.paths.errorPath.dropFirst("file://".count))
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(try Self.document(code: "", message: "", recoverable: true, origin: .system)).write(to: URL(fileURLWithPath: path))
        let system = try await check.judge(.success("done"), context: context)
        #expect(system.phase == .retryableFailure)
        #expect(system.error == ExecutionError(code: "Unknown", message: "Unknown", kind: .system))

        try Data([0xff, 0xff, 0xff]).write(to: URL(fileURLWithPath: path))
        await #expect(throws: ErrorDocumentUnreadable.self) { try await check.judge(.success("done"), context: context) }
    }
}
