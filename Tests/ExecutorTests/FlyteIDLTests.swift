import FlyteIDL
import Foundation
import SwiftProtobuf
import Testing

@Suite("FlyteIDL test vectors")
struct FlyteIDLTests {
    @Test("decodes the container task vector")
    func container() throws {
        let t = try Flyteidl2_Core_TaskTemplate(serializedBytes: try #require(Data(base64Encoded: Fixtures.containerTemplateBase64)))
        #expect(t.id.resourceType == .task)
        #expect([t.id.project, t.id.domain, t.id.name, t.id.version] == ["p", "d", "t", "v1"])
        #expect(t.type == "container")
        #expect(t.metadata.retries.retries == 2)
        guard case .container(let c) = t.target else { Issue.record("no container target"); return }
        #expect(c.image == "busybox:1.36")
        #expect(c.command == ["sh", "-c"])
        #expect(c.args == ["echo hello"])
        #expect(c.resources.requests.map(\.name) == [.cpu, .memory])
        #expect(c.resources.requests.map(\.value) == ["100m", "64Mi"])
        #expect(try t.serializedBytes() == Data(base64Encoded: Fixtures.containerTemplateBase64))
    }

    @Test("decodes the Spark vector and its custom payload")
    func spark() throws {
        let b64 = "ChUIARIBcBoBZCIHc3BhcmtfdCoCdjESBXNwYXJrKqEBChsKD2FwcGxpY2F0aW9uVHlwZRIIGgZQWVRIT04KMwoTbWFpbkFwcGxpY2F0aW9uRmlsZRIcGhpsb2NhbDovLy9vcHQvZW50cnlwb2ludC5weQpNCglzcGFya0NvbmYSQCo+ChsKE3NwYXJrLmRyaXZlci5tZW1vcnkSBBoCMWcKHwoYc3BhcmsuZXhlY3V0b3IuaW5zdGFuY2VzEgMaATIySgoLc3Bhcms6My41LjEaAmEwGggtLWlucHV0cxoKe3suaW5wdXR9fRoOLS1vdXRwdXRzLXBhdGgaEXt7Lm91dHB1dFByZWZpeH19"
        let t = try Flyteidl2_Core_TaskTemplate(serializedBytes: try #require(Data(base64Encoded: b64)))
        #expect(t.type == "spark")
        #expect(t.id.name == "spark_t")
        #expect(t.container.image == "spark:3.5.1")
        #expect(t.container.args == ["a0", "--inputs", "{{.input}}", "--outputs-path", "{{.outputPrefix}}"])
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        let job = try Flyteidl2_Plugins_SparkJob(jsonString: try t.custom.jsonString(), options: options)
        #expect(job.applicationType == .python)
        #expect(job.mainApplicationFile == "local:///opt/entrypoint.py")
        #expect(job.sparkConf == ["spark.driver.memory": "1g", "spark.executor.instances": "2"])
    }

    @Test("decodes the Ray vector and its custom payload")
    func ray() throws {
        let b64 = "ChMIARIBcBoBZCIFcmF5X3QqAnYxEgNyYXkqlQIKzAEKCnJheUNsdXN0ZXISvQEqugEKOgoNaGVhZEdyb3VwU3BlYxIpKicKJQoOcmF5U3RhcnRQYXJhbXMSEyoRCg8KCG51bS1jcHVzEgMaATEKfAoPd29ya2VyR3JvdXBTcGVjEmkyZwplKmMKFgoJZ3JvdXBOYW1lEgkaB3dvcmtlcnMKGAoLbWF4UmVwbGljYXMSCREAAAAAAAAIQAoYCgttaW5SZXBsaWNhcxIJEQAAAAAAAPA/ChUKCHJlcGxpY2FzEgkRAAAAAAAAAEAKHgoYc2h1dGRvd25BZnRlckpvYkZpbmlzaGVzEgIgAQokChd0dGxTZWNvbmRzQWZ0ZXJGaW5pc2hlZBIJEQAAAAAAIKxAMlMKFHJheXByb2plY3QvcmF5OjIuOS4wGgJhMBoILS1pbnB1dHMaCnt7LmlucHV0fX0aDi0tb3V0cHV0cy1wYXRoGhF7ey5vdXRwdXRQcmVmaXh9fQ=="
        let t = try Flyteidl2_Core_TaskTemplate(serializedBytes: try #require(Data(base64Encoded: b64)))
        #expect(t.type == "ray")
        #expect(t.container.image == "rayproject/ray:2.9.0")
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        let job = try Flyteidl2_Plugins_RayJob(jsonString: try t.custom.jsonString(), options: options)
        #expect(job.rayCluster.headGroupSpec.rayStartParams == ["num-cpus": "1"])
        let worker = try #require(job.rayCluster.workerGroupSpec.first)
        #expect(worker.groupName == "workers")
        #expect([worker.replicas, worker.minReplicas, worker.maxReplicas] == [2, 1, 3])
        #expect(job.shutdownAfterJobFinishes)
        #expect(job.ttlSecondsAfterFinished == 3600)
    }
}
