import Foundation
import KubeClient
@testable import KubeSandbox
import KubeRuntimeTesting
import Testing

/// Content negotiation, discovery and tables as kube-apiserver 1.36 serves them (issue 17,
/// items 14 and 15).
@Suite("Content negotiation and discovery")
struct ContentNegotiationTests {
    static let metadataAccept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

    @Test("metadata-only requests get PartialObjectMetadata and PartialObjectMetadataList, watches included; an Accept the server cannot serve is 406")
    func partialObjectMetadata() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "c", namespace: "default", labels: ["a": "b"]), data: ["big": "value"]))
            let one = try await client.raw(method: "GET", path: "/api/v1/namespaces/default/configmaps/c", accept: Self.metadataAccept)
            let object = try JSONValue.parse(one.body)
            #expect(object["kind"] == "PartialObjectMetadata" && object["apiVersion"] == "meta.k8s.io/v1")
            #expect(object.value(atPath: "metadata.labels.a") == "b" && object["data"] == nil)

            let list = try JSONValue.parse(try await client.raw(method: "GET", path: "/api/v1/namespaces/default/configmaps", accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json").body)
            #expect(list["kind"] == "PartialObjectMetadataList")
            #expect(list["items"]?.arrayValue?.first?["kind"] == "PartialObjectMetadata" && list["items"]?.arrayValue?.first?["data"] == nil)

            let watch = try await client.raw(method: "GET", path: "/api/v1/namespaces/default/configmaps", query: [("watch", "true"), ("timeoutSeconds", "1")], accept: Self.metadataAccept)
            let first = try JSONValue.parse(String(decoding: watch.body, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "")
            #expect(first.value(atPath: "object.kind") == "PartialObjectMetadata" && first.value(atPath: "object.data") == nil)

            let refused = try await client.raw(method: "GET", path: "/api/v1/namespaces/default/configmaps/c", accept: "application/xml")
            #expect(refused.status == 406)
            #expect(try JSONValue.parse(refused.body)["reason"] == "NotAcceptable")
            let yaml = try await client.raw(method: "GET", path: "/api/v1/namespaces/default/configmaps/c", accept: "application/yaml")
            #expect(yaml.contentType == "application/yaml" && String(decoding: yaml.body, as: UTF8.self).contains("big: value"))
        }
    }

    @Test("aggregated discovery (apidiscovery.k8s.io/v2) lists every group, version and resource; /version says 1.36; jobs, nodes, endpoints and endpointslices are served; /openapi/v2 answers")
    func discovery() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
            let apis = try await client.raw(method: "GET", path: "/apis", accept: accept)
            #expect(apis.contentType == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
            let groups = try JSONValue.parse(apis.body)
            #expect(groups["kind"] == "APIGroupDiscoveryList")
            let flyte = groups["items"]?.arrayValue?.first { $0.value(atPath: "metadata.name") == "flyte.org" }
            let taskActions = flyte?.value(atPath: "versions")?.arrayValue?.first?["resources"]?.arrayValue?.first { $0["resource"] == "taskactions" }
            #expect(taskActions?["scope"] == "Namespaced" && taskActions?.value(atPath: "responseKind.kind") == "TaskAction")
            #expect(taskActions?["subresources"]?.arrayValue?.first?["subresource"] == "status")
            let batch = groups["items"]?.arrayValue?.first { $0.value(atPath: "metadata.name") == "batch" }
            #expect(batch?.value(atPath: "versions")?.arrayValue?.first?["resources"]?.arrayValue?.contains { $0["resource"] == "jobs" } == true)

            let core = try JSONValue.parse(try await client.raw(method: "GET", path: "/api", accept: accept).body)
            let coreResources = Set(core["items"]?.arrayValue?.first?["versions"]?.arrayValue?.first?["resources"]?.arrayValue?.compactMap { $0["resource"]?.stringValue } ?? [])
            #expect(coreResources.isSuperset(of: ["pods", "nodes", "endpoints", "configmaps", "events"]))
            // A client that does not ask for it gets the legacy documents.
            #expect(try JSONValue.parse(try await client.raw(method: "GET", path: "/apis").body)["kind"] == "APIGroupList")
            #expect(try JSONValue.parse(try await client.raw(method: "GET", path: "/apis/discovery.k8s.io/v1").body)["resources"]?.arrayValue?.contains { $0["name"] == "endpointslices" } == true)

            let version = try JSONValue.parse(try await client.raw(method: "GET", path: "/version").body)
            #expect(version["major"] == "1" && version["minor"] == "36")
            let swagger = try JSONValue.parse(try await client.raw(method: "GET", path: "/openapi/v2").body)
            #expect(swagger["swagger"] == "2.0")
            #expect(swagger.value(atPath: "definitions")?["org.flyte.v1.TaskAction"] != nil)
            let node = try await client.get(ResourceType(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false), name: SimulatedKubelet.nodeName)
            #expect(node.value(atPath: "status.conditions")?.arrayValue?.first?["type"] == "Ready")
        }
    }

    @Test("a custom resource's date printer column shows an age (duration.HumanDuration), and Pods' -o wide columns IP and NODE follow AGE")
    func tableColumns() async throws {
        #expect(HumanDuration.format(seconds: 90) == "90s")
        #expect(HumanDuration.format(seconds: 330) == "5m30s")
        #expect(HumanDuration.format(seconds: 600) == "10m")
        #expect(HumanDuration.format(seconds: 3 * 3600 + 12 * 60) == "3h12m")
        #expect(HumanDuration.format(seconds: 50 * 3600) == "2d2h")
        #expect(HumanDuration.format(seconds: 400 * 86400) == "400d")
        #expect(HumanDuration.format(seconds: 800 * 86400) == "2y70d")
        var options = KubeSandbox.Options()
        options.kubelet = true
        try await KubeSandbox.with(options) { _, client in
            _ = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("aged"))
            let table = try JSONValue.parse(try await client.raw(method: "GET", path: "/apis/flyte.org/v1/namespaces/default/taskactions", accept: "application/json;as=Table;v=v1;g=meta.k8s.io").body)
            let columns = table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            let ageIndex = try #require(columns.firstIndex(of: "Age"))
            let cell = table["rows"]?.arrayValue?.first?["cells"]?.arrayValue?[ageIndex].stringValue ?? ""
            #expect(cell.hasSuffix("s") && Int(cell.dropLast()) != nil, "an age like 0s, got \(cell)")

            _ = try await client.create(Pod(metadata: ObjectMeta(name: "w", namespace: "default"), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")])))
            try await eventually("running") { (try? await client.get(Pod.self, name: "w", namespace: "default"))?.status?.podIP != nil }
            let pods = try JSONValue.parse(try await client.raw(method: "GET", path: "/api/v1/namespaces/default/pods", accept: "application/json;as=Table;v=v1;g=meta.k8s.io").body)
            let names = pods["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"])
            let row = pods["rows"]?.arrayValue?.first?["cells"]?.arrayValue ?? []
            #expect(row.count == names.count)
            #expect(row[6] == .string(SimulatedKubelet.nodeName))
            #expect(row[5].stringValue?.hasPrefix("10.244.") == true)
        }
    }

    @Test("error texts match kube-apiserver's: preconditions, JSON patch and label selectors")
    func errorTexts() async throws {
        try await KubeSandbox.with { _, client in
            let created = try await client.create(ConfigMap(metadata: ObjectMeta(name: "e", namespace: "default"), data: ["a": "b"]))
            let uid = created.metadata.uid ?? ""
            do {
                try await client.delete(ConfigMap.self, name: "e", namespace: "default", options: DeleteOptions(preconditionUID: "not-it"))
                Issue.record("deleted")
            } catch let error as KubeAPIError {
                #expect(error.code == 409)
                #expect(error.status.message == #"Operation cannot be fulfilled on configmaps "e": Precondition failed: UID in precondition: not-it, UID in object meta: \#(uid)"#)
            }
            do {
                _ = try await client.patch(ConfigMap.resourceType, name: "e", namespace: "default", .json([JSONPatchOperation(op: .test, path: "/data/a", value: "c")]))
                Issue.record("patched")
            } catch let error as KubeAPIError {
                #expect(error.code == 422)
                #expect(error.status.message == "the server rejected our request due to an error in our request: testing value /data/a failed: test failed")
            }
            let selector = try await client.raw(method: "GET", path: "/api/v1/namespaces/default/configmaps", query: [("labelSelector", "a b")])
            #expect(selector.status == 400)
            #expect(try JSONValue.parse(selector.body)["message"] == "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")
        }
    }
}
