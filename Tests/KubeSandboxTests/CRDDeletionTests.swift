import Foundation
import KubeClient
import KubeSandbox
import Testing

/// Deleting a CRD as apiextensions-apiserver does it (issue 17, item 13).
@Suite("CRD deletion")
struct CRDDeletionTests {
    @Test("deleting a CRD leaves it Terminating with its cleanup finalizer until its objects are gone; meanwhile a POST of a new object is 405 and an apply is 403")
    func terminatingCRD() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, try Fixtures.taskActionCRD())
            _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("free"))
            var held = Fixtures.taskAction("held")
            held["metadata"]?["finalizers"] = ["example.com/hold"]
            _ = try await client.create(Fixtures.taskActions, held)

            let response = try await client.raw(method: "DELETE", path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/taskactions.flyte.org")
            #expect(response.status == 200)
            let crd = try await client.get(Fixtures.crdType, name: "taskactions.flyte.org")
            #expect(crd.value(atPath: "metadata.deletionTimestamp") != nil)
            #expect(crd.value(atPath: "metadata.finalizers") == ["customresourcecleanup.apiextensions.k8s.io"])
            let terminating = crd.value(atPath: "status.conditions")?.arrayValue?.first { $0["type"] == "Terminating" }
            #expect(terminating?["status"] == "True" && terminating?["reason"] == "InstanceDeletionInProgress")
            // The object without finalizers is gone; the held one is being deleted.
            await #expect(throws: KubeAPIError.self) { _ = try await client.get(Fixtures.taskActions, name: "free", namespace: "default") }
            let stillHeld = try await client.get(Fixtures.taskActions, name: "held", namespace: "default")
            #expect(stillHeld.value(atPath: "metadata.deletionTimestamp") != nil)

            do {
                _ = try await client.create(Fixtures.taskActions, Fixtures.taskAction("late"))
                Issue.record("created while terminating")
            } catch let error as KubeAPIError {
                #expect(error.code == 405)
                #expect(error.status.message == "create not allowed while custom resource definition is terminating")
            }
            do {
                _ = try await client.patch(Fixtures.taskActions, name: "applied", namespace: "default", .apply(Fixtures.taskAction("applied"), fieldManager: "me"))
                Issue.record("applied while terminating")
            } catch let error as KubeAPIError {
                #expect(error.code == 403)
            }

            // The controller lets go: the object goes, then the CRD, and the kind is no longer served.
            _ = try await client.patch(Fixtures.taskActions, name: "held", namespace: "default", .merge(["metadata": ["finalizers": .null]]))
            await #expect(throws: KubeAPIError.self) { _ = try await client.get(Fixtures.crdType, name: "taskactions.flyte.org") }
            #expect(try await client.raw(method: "GET", path: "/apis/flyte.org/v1/namespaces/default/taskactions").status == 404)
        }
    }
}
