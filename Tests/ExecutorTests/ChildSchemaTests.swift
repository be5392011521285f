import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import KubeSandbox
import Testing
@testable import TaskPlugins

/// The children the plugins build are accepted by the real CRDs' schemas (structural schema,
/// CEL rules) without a field pruned: what `kubectl apply` of them would meet on a cluster.
@Suite("Children against the real CRDs")
struct ChildSchemaTests {
    static func created(_ client: KubernetesClient, _ type: ResourceType, _ child: JSONValue, name: String) async throws -> RawResponse {
        var body = child
        body["metadata"]?["name"] = .string(name)
        body["metadata"]?["namespace"] = "default"
        return try await client.raw(method: "POST", path: type.path(namespace: "default"), query: [("fieldValidation", "Strict")], body: body.serialized(), contentType: "application/json")
    }

    @Test("the Spark and Ray vectors' children, with and without pod templates and with every Ray option, are created under fieldValidation=Strict")
    func accepted() async throws {
        try await KubeSandbox.with { _, client in
            try await SimulatedOperators.installCRDs([.spark, .ray], client: client)
            let spark = SparkPlugin()
            for (i, templates) in [true, false].enumerated() {
                spark.assumeTemplateSupport(templates)
                var app = try spark.build(try SparkPluginTests.context(try SparkPluginTests.template()))
                if !templates { app.spec?["sparkVersion"] = "3.5.1" }  // the CRD requires it; Flyte sets it only with templates
                let response = try await Self.created(client, SparkApplication.resourceType, try JSONValueEncoder().encode(app), name: "spark-\(i)")
                #expect(response.status == 201, "\(String(decoding: response.body, as: UTF8.self))")
                #expect(response.warnings.isEmpty, "\(response.warnings)")
            }
            var rayTemplate = try RayPluginTests.template()
            rayTemplate.custom = try .init(jsonString: #"{"rayCluster":{"headGroupSpec":{"rayStartParams":{"num-cpus":"1"}},"workerGroupSpec":[{"groupName":"w","replicas":1,"minReplicas":1,"maxReplicas":2}],"enableAutoscaling":true,"autoscalerOptions":{"upscalingMode":"UPSCALING_MODE_CONSERVATIVE","idleTimeoutSeconds":30,"image":"autoscaler:1","env":[{"key":"A","value":"b"}]}},"runtimeEnvYaml":"pip: [numpy]","shutdownAfterJobFinishes":true,"ttlSecondsAfterFinished":60}"#)
            for (i, template) in [try RayPluginTests.template(), rayTemplate].enumerated() {
                let job = try RayPlugin().build(try RayPluginTests.context(template))
                let response = try await Self.created(client, RayJob.resourceType, try JSONValueEncoder().encode(job), name: "ray-\(i)")
                #expect(response.status == 201, "\(String(decoding: response.body, as: UTF8.self))")
                #expect(response.warnings.isEmpty, "\(response.warnings)")
            }
        }
    }
}
