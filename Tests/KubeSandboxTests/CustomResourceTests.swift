import Foundation
import KubeClient
import KubeSandbox
import Testing

@Suite("Custom resources")
struct CustomResourceTests {
    func withTaskActions(_ body: (KubeSandbox, KubernetesClient) async throws -> Void) async throws {
        try await KubeSandbox.with { sandbox, client in
            _ = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            try await body(sandbox, client)
        }
    }

    func apiError(_ body: () async throws -> Void) async -> KubeAPIError? {
        do {
            try await body()
            return nil
        } catch {
            return error as? KubeAPIError
        }
    }

    @Test("creating a CRD serves its resource in discovery, and deleting it stops serving it")
    func discovery() async throws {
        try await KubeSandbox.with { _, client in
            let crd = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            #expect(crd.value(atPath: "status.conditions")?.arrayValue?.contains { $0["type"] == "Established" && $0["status"] == "True" } == true)
            let groups = try JSONValue.parse(try await client.raw(method: "GET", path: "/apis").body)
            #expect(groups["groups"]?.arrayValue?.contains { $0["name"] == "flyte.org" } == true)
            let resources = try JSONValue.parse(try await client.raw(method: "GET", path: "/apis/flyte.org/v1").body)
            #expect(resources["resources"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" }.sorted() == ["taskactions", "taskactions/status"])
            _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("t1"))
            try await client.delete(Fixtures.crdType, name: "taskactions.flyte.org")
            #expect(try await client.raw(method: "GET", path: "/apis/flyte.org/v1/namespaces/default/taskactions").status == 404)
        }
    }

    @Test("a valid TaskAction is accepted with generation 1 and no status")
    func accepted() async throws {
        try await withTaskActions { _, client in
            var body = Fixtures.taskAction("ok")
            body["status"] = ["attempts": 3]
            let created = try await client.create(Fixtures.taskActions, body)
            #expect(created.value(atPath: "metadata.generation") == 1)
            #expect(created["status"] == nil, "status is reset on create when it is a subresource")
        }
    }

    @Test("an object that breaks the schema is rejected with 422 and the field paths")
    func rejected() async throws {
        try await withTaskActions { _, client in
            let tooLong = await apiError { _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("bad", runName: String(repeating: "r", count: 31))) }
            #expect(tooLong?.code == 422)
            #expect(tooLong?.message == "TaskAction.flyte.org \"bad\" is invalid: spec.runName: Too long: may not be more than 30 bytes")
            #expect(tooLong?.status.details?.causes?.first?.field == "spec.runName")
            #expect(tooLong?.status.details?.causes?.first?.reason == "FieldValueTooLong")

            var missing = Fixtures.taskAction("missing")
            missing["spec"]?["domain"] = nil
            missing["spec"]?["project"] = nil
            let required = await apiError { _ = try await client.create(Fixtures.taskActions, missing) }
            #expect(required?.message == "TaskAction.flyte.org \"missing\" is invalid: [spec.domain: Required value, spec.project: Required value]")

            let wrongType = await apiError { _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("typed", extra: ["runName": 5])) }
            #expect(wrongType?.status.details?.causes?.first?.field == "spec.runName")
            #expect(wrongType?.message.contains("must be of type string") == true)

            let empty = await apiError { _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("empty", runName: "")) }
            #expect(empty?.message.contains("spec.runName in body should be at least 1 chars long") == true)
        }
    }

    @Test("unknown fields are pruned with a warning, or refused under fieldValidation=Strict")
    func pruning() async throws {
        try await withTaskActions { _, client in
            let created = try await client.create(Fixtures.taskActions, Fixtures.taskAction("pruned", extra: ["bogus": "x"]))
            #expect(created["spec"]?["bogus"] == nil)
            #expect(created.value(atPath: "spec.runName") == "run-1")
            let strict = await apiError { _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("strict", extra: ["bogus": "x"]), options: WriteOptions(fieldValidation: "Strict")) }
            #expect(strict?.code == 400)
            #expect(strict?.message.contains("strict decoding error: unknown field \"spec.bogus\"") == true)
        }
    }

    @Test("generation moves on spec changes only, and /status writes are validated too")
    func generation() async throws {
        try await withTaskActions { _, client in
            _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("g"))
            let labelled = try await client.patch(Fixtures.taskActions, name: "g", namespace: "default", .merge(["metadata": ["labels": ["a": "b"]]]))
            #expect(labelled.value(atPath: "metadata.generation") == 1)
            let status = try await client.patch(Fixtures.taskActions, name: "g", namespace: "default", .merge(["status": ["attempts": 2]]), subresource: "status")
            #expect(status.value(atPath: "metadata.generation") == 1)
            #expect(status.value(atPath: "status.attempts") == 2)
            let spec = try await client.patch(Fixtures.taskActions, name: "g", namespace: "default", .merge(["spec": ["taskType": "python"]]))
            #expect(spec.value(atPath: "metadata.generation") == 2)
            #expect(spec.value(atPath: "status.attempts") == 2, "the main endpoint keeps status")
            let badStatus = await apiError { _ = try await client.patch(Fixtures.taskActions, name: "g", namespace: "default", .merge(["status": ["attempts": "many"]]), subresource: "status") }
            #expect(badStatus?.isInvalid == true)
        }
    }

    @Test("a write that changes nothing keeps the resourceVersion and sends no event")
    func noOpWrite() async throws {
        try await withTaskActions { _, client in
            let created = try await client.create(Fixtures.taskActions, Fixtures.taskAction("n"))
            let same = try await client.patch(Fixtures.taskActions, name: "n", namespace: "default", .merge(["spec": ["runName": "run-1"]]))
            #expect(same.value(atPath: "metadata.resourceVersion") == created.value(atPath: "metadata.resourceVersion"))
        }
    }

    @Test("kubectl get is served as a Table with the CRD's printer columns")
    func table() async throws {
        try await withTaskActions { _, client in
            _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("t"))
            _ = try await client.patch(Fixtures.taskActions, name: "t", namespace: "default", .merge(["status": ["conditions": [
                ["type": "Progressing", "status": "True", "reason": "Executing", "message": "m", "lastTransitionTime": "2026-01-01T00:00:00Z"],
            ]]]), subresource: "status")
            let response = try await client.raw(method: "GET", path: "/apis/flyte.org/v1/namespaces/default/taskactions", accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
            let table = try JSONValue.parse(response.body)
            #expect(table["kind"] == "Table")
            let columns = table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(columns?.prefix(6) == ["Name", "Run", "Action", "TaskType", "Status", "Age"])
            let cells = table["rows"]?[0]?["cells"]?.arrayValue ?? []
            #expect(cells.prefix(5) == ["t", "run-1", "a0", "container", "Executing"])
            #expect(table["rows"]?[0]?["object"]?["kind"] == "PartialObjectMetadata")
        }
    }
}
