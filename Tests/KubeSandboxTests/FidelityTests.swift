import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Testing

/// Behaviours of kube-apiserver 1.36 that an operator's tests depend on, each stated as the
/// real server behaves (issue 17).
@Suite("KubeSandbox behaves like kube-apiserver")
struct FidelityTests {
    static let services = ResourceType(group: "", version: "v1", kind: "Service", plural: "services", namespaced: true)

    static func service(ports: [JSONValue]) -> JSONValue {
        ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "namespace": "default"], "spec": ["selector": ["app": "web"], "ports": .array(ports)]]
    }

    @Test("server-side apply merges keyed lists by key: re-applying a port whose stored copy was defaulted adds no duplicate")
    func applyMergesKeyedListsByKey() async throws {
        try await KubeSandbox.with { _, client in
            let config = Self.service(ports: [["name": "http", "port": 80]])
            for _ in 0..<3 {
                _ = try await client.patch(Self.services, name: "web", namespace: "default", .apply(config, fieldManager: "deployer"))
            }
            let stored = try await client.get(Self.services, name: "web", namespace: "default")
            let ports = stored.value(atPath: "spec.ports")?.arrayValue ?? []
            #expect(ports.count == 1)
            #expect(ports.first?["protocol"] == "TCP")
            #expect(ports.first?["targetPort"] == 80)
            // A second port and then dropping the first: keyed by port and protocol.
            _ = try await client.patch(Self.services, name: "web", namespace: "default", .apply(Self.service(ports: [["name": "http", "port": 80], ["name": "dns", "port": 53, "protocol": "UDP"]]), fieldManager: "deployer"))
            _ = try await client.patch(Self.services, name: "web", namespace: "default", .apply(Self.service(ports: [["name": "dns", "port": 53, "protocol": "UDP"]]), fieldManager: "deployer"))
            let after = try await client.get(Self.services, name: "web", namespace: "default")
            #expect(after.value(atPath: "spec.ports")?.arrayValue?.compactMap { $0["port"]?.intValue } == [53])
            let fields = after.value(atPath: "metadata.managedFields")?.arrayValue?.first?["fieldsV1"]
            #expect(fields?.value(atPath: "f:spec.f:ports")?.objectValue?.keys.sorted() == [#"k:{"port":53,"protocol":"UDP"}"#])
        }
    }

    @Test("server-side apply of a container port keys it by containerPort and protocol, the protocol defaulted")
    func applyKeysContainerPorts() async throws {
        try await KubeSandbox.with { _, client in
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"],
                                  "spec": ["containers": [["name": "main", "image": "busybox:1.36", "ports": [["containerPort": 8080]]]]]]
            _ = try await client.patch(Pod.resourceType, name: "p", namespace: "default", .apply(pod, fieldManager: "me"))
            _ = try await client.patch(Pod.resourceType, name: "p", namespace: "default", .apply(pod, fieldManager: "me"))
            let stored = try await client.get(Pod.resourceType, name: "p", namespace: "default")
            let ports = stored.value(atPath: "spec.containers")?.arrayValue?.first?["ports"]?.arrayValue ?? []
            #expect(ports == [["containerPort": 8080, "protocol": "TCP"]])
        }
    }

    @Test("a PUT of a custom resource without metadata.resourceVersion is rejected with 422: must be specified for an update")
    func putWithoutResourceVersion() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            let created = try await client.create(Fixtures.taskActions, Fixtures.taskAction("put-me"))
            var body = created
            body["metadata"]?["resourceVersion"] = nil
            body["spec"]?["project"] = "changed"
            do {
                _ = try await client.update(Fixtures.taskActions, body)
                Issue.record("the unconditional PUT was accepted")
            } catch let error as KubeAPIError {
                #expect(error.code == 422)
                #expect(error.status.message == #"TaskAction.flyte.org "put-me" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update"#)
            }
            let stored = try await client.get(Fixtures.taskActions, name: "put-me", namespace: "default")
            #expect(stored.value(atPath: "spec.project") == created.value(atPath: "spec.project"))
            // With the version it is an ordinary update, and built-in kinds still allow an
            // unconditional one.
            body["metadata"]?["resourceVersion"] = created.value(atPath: "metadata.resourceVersion")
            _ = try await client.update(Fixtures.taskActions, body)
            var map = try await client.create(ConfigMap(metadata: ObjectMeta(name: "cm", namespace: "default"), data: ["a": "1"]))
            map.metadata.resourceVersion = nil
            map.data = ["a": "2"]
            #expect(try await client.update(map).data == ["a": "2"])
        }
    }

    @Test("a watch from a resourceVersion older than the watch cache's window ends with 410 Expired, too old resource version")
    func watchOlderThanWindow() async throws {
        var options = KubeSandbox.Options()
        options.watchCacheMinimum = 10
        options.watchCacheFreshness = .zero
        try await KubeSandbox.with(options) { _, client in
            let first = try await client.create(ConfigMap(metadata: ObjectMeta(name: "c0", namespace: "default")))
            var versions: [String] = []
            for i in 1..<30 {
                versions.append(try await client.create(ConfigMap(metadata: ObjectMeta(name: "c\(i)", namespace: "default"))).metadata.resourceVersion ?? "")
            }
            let old = try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(resourceVersion: first.metadata.resourceVersion))
            do {
                for try await _ in old {}
                Issue.record("the watch from an evicted version did not fail")
            } catch let error as KubeAPIError {
                #expect(error.code == 410)
                #expect(error.status.reason == "Expired")
                #expect(error.status.message?.hasPrefix("too old resource version: \(first.metadata.resourceVersion ?? "")") == true)
            }
            // Inside the window the watch replays what came after its version.
            let recent = try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(resourceVersion: versions[versions.count - 4]))
            var names: [String] = []
            for try await event in recent {
                if let name = event.object?.metadata.name { names.append(name) }
                if names.count == 3 { break }
            }
            #expect(names == ["c27", "c28", "c29"])
            // Another resource's window is its own: a version that is old for ConfigMaps is
            // fine for Leases, which have not changed since.
            let secrets = try await client.watch(Lease.self, namespace: "default", options: WatchOptions(resourceVersion: first.metadata.resourceVersion, timeoutSeconds: 1))
            for try await _ in secrets {}
        }
    }

    /// The lines of a watch read whole with `raw` (the watch must end by its timeout).
    static func watchLines(_ client: KubernetesClient, _ path: String, _ query: [(String, String)]) async throws -> (status: Int, lines: [JSONValue]) {
        let response = try await client.raw(method: "GET", path: path, query: query)
        let lines = try String(decoding: response.body, as: UTF8.self).split(separator: "\n").map { try JSONValue.parse(String($0)) }
        return (response.status, lines)
    }

    @Test("a watch with bookmarks gets one about 2 s before its timeout once the resourceVersion moved, even when its selector matched nothing")
    func bookmarkBeforeTimeout() async throws {
        try await KubeSandbox.with { _, client in
            let start = try await client.list(ConfigMap.self, namespace: "default").metadata.resourceVersion
            let watching = Task {
                try await Self.watchLines(client, "/api/v1/namespaces/default/configmaps", [("watch", "true"), ("labelSelector", "app=nothing"), ("resourceVersion", start ?? ""), ("allowWatchBookmarks", "true"), ("timeoutSeconds", "3")])
            }
            let created = try await client.create(ConfigMap(metadata: ObjectMeta(name: "unselected", namespace: "default")))
            let (status, lines) = try await watching.value
            #expect(status == 200)
            #expect(lines.map { $0["type"]?.stringValue } == ["BOOKMARK"])
            let version = Int64(lines.first?.value(atPath: "object.metadata.resourceVersion")?.stringValue ?? "") ?? 0
            #expect(version >= Int64(created.metadata.resourceVersion ?? "") ?? .max)
            // Nothing moved: no bookmark.
            let now = try await client.list(ConfigMap.self, namespace: "default").metadata.resourceVersion ?? ""
            let quiet = try await Self.watchLines(client, "/api/v1/namespaces/default/configmaps", [("watch", "true"), ("resourceVersion", now), ("allowWatchBookmarks", "true"), ("timeoutSeconds", "3")])
            #expect(quiet.lines.isEmpty)
        }
    }

    @Test("sendInitialEvents needs resourceVersionMatch=NotOlderThan (422 otherwise), and ends the initial events with a BOOKMARK annotated k8s.io/initial-events-end")
    func watchList() async throws {
        try await KubeSandbox.with { _, client in
            for name in ["a", "b"] { _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: name, namespace: "default"))) }
            let path = "/api/v1/namespaces/default/configmaps"
            let refused = try await client.raw(method: "GET", path: path, query: [("watch", "true"), ("sendInitialEvents", "true"), ("allowWatchBookmarks", "true")])
            #expect(refused.status == 422)
            #expect(String(decoding: refused.body, as: UTF8.self).contains("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
            let (status, lines) = try await Self.watchLines(client, path, [("watch", "true"), ("sendInitialEvents", "true"), ("resourceVersionMatch", "NotOlderThan"), ("resourceVersion", ""), ("allowWatchBookmarks", "true"), ("timeoutSeconds", "1")])
            #expect(status == 200)
            #expect(lines.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "ADDED", "BOOKMARK"])
            #expect(lines.last?.value(atPath: "object.metadata.annotations")?["k8s.io/initial-events-end"] == "true")
        }
    }

    @Test("a binding sets nodeName, copies its annotations and marks the Pod PodScheduled; a binding for another uid is a 409")
    func binding() async throws {
        try await KubeSandbox.with { _, client in
            let pod = try await client.create(Pod(metadata: ObjectMeta(name: "b", namespace: "default", annotations: ["kept": "yes"]), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")])))
            let stale: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": "b", "uid": "not-this-pod"], "target": ["kind": "Node", "name": "node-1"]]
            let refused = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/pods/b/binding", body: stale.serialized())
            #expect(refused.status == 409)
            #expect(String(decoding: refused.body, as: UTF8.self).contains("Precondition failed: UID in precondition: not-this-pod"))
            let binding: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": "b", "uid": .string(pod.metadata.uid ?? ""), "annotations": ["scheduler.example/score": "7"]],
                                      "target": ["kind": "Node", "name": "node-1"]]
            let bound = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/pods/b/binding", body: binding.serialized())
            #expect(bound.status == 201)
            let after = try await client.get(Pod.self, name: "b", namespace: "default")
            #expect(after.spec?.nodeName == "node-1")
            #expect(after.metadata.annotations == ["kept": "yes", "scheduler.example/score": "7"])
            let scheduled = after.status?.conditions?.filter { $0.type == "PodScheduled" } ?? []
            #expect(scheduled.count == 1 && scheduled.first?.status == "True" && scheduled.first?.lastTransitionTime != nil)
        }
    }

    @Test("a Pod on a node is deleted gracefully: Terminating with deletionTimestamp and deletionGracePeriodSeconds until its kubelet confirms, and its name stays taken (409 object is being deleted)")
    func podGracefulDeletion() async throws {
        try await KubeSandbox.with { _, client in
            let pod = Pod(metadata: ObjectMeta(name: "g", namespace: "default"), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")]))
            _ = try await client.create(pod)
            let binding: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": "g"], "target": ["apiVersion": "v1", "kind": "Node", "name": "node-1"]]
            let bound = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/pods/g/binding", body: binding.serialized())
            #expect(bound.status == 201)
            #expect(try await client.get(Pod.self, name: "g", namespace: "default").spec?.nodeName == "node-1")
            let again = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/pods/g/binding", body: binding.serialized())
            #expect(again.status == 409)

            try await client.delete(Pod.self, name: "g", namespace: "default")
            let terminating = try await client.get(Pod.self, name: "g", namespace: "default")
            #expect(terminating.metadata.deletionGracePeriodSeconds == 30)
            let deadline = terminating.metadata.deletionTimestamp.flatMap(KubeTime.parse)
            #expect(deadline.map { $0.timeIntervalSinceNow > 25 } == true)
            do {
                _ = try await client.create(pod)
                Issue.record("a Pod of the same name was created while the old one was terminating")
            } catch let error as KubeAPIError {
                #expect(error.code == 409)
                #expect(error.status.message == #"object is being deleted: pods "g" already exists"#)
            }
            // A second delete may shorten the period; the kubelet confirms with 0.
            try await client.delete(Pod.self, name: "g", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
            await #expect(throws: KubeAPIError.self) { _ = try await client.get(Pod.self, name: "g", namespace: "default") }
            _ = try await client.create(pod)
        }
    }

    @Test("a Pod no node runs, or one that has finished, is deleted at once")
    func podImmediateDeletion() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Pod(metadata: ObjectMeta(name: "u", namespace: "default"), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")])))
            try await client.delete(Pod.self, name: "u", namespace: "default")
            await #expect(throws: KubeAPIError.self) { _ = try await client.get(Pod.self, name: "u", namespace: "default") }
        }
    }

    @Test("a scoped simulated kubelet (as the portable tests run it on a real cluster) takes only its namespace's Pods that name its scheduler and are not bound to another node")
    func kubeletScope() async throws {
        try await KubeSandbox.with { sandbox, client in
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: "mine")))
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: "theirs")))
            let kubelet = try SimulatedKubelet.start(configuration: sandbox.clientConfiguration(), scope: .init(namespace: "mine", schedulerName: "sim"))
            func pod(_ name: String, _ namespace: String, scheduler: String?, node: String? = nil, startup: String = "0") -> Pod {
                var spec = PodSpec(containers: [Container(name: "main", image: "busybox:1.36")])
                spec.schedulerName = scheduler
                spec.nodeName = node
                return Pod(metadata: ObjectMeta(name: name, namespace: namespace, annotations: [SimulatedKubelet.startupAnnotation: startup, SimulatedKubelet.durationAnnotation: "0.5"]), spec: spec)
            }
            // The ones it must leave alone first, so it has met each before the one it takes is done.
            _ = try await client.create(pod("default-scheduler", "mine", scheduler: nil))
            _ = try await client.create(pod("other-namespace", "theirs", scheduler: "sim"))
            _ = try await client.create(pod("other-node", "mine", scheduler: "sim", node: "node-7"))
            _ = try await client.create(pod("taken", "mine", scheduler: "sim", startup: "0.5"))
            try await eventually("taken succeeded") { (try? await client.get(Pod.self, name: "taken", namespace: "mine"))?.status?.phase == "Succeeded" }
            #expect(try await client.get(Pod.self, name: "taken", namespace: "mine").spec?.nodeName == SimulatedKubelet.nodeName)
            for (name, namespace) in [("default-scheduler", "mine"), ("other-namespace", "theirs"), ("other-node", "mine")] {
                let untouched = try await client.get(Pod.self, name: name, namespace: namespace)
                #expect(untouched.status?.containerStatuses == nil, "\(namespace)/\(name) was run")
                #expect(untouched.spec?.nodeName != SimulatedKubelet.nodeName, "\(namespace)/\(name) was bound")
            }
            await kubelet.stop()
        }
    }

    @Test("the simulated kubelet binds Pods to its node and confirms a graceful deletion, so a deleted Pod goes and its name is free again")
    func kubeletConfirmsDeletion() async throws {
        var options = KubeSandbox.Options()
        options.kubelet = true
        try await KubeSandbox.with(options) { _, client in
            var pod = Pod(metadata: ObjectMeta(name: "k", namespace: "default", annotations: [SimulatedKubelet.outcomeAnnotation: "hang"]), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")]))
            _ = try await client.create(pod)
            try await eventually("running") { (try? await client.get(Pod.self, name: "k", namespace: "default"))?.status?.phase == "Running" }
            #expect(try await client.get(Pod.self, name: "k", namespace: "default").spec?.nodeName == SimulatedKubelet.nodeName)
            try await client.delete(Pod.self, name: "k", namespace: "default")
            try await eventually("gone") { (try? await client.get(Pod.self, name: "k", namespace: "default")) == nil }
            pod.metadata.annotations = nil
            _ = try await client.create(pod)
        }
    }

    @Test("the simulated kubelet tries its deletion confirm again when the API server refuses it, as a kubelet's pod worker does, instead of leaving the Pod Terminating")
    func kubeletRetriesDeletionConfirm() async throws {
        var options = KubeSandbox.Options()
        options.kubelet = true
        try await KubeSandbox.with(options) { sandbox, client in
            let pod = Pod(metadata: ObjectMeta(name: "k2", namespace: "default", labels: ["app": "k2"], annotations: [SimulatedKubelet.outcomeAnnotation: "hang"]), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")]))
            _ = try await client.create(pod)
            try await eventually("running") { (try? await client.get(Pod.self, name: "k2", namespace: "default"))?.status?.phase == "Running" }
            // The Pod's own DELETE is the kubelet's confirm; the test deletes through the collection.
            await sandbox.faults.failNext(1, code: 403, method: "DELETE", pathContains: "/pods/k2")
            try await client.deleteCollection(Pod.resourceType, namespace: "default", options: ListOptions(labelSelector: "app=k2"))
            try await eventually("gone") { (try? await client.get(Pod.self, name: "k2", namespace: "default")) == nil }
            #expect(await sandbox.faults.servedCount(code: 403) == 1, "the confirm was refused once")
        }
    }

    @Test("every write records managedFields: Update entries per manager and subresource, so an apply over another manager's field conflicts")
    func managedFieldsForEveryWrite() async throws {
        try await KubeSandbox.with { sandbox, client in
            _ = try await client.create(ConfigMap.resourceType, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "m", "namespace": "default"], "data": ["owner": "creator", "kept": "creator"]], options: WriteOptions(fieldManager: "creator"))
            var stored = try await client.get(ConfigMap.resourceType, name: "m", namespace: "default")
            var entries = stored.value(atPath: "metadata.managedFields")?.arrayValue ?? []
            #expect(entries.map { $0["manager"]?.stringValue } == ["creator"])
            #expect(entries.first?["operation"] == "Update")
            #expect(entries.first?.value(atPath: "fieldsV1.f:data.f:owner") == [:])
            // A patch by another manager takes the field it changes.
            _ = try await client.patch(ConfigMap.resourceType, name: "m", namespace: "default", .merge(["data": ["owner": "patcher", "extra": "x"]]), options: WriteOptions(fieldManager: "patcher"))
            stored = try await client.get(ConfigMap.resourceType, name: "m", namespace: "default")
            entries = stored.value(atPath: "metadata.managedFields")?.arrayValue ?? []
            #expect(Set(entries.compactMap { $0["manager"]?.stringValue }) == ["creator", "patcher"])
            #expect(entries.first { $0["manager"] == "patcher" }?.value(atPath: "fieldsV1.f:data")?.objectValue?.keys.sorted() == ["f:extra", "f:owner"])
            #expect(entries.first { $0["manager"] == "creator" }?.value(atPath: "fieldsV1.f:data")?.objectValue?.keys.sorted() == ["f:kept"])
            // Apply of a value another manager set is a conflict, unless forced.
            let config: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "m", "namespace": "default"], "data": ["owner": "applier"]]
            do {
                _ = try await client.patch(ConfigMap.resourceType, name: "m", namespace: "default", .apply(config, fieldManager: "applier"))
                Issue.record("an apply over another manager's field did not conflict")
            } catch let error as KubeAPIError {
                #expect(error.code == 409)
                #expect(error.status.message?.contains(#"conflict with "patcher""#) == true)
            }
            _ = try await client.patch(ConfigMap.resourceType, name: "m", namespace: "default", .apply(config, fieldManager: "applier", force: true))
            // A status write is an entry of its own, and the default manager is the User-Agent's first word.
            _ = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("s1"))
            _ = try await client.patch(Fixtures.taskActions, name: "s1", namespace: "default", .merge(["status": ["attempts": 1]]), subresource: "status")
            let action = try await client.get(Fixtures.taskActions, name: "s1", namespace: "default")
            let status = action.value(atPath: "metadata.managedFields")?.arrayValue?.first { $0["subresource"] == "status" }
            #expect(status?.value(atPath: "fieldsV1.f:status.f:attempts") == [:])
            #expect(status?["manager"]?.stringValue?.isEmpty == false)
            _ = sandbox
        }
    }

    @Test("a field manager longer than 128 bytes is rejected with 422")
    func longFieldManager() async throws {
        try await KubeSandbox.with { _, client in
            do {
                _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "long", namespace: "default")), options: WriteOptions(fieldManager: String(repeating: "m", count: 129)))
                Issue.record("accepted")
            } catch let error as KubeAPIError {
                #expect(error.code == 422)
                #expect(error.status.message?.contains("fieldManager: Too long: may not be more than 128 bytes") == true)
            }
        }
    }
}

extension FidelityTests {
    @Test("a Pod gets the API server's defaults: tolerations for 300 s, priority, enableServiceLinks, empty securityContext and resources, and the projected service-account token volume and mounts")
    func podDefaults() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Pod(metadata: ObjectMeta(name: "d", namespace: "default"), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")])))
            let pod = try await client.get(Pod.resourceType, name: "d", namespace: "default")
            let spec = try #require(pod["spec"])
            #expect(spec["priority"] == 0)
            #expect(spec["preemptionPolicy"] == "PreemptLowerPriority")
            #expect(spec["enableServiceLinks"] == true)
            #expect(spec["securityContext"] == [:])
            #expect(spec["serviceAccountName"] == "default" && spec["serviceAccount"] == "default")
            let tolerations = spec["tolerations"]?.arrayValue ?? []
            #expect(tolerations.contains(["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]))
            #expect(tolerations.contains(["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]))
            let volume = try #require(spec["volumes"]?.arrayValue?.first)
            let volumeName = volume["name"]?.stringValue ?? ""
            #expect(volumeName.hasPrefix("kube-api-access-"))
            #expect(volume.value(atPath: "projected.sources")?.arrayValue?.count == 3)
            let container = try #require(spec["containers"]?.arrayValue?.first)
            #expect(container["resources"] == [:])
            #expect(container["volumeMounts"] == [["name": .string(volumeName), "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"]])
        }
    }

    @Test("a Pod naming a ServiceAccount that does not exist is 403 error looking up service account; every new namespace has its default one")
    func serviceAccountAdmission() async throws {
        try await KubeSandbox.with { _, client in
            do {
                _ = try await client.create(Pod(metadata: ObjectMeta(name: "sa", namespace: "default"), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")], serviceAccountName: "robot")))
                Issue.record("created")
            } catch let error as KubeAPIError {
                #expect(error.code == 403)
                #expect(error.status.message == #"pods "sa" is forbidden: error looking up service account default/robot: serviceaccount "robot" not found"#)
            }
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: "fresh")))
            let accounts = ResourceType(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true)
            _ = try await client.get(accounts, name: "default", namespace: "fresh")
            _ = try await client.create(Pod(metadata: ObjectMeta(name: "ok", namespace: "fresh"), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")])))
        }
    }
}

extension FidelityTests {
    @Test("DELETE answers 200: a custom resource gone at once with Status Success, one held by a finalizer with the object, its generation bumped")
    func deleteAnswers() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("gone"))
            let gone = try await client.raw(method: "DELETE", path: "/apis/flyte.org/v1/namespaces/default/taskactions/gone")
            #expect(gone.status == 200)
            let status = try JSONValue.parse(gone.body)
            #expect(status["kind"] == "Status" && status["status"] == "Success")
            #expect(status.value(atPath: "details.name") == "gone" && status.value(atPath: "details.kind") == "taskactions")

            var held = Fixtures.taskAction("held")
            held["metadata"]?["finalizers"] = ["example.com/hold"]
            let created = try await client.create(Fixtures.taskActions, held)
            let kept = try await client.raw(method: "DELETE", path: "/apis/flyte.org/v1/namespaces/default/taskactions/held")
            #expect(kept.status == 200)
            let marked = try JSONValue.parse(kept.body)
            #expect(marked.value(atPath: "metadata.deletionTimestamp") != nil)
            #expect(marked.value(atPath: "metadata.generation")?.intValue == (created.value(atPath: "metadata.generation")?.intValue ?? 0) + 1)
        }
    }

    @Test("deleting the default, kube-system or kube-public namespace is 403")
    func protectedNamespaces() async throws {
        try await KubeSandbox.with { _, client in
            for name in ["default", "kube-system", "kube-public"] {
                do {
                    try await client.delete(Namespace.self, name: name)
                    Issue.record("\(name) was deleted")
                } catch let error as KubeAPIError {
                    #expect(error.code == 403)
                    #expect(error.status.message == "namespaces \"\(name)\" is forbidden: this namespace may not be deleted")
                }
            }
        }
    }
}

extension FidelityTests {
    static func expectInvalid(_ what: String, code: Int = 422, containing text: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("\(what) was accepted")
        } catch let error as KubeAPIError {
            #expect(error.code == code, "\(what): \(error.status.message ?? "")")
            #expect(error.status.message?.contains(text) == true, "\(what): \(error.status.message ?? "")")
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    @Test("metadata is validated as kube-apiserver validates it: one controller owner with a uid, qualified finalizer names, no resourceVersion on create, an immutable uid, a numeric resourceVersion")
    func metadataValidation() async throws {
        try await KubeSandbox.with { _, client in
            let owner = OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "a", uid: "u1", controller: true)
            var twoControllers = ConfigMap(metadata: ObjectMeta(name: "two", namespace: "default"))
            twoControllers.metadata.ownerReferences = [owner, OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "b", uid: "u2", controller: true)]
            await Self.expectInvalid("two controllers", containing: "Only one reference can have Controller set to true") { _ = try await client.create(twoControllers) }
            var noUID = ConfigMap(metadata: ObjectMeta(name: "nouid", namespace: "default"))
            noUID.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "a", uid: "")]
            await Self.expectInvalid("an owner without uid", containing: "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty") { _ = try await client.create(noUID) }
            var badFinalizer = ConfigMap(metadata: ObjectMeta(name: "fin", namespace: "default"))
            badFinalizer.metadata.finalizers = ["not a name"]
            await Self.expectInvalid("a bad finalizer", containing: "metadata.finalizers: Invalid value: \"not a name\"") { _ = try await client.create(badFinalizer) }
            var withVersion = ConfigMap(metadata: ObjectMeta(name: "rv", namespace: "default"))
            withVersion.metadata.resourceVersion = "5"
            await Self.expectInvalid("a create with a resourceVersion", code: 500, containing: "resourceVersion should not be set on objects to be created") { _ = try await client.create(withVersion) }

            var stored = try await client.create(ConfigMap(metadata: ObjectMeta(name: "ok", namespace: "default", finalizers: ["example.com/keep"])))
            var changedUID = stored
            changedUID.metadata.uid = "another"
            await Self.expectInvalid("a changed uid", containing: "metadata.uid: Invalid value: \"another\": field is immutable") { _ = try await client.update(changedUID) }
            stored.metadata.resourceVersion = "abc"
            await Self.expectInvalid("a non-numeric resourceVersion", code: 400, containing: "invalid resource version") { _ = try await client.update(stored) }
        }
    }

    @Test("a ConfigMap over 1 MiB is 422 Too long")
    func configMapSize() async throws {
        try await KubeSandbox.with { _, client in
            let big = ConfigMap(metadata: ObjectMeta(name: "big", namespace: "default"), data: ["a": String(repeating: "x", count: 600_000), "b": String(repeating: "y", count: 600_000)])
            await Self.expectInvalid("a 1.2 MB ConfigMap", containing: "Too long: must have at most 1048576 bytes") { _ = try await client.create(big) }
        }
    }

    @Test("a watch's DELETED event for an object that leaves its selector carries the last state it matched")
    func deletedOnLeavingSelector() async throws {
        try await KubeSandbox.with { _, client in
            var object = try await client.create(ConfigMap(metadata: ObjectMeta(name: "sel", namespace: "default", labels: ["app": "a"]), data: ["v": "matched"]))
            let stream = try await client.watch(ConfigMap.self, namespace: "default", options: WatchOptions(labelSelector: "app=a", resourceVersion: object.metadata.resourceVersion, allowWatchBookmarks: false))
            object.metadata.labels = ["app": "b"]
            object.data = ["v": "left"]
            _ = try await client.update(object)
            for try await event in stream {
                guard case .deleted(let last) = event else { Issue.record("\(event)"); break }
                #expect(last.data == ["v": "matched"])
                #expect(last.metadata.labels == ["app": "a"])
                break
            }
        }
    }

    @Test("a list at resourceVersion 0 ignores limit, as the watch cache serves it")
    func listAtZeroIgnoresLimit() async throws {
        try await KubeSandbox.with { _, client in
            for i in 0..<5 { _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "z\(i)", namespace: "default"))) }
            let page = try await client.list(ConfigMap.self, namespace: "default", options: ListOptions(limit: 2, resourceVersion: "0"))
            #expect(page.items.count == 5)
            #expect(page.metadata.continue == nil)
            #expect(try await client.list(ConfigMap.self, namespace: "default", options: ListOptions(limit: 2)).items.count == 2)
        }
    }
}

