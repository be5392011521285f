import Foundation
import KubeClient
import KubeSandbox
import Synchronization
import Testing

func configMap(_ name: String, _ data: [String: String] = [:], namespace: String = "default", labels: [String: String]? = nil) -> ConfigMap {
    ConfigMap(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels), data: data)
}

@Suite("Client calls against KubeSandbox")
struct ClientCallTests {
    @Test("typed create, get, list, update and delete work over HTTPS with a client certificate")
    func crudWithCertificate() async throws {
        try await KubeSandbox.with { _, client in
            let created = try await client.create(configMap("c1", ["a": "1"]))
            #expect(created.metadata.uid != nil)
            #expect(created.metadata.resourceVersion != nil)
            var read = try await client.get(ConfigMap.self, name: "c1", namespace: "default")
            #expect(read.data == ["a": "1"])
            read.data = ["a": "2"]
            let updated = try await client.update(read)
            #expect(updated.data == ["a": "2"])
            #expect(updated.metadata.resourceVersion != created.metadata.resourceVersion)
            let list = try await client.list(ConfigMap.self, namespace: "default")
            #expect(list.items.map(\.metadata.name) == ["c1"])
            try await client.delete(ConfigMap.self, name: "c1", namespace: "default")
            await #expect(throws: KubeAPIError.self) { try await client.get(ConfigMap.self, name: "c1", namespace: "default") }
        }
    }

    @Test("a create read with a cache's decoder answers the object as that cache keeps it")
    func createWithDecoder() async throws {
        try await KubeSandbox.with { _, client in
            let pod = Pod(metadata: ObjectMeta(name: "lean", namespace: "default"), spec: PodSpec(containers: [Container(name: "main", image: "busybox", args: ["sleep", "1"])]))
            let lean = try await client.create(pod, decoder: Pod.statusViewDecoder)
            #expect(lean.metadata.uid != nil)
            #expect(lean.metadata.resourceVersion != nil)
            #expect(lean.spec?.containers.map(\.name) == ["main"])
            #expect(lean.spec?.containers.first?.image == nil, "pruned while read")
            #expect(lean.metadata.managedFields == nil)
            // The plain create keeps all of it.
            var full = pod
            full.metadata.name = "full"
            let answer = try await client.create(full)
            #expect(answer.spec?.containers.first?.image == "busybox")
            #expect(answer.metadata.managedFields?.isEmpty == false)
        }
    }

    @Test("bearer tokens authenticate and a wrong token is answered 401")
    func tokens() async throws {
        try await KubeSandbox.with(authentication: .token) { sandbox, client in
            _ = try await client.create(configMap("t1"))
            var bad = sandbox.clientConfiguration(authentication: .token)
            bad.credentials = .bearerToken("wrong")
            let other = try KubernetesClient(configuration: bad)
            defer { Task { try? await other.shutdown() } }
            do {
                _ = try await other.get(ConfigMap.self, name: "t1", namespace: "default")
                Issue.record("expected 401")
            } catch let error as KubeAPIError {
                #expect(error.isUnauthorized)
            }
        }
    }

    @Test("plain HTTP works without credentials")
    func plainHTTP() async throws {
        var options = KubeSandbox.Options()
        options.tls = false
        try await KubeSandbox.with(options) { _, client in
            _ = try await client.create(configMap("h1"))
            #expect(try await client.get(ConfigMap.self, name: "h1", namespace: "default").metadata.name == "h1")
        }
    }

    @Test("tls-server-name verifies the certificate against that name while connecting to the address")
    func tlsServerName() async throws {
        var options = KubeSandbox.Options()
        options.servingCertificateIPAddresses = false  // only the name "localhost" can match
        try await KubeSandbox.with(options) { sandbox, _ in
            func attempt(serverName: String?) async -> Bool {
                var config = sandbox.clientConfiguration()
                config.server = URL(string: "https://127.0.0.1:\(sandbox.port)")!
                config.tls.serverName = serverName
                config.retry = .init(maxAttempts: 1)
                config.connectTimeout = .seconds(5)  // AHC keeps retrying a failed handshake until this deadline; 5 s holds on a loaded machine
                guard let client = try? KubernetesClient(configuration: config) else { return false }
                defer { Task { try? await client.shutdown() } }
                return (try? await client.list(ConfigMap.self, namespace: "default")) != nil
            }
            #expect(await attempt(serverName: nil) == false, "127.0.0.1 is not in the certificate")
            #expect(await attempt(serverName: "localhost") == true)
            #expect(await attempt(serverName: "not-the-server.example") == false)
        }
    }

    @Test("over HTTP/2 (the sandbox offers h2 as kube-apiserver does) concurrent calls and watches share one connection; forced to HTTP/1.1 they need one each", .timeLimit(.minutes(1)))
    func http2() async throws {
        var options = KubeSandbox.Options()
        options.http2 = true
        try await KubeSandbox.with(options) { sandbox, _ in
            func connections(_ version: ClientConfiguration.HTTPVersionPreference) async throws -> Int {
                var config = sandbox.clientConfiguration()
                config.httpVersion = version
                let client = try KubernetesClient(configuration: config)
                let before = sandbox.openConnections
                // Three watches stay open while twenty creates and lists run beside them.
                var watches: [WatchStream<ConfigMap>] = []
                for _ in 0..<3 { watches.append(try await client.watch(ConfigMap.self, namespace: "default")) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<20 {
                        group.addTask {
                            _ = try await client.create(configMap("h\(version.rawValue)-\(i)"))
                            _ = try await client.list(ConfigMap.self, namespace: "default")
                        }
                    }
                    try await group.waitForAll()
                }
                // Every watch saw every create, over whichever protocol.
                for watch in watches {
                    var seen = 0
                    for try await event in watch where event.type == .added && event.object?.metadata.name?.hasPrefix("h\(version.rawValue)-") == true {
                        seen += 1
                        if seen == 20 { break }
                    }
                    #expect(seen == 20)
                }
                let opened = sandbox.openConnections - before
                try await client.shutdown()
                return opened
            }
            let multiplexed = try await connections(.automatic)
            let pooled = try await connections(.http1)
            #expect(multiplexed == 1)
            #expect(pooled > 3)
        }
    }

    @Test("a stale resourceVersion is a conflict and a second create is AlreadyExists")
    func conflicts() async throws {
        try await KubeSandbox.with { _, client in
            let created = try await client.create(configMap("c"))
            var first = created
            first.data = ["x": "1"]
            _ = try await client.update(first)
            var stale = created
            stale.data = ["x": "2"]
            do {
                _ = try await client.update(stale)
                Issue.record("expected a conflict")
            } catch let error as KubeAPIError {
                #expect(error.isConflict)
                #expect(error.message.contains("the object has been modified"))
            }
            do {
                _ = try await client.create(configMap("c"))
                Issue.record("expected AlreadyExists")
            } catch let error as KubeAPIError {
                #expect(error.isAlreadyExists)
            }
        }
    }

    @Test("paging returns every object once, from one consistent snapshot")
    func paging() async throws {
        try await KubeSandbox.with { _, client in
            for i in 0..<25 { _ = try await client.create(configMap(String(format: "cm-%02d", i), labels: ["app": i % 2 == 0 ? "even" : "odd"])) }
            var names: [String] = []
            var options = ListOptions(limit: 10)
            var pages = 0
            var firstVersion: String?
            while true {
                let page = try await client.list(ConfigMap.self, namespace: "default", options: options)
                pages += 1
                names += page.items.compactMap(\.metadata.name)
                firstVersion = firstVersion ?? page.metadata.resourceVersion
                #expect(page.metadata.resourceVersion == firstVersion)
                if pages == 1 {
                    #expect(page.metadata.remainingItemCount == 15)
                    // Changes after the first page do not show up in later pages.
                    _ = try await client.create(configMap("cm-zz-late"))
                    try await client.delete(ConfigMap.self, name: "cm-24", namespace: "default")
                }
                guard let next = page.metadata.continue, !next.isEmpty else { break }
                options.continue = next
            }
            #expect(pages == 3)
            #expect(names == (0..<25).map { String(format: "cm-%02d", $0) })
            let all = try await client.listAll(ConfigMap.resourceType, namespace: "default", options: ListOptions(labelSelector: "app=even"), pageSize: 4)
            #expect(all.items.count == 12)
        }
    }

    @Test("a continue token older than the server's history is 410 Gone")
    func expiredContinue() async throws {
        try await KubeSandbox.with { sandbox, client in
            for i in 0..<5 { _ = try await client.create(configMap("e\(i)")) }
            let page = try await client.list(ConfigMap.self, namespace: "default", options: ListOptions(limit: 2))
            _ = try await client.create(configMap("later"))
            await sandbox.compactHistory()
            do {
                _ = try await client.list(ConfigMap.self, namespace: "default", options: ListOptions(limit: 2, continue: page.metadata.continue))
                Issue.record("expected 410")
            } catch let error as KubeAPIError {
                #expect(error.isGone)
            }
        }
    }

    @Test("label and field selectors filter lists")
    func selectors() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(configMap("a", labels: ["tier": "web"]))
            _ = try await client.create(configMap("b", labels: ["tier": "db"]))
            _ = try await client.create(configMap("c"))
            let web = try await client.list(ConfigMap.self, namespace: "default", options: ListOptions(labelSelector: "tier in (web,db),tier!=db"))
            #expect(web.items.map(\.metadata.name) == ["a"])
            let named = try await client.list(ConfigMap.self, namespace: "default", options: ListOptions(fieldSelector: "metadata.name!=a"))
            #expect(named.items.map(\.metadata.name) == ["b", "c"])
            do {
                _ = try await client.list(ConfigMap.self, options: ListOptions(fieldSelector: "spec.nonsense=1"))
                Issue.record("expected 400")
            } catch let error as KubeAPIError {
                #expect(error.code == 400)
                #expect(error.message.contains("field label not supported"))
            }
        }
    }

    @Test("a typed read-modify-write keeps fields the model does not declare")
    func preservesUnknownFields() async throws {
        try await KubeSandbox.with { _, client in
            let raw: JSONValue = [
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": "p", "namespace": "default"],
                "spec": ["containers": [["name": "c", "image": "busybox", "stdin": true, "ports": [["containerPort": 80]]]], "hostname": "h1", "overhead": nil],
            ]
            _ = try await client.create(Pod.resourceType, raw)
            var pod = try await client.get(Pod.self, name: "p", namespace: "default")
            pod.metadata.labels = ["touched": "yes"]
            _ = try await client.update(pod)
            let after = try await client.get(Pod.resourceType, name: "p", namespace: "default")
            #expect(after.value(atPath: "spec.hostname") == "h1")
            #expect(after.value(atPath: "spec.containers")?[0]?["stdin"] == true)
            #expect(after.value(atPath: "spec.containers")?[0]?["ports"]?[0]?["containerPort"] == 80)
            #expect(after.value(atPath: "metadata.labels.touched") == "yes")
        }
    }

    @Test("status is written only through /status, and the main endpoint ignores it")
    func statusSubresource() async throws {
        try await KubeSandbox.with { _, client in
            var pod = try await client.create(Pod(metadata: ObjectMeta(name: "s", namespace: "default"), spec: PodSpec(containers: [Container(name: "c", image: "busybox")])))
            #expect(pod.status?.phase == "Pending")
            pod.status?.phase = "Running"
            pod.metadata.labels = ["l": "1"]
            let viaMain = try await client.update(pod)
            #expect(viaMain.status?.phase == "Pending", "the main endpoint ignores status")
            #expect(viaMain.metadata.labels?["l"] == "1")
            var forStatus = viaMain
            forStatus.status?.phase = "Running"
            forStatus.metadata.labels = ["l": "2"]
            let viaStatus = try await client.updateStatus(forStatus)
            #expect(viaStatus.status?.phase == "Running")
            #expect(viaStatus.metadata.labels?["l"] == "1", "/status ignores everything else")
            let read = try await client.getStatus(Pod.self, name: "s", namespace: "default")
            #expect(read.status?.phase == "Running")
            let patched = try await client.patch(Pod.self, name: "s", namespace: "default", .merge(["status": ["phase": "Succeeded"]]), subresource: "status")
            #expect(patched.status?.phase == "Succeeded")
        }
    }

    @Test("merge, JSON (with test), strategic merge and apply patches")
    func patches() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Pod(metadata: ObjectMeta(name: "p", namespace: "default", labels: ["a": "1", "b": "2"]), spec: PodSpec(containers: [Container(name: "main", image: "one"), Container(name: "side", image: "two")])))
            let merged = try await client.patch(Pod.self, name: "p", namespace: "default", .merge(["metadata": ["labels": ["a": nil, "c": "3"]]]))
            #expect(merged.metadata.labels == ["b": "2", "c": "3"])

            let json = try await client.patch(Pod.self, name: "p", namespace: "default", .json([.test("/metadata/labels/b", "2"), .add("/metadata/finalizers", ["x/y"])]))
            #expect(json.metadata.finalizers == ["x/y"])
            do {
                _ = try await client.patch(Pod.self, name: "p", namespace: "default", .json([.test("/metadata/labels/b", "wrong"), .remove("/metadata/finalizers")]))
                Issue.record("a failed test must reject the patch")
            } catch let error as KubeAPIError {
                #expect(error.isInvalid)
            }
            #expect(try await client.get(Pod.self, name: "p", namespace: "default").metadata.finalizers == ["x/y"])

            let strategic = try await client.patch(Pod.self, name: "p", namespace: "default", .strategicMerge(["spec": ["containers": [["name": "side", "image": "three"]]]]))
            #expect(strategic.spec?.containers.map(\.image) == ["one", "three"], "containers merge by name")
            _ = try await client.patch(Pod.self, name: "p", namespace: "default", .json([.remove("/metadata/finalizers")]))
        }
    }

    @Test("server-side apply creates, updates, detects conflicts between managers and forces")
    func apply() async throws {
        try await KubeSandbox.with { _, client in
            let cm = ConfigMap.resourceType
            let first: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "ssa", "namespace": "default"], "data": ["a": "1", "b": "2"]]
            let created = try await client.patch(cm, name: "ssa", namespace: "default", .apply(first, fieldManager: "alice"))
            #expect(created["data"] == ["a": "1", "b": "2"])
            #expect(created.value(atPath: "metadata.managedFields")?[0]?["manager"] == "alice")
            // Alice drops b: it is removed because nobody else owns it.
            let second: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "ssa", "namespace": "default"], "data": ["a": "1"]]
            let updated = try await client.patch(cm, name: "ssa", namespace: "default", .apply(second, fieldManager: "alice"))
            #expect(updated["data"] == ["a": "1"])
            // Bob changing Alice's field conflicts, unless forced.
            let bob: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "ssa", "namespace": "default"], "data": ["a": "bob"]]
            do {
                _ = try await client.patch(cm, name: "ssa", namespace: "default", .apply(bob, fieldManager: "bob"))
                Issue.record("expected a conflict")
            } catch let error as KubeAPIError {
                #expect(error.isConflict)
                #expect(error.message.contains("conflict with \"alice\""))
            }
            let forced = try await client.patch(cm, name: "ssa", namespace: "default", .apply(bob, fieldManager: "bob", force: true))
            #expect(forced["data"] == ["a": "bob"])
        }
    }

    @Test("delete honours uid and resourceVersion preconditions, and finalizers delay removal")
    func deletion() async throws {
        try await KubeSandbox.with { _, client in
            let cm = try await client.create(ConfigMap(metadata: ObjectMeta(name: "d", namespace: "default", finalizers: ["example.com/hold"])))
            do {
                try await client.delete(ConfigMap.self, name: "d", namespace: "default", options: DeleteOptions(preconditionUID: "other-uid"))
                Issue.record("expected a precondition conflict")
            } catch let error as KubeAPIError {
                #expect(error.isConflict)
                #expect(error.message.contains("Precondition failed: UID"))
            }
            let marked = try await client.delete(ConfigMap.self, name: "d", namespace: "default", options: DeleteOptions(preconditionUID: cm.metadata.uid))
            #expect(marked.value(atPath: "metadata.deletionTimestamp") != nil)
            #expect(try await client.get(ConfigMap.self, name: "d", namespace: "default").metadata.deletionTimestamp != nil)
            _ = try await client.patch(ConfigMap.self, name: "d", namespace: "default", .json([.test("/metadata/finalizers/0", "example.com/hold"), .remove("/metadata/finalizers/0")]))
            await #expect(throws: KubeAPIError.self) { try await client.get(ConfigMap.self, name: "d", namespace: "default") }
        }
    }

    @Test("request bodies over the limit are refused before sending")
    func requestLimit() async throws {
        try await KubeSandbox.with(configure: { $0.maxRequestBodyBytes = 1024 }) { _, client in
            await #expect(throws: KubeClientError.self) {
                _ = try await client.create(configMap("big", ["x": String(repeating: "y", count: 2048)]))
            }
        }
    }

    @Test("responses over the limit fail instead of growing memory")
    func responseLimit() async throws {
        try await KubeSandbox.with(configure: { $0.maxResponseBodyBytes = 2048 }) { _, client in
            for i in 0..<10 { _ = try await client.create(configMap("r\(i)", ["x": String(repeating: "y", count: 500)])) }
            await #expect(throws: KubeClientError.self) { _ = try await client.list(ConfigMap.self, namespace: "default") }
        }
    }

    @Test("an exec credential plugin's token authenticates against the server")
    func execAgainstServer() async throws {
        let dir = try TempDirectory()
        _ = try await KubeSandbox.with { sandbox, _ in
            let script = try dir.write("token.sh", """
                #!/bin/sh
                echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"\(sandbox.options.token)"}}'
                """, executable: true)
            var config = sandbox.clientConfiguration(authentication: .token)
            config.credentials = .exec(.init(command: script), cluster: nil)
            let client = try KubernetesClient(configuration: config)
            _ = try await client.list(ConfigMap.self, namespace: "default")
            try await client.shutdown()
        }
    }

    @Test("an exec credential plugin's client certificate authenticates over TLS, and a new one is presented when it changes")
    func execClientCertificateAgainstServer() async throws {
        let dir = try TempDirectory()
        var options = KubeSandbox.Options()
        options.auditWrites = true
        _ = try await KubeSandbox.with(options) { sandbox, _ in
            // Certificates handed out by a plugin instead of the kubeconfig, as `tsh kube
            // credentials` and similar plugins do: alice's, then bob's, then alice's again. Each
            // credential has expired already, so every request runs the plugin.
            let authority = try #require(sandbox.certificateAuthority)
            var outputs: [String] = []
            for user in ["alice", "bob"] {
                let issued = try authority.issueClientCertificate(commonName: user)
                let credential: JSONValue = [
                    "apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                    "status": [
                        "clientCertificateData": .string(issued.certificatePEM), "clientKeyData": .string(issued.privateKeyPEM),
                        "expirationTimestamp": "2000-01-01T00:00:00Z",
                    ],
                ]
                outputs.append(try dir.write("\(user).json", String(decoding: credential.serialized(), as: UTF8.self)))
            }
            let count = dir.path + "/count"
            let script = try dir.write("cert.sh", """
                #!/bin/sh
                echo x >> \(count)
                if [ $(( $(wc -l < \(count)) % 2 )) = 1 ]; then cat \(outputs[0]); else cat \(outputs[1]); fi
                """, executable: true)
            var config = sandbox.clientConfiguration(authentication: .clientCertificate)
            config.tls.clientCertificatePEM = nil
            config.tls.clientKeyPEM = nil

            config.credentials = .none
            let anonymous = try KubernetesClient(configuration: config)
            await #expect(throws: KubeAPIError.self, "without the plugin's certificate the server refuses") {
                _ = try await anonymous.create(configMap("anonymous"))
            }
            try await anonymous.shutdown()

            config.credentials = .exec(.init(command: script), cluster: nil)
            let client = try KubernetesClient(configuration: config)
            for i in 0..<3 { _ = try await client.create(configMap("exec-cert-\(i)")) }
            try await client.shutdown()
            #expect(sandbox.auditRecords.map(\.user) == ["alice", "bob", "alice"])
        }
    }

    @Test("discovery and raw paths are reachable")
    func discovery() async throws {
        try await KubeSandbox.with { _, client in
            let version = try await client.raw(method: "GET", path: "/version")
            #expect(version.status == 200)
            #expect(try JSONValue.parse(version.body)["gitVersion"]?.stringValue?.hasPrefix("v1.") == true)
            let core = try JSONValue.parse(try await client.raw(method: "GET", path: "/api/v1").body)
            #expect(core["resources"]?.arrayValue?.contains { $0["name"] == "pods/status" } == true)
        }
    }
}
