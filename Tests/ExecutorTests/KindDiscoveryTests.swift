@testable import ExecutorControllers
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Logging
import Testing

@Suite("Kind discovery", TestCluster.sandboxOnly)
struct KindDiscoveryTests {
    /// `WatchOptions` asks for bookmarks by default; a real API server sends one a minute, well
    /// inside the transport's 330 s read timeout, so a CRD absent for days is watched on one
    /// connection, not cut as a failure, logged and backed off every five and a half minutes.
    @Test("the watch on a missing kind's CustomResourceDefinition asks for bookmarks, so a quiet one outlives the client's read timeout")
    func quietDefinitionWatchOutlivesReadTimeout() async throws {
        // Bookmarks four times a second, a read timeout of 3 s: only the bookmarks keep the
        // quiet watch from being cut as a transport failure.
        var options = KubeSandbox.Options()
        options.bookmarkInterval = .milliseconds(250)
        try await KubeSandbox.with(options) { sandbox, admin in
            var configuration = sandbox.clientConfiguration()
            configuration.readIdleTimeout = .seconds(3)
            let watches = LockedBox(0)
            let client = try KubernetesClient(configuration: configuration, observer: { record in
                if record.isWatch, record.path.contains("customresourcedefinitions") { watches.withLock { $0 += 1 } }
            })
            let wait = Task { try await KindDiscovery.waitForDefinition(of: Widget.resourceType, client: client, logger: Logger(label: "test")) }
            try await eventually("the definition watched") { watches.value == 1 }
            // Past the read timeout, with nothing to report but bookmarks.
            try await Task.sleep(for: .milliseconds(4_500))
            _ = try await admin.create(Fixtures.crdType, Widget.crd)
            let ended = try await wait.value
            #expect(ended == .changed, "the wait ended with \(ended) before the definition was installed")
            #expect(watches.value == 1, "the definition was watched \(watches.value) times")
            try await client.shutdown()
        }
    }
}
