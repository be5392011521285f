import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import TaskPlugins

/// Heap bytes per cached SparkApplication and RayJob: what the plugins' informers keep of each
/// child, after decoding the object as the API server sends it (spec, operator status,
/// managedFields) and applying the plugin's cache transform.
enum ChildCacheBench {
    struct Result {
        var kind: String
        var wireBytes: Int
        var heapPerObject: Int
    }

    /// The Spark vector of flyteidl2-facts §7.2, and the Ray one of §7.3.
    static let sparkVector = "ChUIARIBcBoBZCIHc3BhcmtfdCoCdjESBXNwYXJrKqEBChsKD2FwcGxpY2F0aW9uVHlwZRIIGgZQWVRIT04KMwoTbWFpbkFwcGxpY2F0aW9uRmlsZRIcGhpsb2NhbDovLy9vcHQvZW50cnlwb2ludC5weQpNCglzcGFya0NvbmYSQCo+ChsKE3NwYXJrLmRyaXZlci5tZW1vcnkSBBoCMWcKHwoYc3BhcmsuZXhlY3V0b3IuaW5zdGFuY2VzEgMaATIySgoLc3Bhcms6My41LjEaAmEwGggtLWlucHV0cxoKe3suaW5wdXR9fRoOLS1vdXRwdXRzLXBhdGgaEXt7Lm91dHB1dFByZWZpeH19"
    static let rayVector = "ChMIARIBcBoBZCIFcmF5X3QqAnYxEgNyYXkqlQIKzAEKCnJheUNsdXN0ZXISvQEqugEKOgoNaGVhZEdyb3VwU3BlYxIpKicKJQoOcmF5U3RhcnRQYXJhbXMSEyoRCg8KCG51bS1jcHVzEgMaATEKfAoPd29ya2VyR3JvdXBTcGVjEmkyZwplKmMKFgoJZ3JvdXBOYW1lEgkaB3dvcmtlcnMKGAoLbWF4UmVwbGljYXMSCREAAAAAAAAIQAoYCgttaW5SZXBsaWNhcxIJEQAAAAAAAPA/ChUKCHJlcGxpY2FzEgkRAAAAAAAAAEAKHgoYc2h1dGRvd25BZnRlckpvYkZpbmlzaGVzEgIgAQokChd0dGxTZWNvbmRzQWZ0ZXJGaW5pc2hlZBIJEQAAAAAAIKxAMlMKFHJheXByb2plY3QvcmF5OjIuOS4wGgJhMBoILS1pbnB1dHMaCnt7LmlucHV0fX0aDi0tb3V0cHV0cy1wYXRoGhF7ey5vdXRwdXRQcmVmaXh9fQ=="

    /// The child of the `i`th TaskAction as the API server would send it once its operator ran it.
    static func object<Plugin: KubernetesTaskPlugin>(_ plugin: Plugin, vector: String, type: String, i: Int, status: JSONValue) throws -> [UInt8] {
        let template = try Flyteidl2_Core_TaskTemplate(serializedBytes: Data(base64Encoded: vector) ?? Data())
        var spec = TaskActionSpec(runName: "run-\(i / 10)", project: "flytesnacks", domain: "development", actionName: "a\(i)", taskType: type, taskTemplate: try template.serializedBytes(), inputUri: "s3://bucket/metadata/run-\(i / 10)/a\(i)", runOutputBase: "s3://bucket/data/run-\(i / 10)")
        spec.envVars = ["TEAM": "ml"]
        let action = TaskAction(metadata: ObjectMeta(name: "run-\(i / 10)-a\(i)", namespace: "flytesnacks-development", labels: ["flyte.org/run": "run-\(i / 10)"]), spec: spec)
        let context = TaskExecutionContext(taskAction: action, template: template, properties: plugin.properties, config: PluginConfig())
        var child = try JSONValueEncoder().encode(try plugin.build(context))
        child["metadata"] = [
            "name": .string(context.generatedName), "namespace": "flytesnacks-development", "uid": .string(UUID().uuidString.lowercased()),
            "resourceVersion": .string(String(100_000 + i)), "generation": 1, "creationTimestamp": "2026-11-29T10:00:00Z",
            "labels": .object(context.labels.mapValues(JSONValue.string)), "annotations": .object(context.annotations.mapValues(JSONValue.string)),
            "ownerReferences": [["apiVersion": "flyte.org/v1", "kind": "TaskAction", "name": .string(action.metadata.name ?? ""), "uid": .string(UUID().uuidString.lowercased()), "controller": true, "blockOwnerDeletion": true]],
            "managedFields": [["manager": "executor", "operation": "Update", "apiVersion": "v1", "time": "2026-11-29T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": ["f:spec": [:]]],
                              ["manager": "operator", "operation": "Update", "apiVersion": "v1", "time": "2026-11-29T10:00:05Z", "fieldsType": "FieldsV1", "subresource": "status", "fieldsV1": ["f:status": [:]]]],
        ]
        child["status"] = status
        return child.serialized()
    }

    static func measure<Plugin: KubernetesTaskPlugin>(_ plugin: Plugin, kind: String, vector: String, type: String, count: Int, status: (Int) -> JSONValue) throws -> Result {
        let wire = try (0..<count).map { try object(plugin, vector: vector, type: type, i: $0, status: status($0)) }
        let decoder = plugin.cacheDecoder ?? JSONBytesDecoder()
        Memory.trim()
        let before = Memory.heapInUse()
        var cache: [Plugin.Child] = []
        cache.reserveCapacity(count)
        for bytes in wire {
            var child = try decoder.decode(Plugin.Child.self, from: bytes)
            child.metadata.managedFields = nil
            plugin.cacheTransform?(&child)
            cache.append(child)
        }
        Memory.trim()
        let after = Memory.heapInUse()
        let perObject = (after - before - cache.capacity * MemoryLayout<Plugin.Child>.stride) / count + MemoryLayout<Plugin.Child>.stride
        withExtendedLifetime(cache) {}
        return Result(kind: kind, wireBytes: wire.reduce(0) { $0 + $1.count } / count, heapPerObject: perObject)
    }

    static func run(count: Int) throws -> [Result] {
        let spark = SparkPlugin()
        spark.assumeTemplateSupport(true)
        return [
            try measure(spark, kind: "SparkApplication", vector: sparkVector, type: "spark", count: count) { i in
                ["applicationState": ["state": "RUNNING"], "driverInfo": ["podName": .string("run-\(i / 10)-a\(i)-0-driver"), "webUIAddress": "10.96.1.2:4040", "webUIPort": 4040, "webUIServiceName": .string("run-\(i / 10)-a\(i)-0-ui-svc")],
                 "executorState": ["exec-1": "RUNNING", "exec-2": "RUNNING"], "executionAttempts": 1, "submissionAttempts": 1,
                 "lastSubmissionAttemptTime": "2026-11-29T10:00:01Z", "sparkApplicationId": .string("spark-\(UUID().uuidString.prefix(12))"), "submissionID": .string(UUID().uuidString)]
            },
            try measure(RayPlugin(), kind: "RayJob", vector: rayVector, type: "ray", count: count) { i in
                ["jobDeploymentStatus": "Running", "jobStatus": "RUNNING", "rayClusterName": .string("run-\(i / 10)-a\(i)-0-x7k2p"), "jobId": .string("run-\(i / 10)-a\(i)-0-q8w3e"),
                 "dashboardURL": "run-head-svc.flytesnacks-development.svc.cluster.local:8265", "startTime": "2026-11-29T10:00:01Z", "observedGeneration": 1,
                 "rayClusterStatus": ["state": "ready", "availableWorkerReplicas": 2, "desiredWorkerReplicas": 2, "readyWorkerReplicas": 2, "desiredCPU": "3", "desiredMemory": "6Gi"]]
            },
        ]
    }
}
