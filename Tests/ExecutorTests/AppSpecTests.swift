import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import Testing

/// The App's spec read into `flyteidl2.app.Spec` and the Knative Service built from it, field
/// for field as spec §9.2 and the facts sheet's test vector say.
@Suite("App spec and Knative Service")
struct AppSpecTests {
    /// The facts sheet's container app (fixtures/flyteidl2-app.md, "Test vector"), as its proto3 JSON.
    static let vectorFields: [String: JSONValue] = [
        "container": ["image": "ghcr.io/example/app:1.0", "args": ["serve", "--port", "8080"], "ports": [["containerPort": 8080, "name": "http"]]],
        "autoscaling": ["replicas": ["min": 1, "max": 3], "scaledownPeriod": "90s", "scalingMetric": ["concurrency": ["targetValue": 10]]],
        "desiredState": "DESIRED_STATE_ACTIVE",
    ]

    static func spec(_ fields: [String: JSONValue], name: String = "web", project: String = "flytesnacks", domain: String = "development") -> AppSpec {
        AppSpec(id: AppIdentifier(org: "acme", project: project, domain: domain, name: name), fields: fields)
    }

    static func app(_ spec: AppSpec) -> App {
        var metadata = ObjectMeta(name: "web", namespace: "apps")
        metadata.uid = "uid-1"
        return App(metadata: metadata, spec: spec)
    }

    @Test("the facts sheet's vector: the serialized Spec, flyte.org/spec and flyte.org/spec-sha are the bytes and digest Flyte computes")
    func specSHAVector() throws {
        let deployment = try AppSpecReader.read(Self.spec(Self.vectorFields))
        let hex = deployment.bytes.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "0a390a17676863722e696f2f6578616d706c652f6170703a312e301a0573657276651a062d2d706f72741a04383038303a0908903f1204687474701a100a04080110031202085a1a041202080a2803")
        #expect(deployment.specBase64 == "CjkKF2doY3IuaW8vZXhhbXBsZS9hcHA6MS4wGgVzZXJ2ZRoGLS1wb3J0GgQ4MDgwOgkIkD8SBGh0dHAaEAoECAEQAxICCFoaBBICCAooAw==")
        #expect(deployment.specSHA == "f1a4c65f0b6fe0fb")
        let service = KServiceBuilder(config: AppsConfig()).build(app: Self.app(Self.spec(Self.vectorFields)), deployment: deployment)
        #expect(service.value(atPath: "metadata.annotations")?["flyte.org/spec-sha"] == "f1a4c65f0b6fe0fb")
        #expect(service.value(atPath: "metadata.annotations")?["flyte.org/spec"] == .string(deployment.specBase64))
        #expect(service.value(atPath: "spec.template.metadata.annotations") == [
            "autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "3",
            "autoscaling.knative.dev/metric": "concurrency", "autoscaling.knative.dev/target": "10", "autoscaling.knative.dev/window": "1m30s",
        ])
    }

    @Test("every autoscaling row of §9.2 writes exactly its annotations, and none without autoscaling", arguments: [
        (JSONValue?.none, [String: String]()),
        (["replicas": ["min": 0, "max": 5]], ["autoscaling.knative.dev/min-scale": "0", "autoscaling.knative.dev/max-scale": "5"]),
        (["replicas": [:]], ["autoscaling.knative.dev/min-scale": "0", "autoscaling.knative.dev/max-scale": "0"]),
        (["scalingMetric": ["requestRate": ["targetValue": 250]]], ["autoscaling.knative.dev/metric": "rps", "autoscaling.knative.dev/target": "250"]),
        (["scalingMetric": ["requestRate": [:]]], ["autoscaling.knative.dev/metric": "rps", "autoscaling.knative.dev/target": "0"]),
        (["scalingMetric": ["concurrency": ["targetValue": 100]]], ["autoscaling.knative.dev/metric": "concurrency", "autoscaling.knative.dev/target": "100"]),
        (["scaledownPeriod": "30s"], ["autoscaling.knative.dev/window": "30s"]),
        (["scaledownPeriod": "60s"], ["autoscaling.knative.dev/window": "1m0s"]),
        (["scaledownPeriod": "3600s"], ["autoscaling.knative.dev/window": "1h0m0s"]),
        (["scaledownPeriod": "1.500s"], ["autoscaling.knative.dev/window": "1.5s"]),
        ([:], [:]),
    ] as [(JSONValue?, [String: String])])
    func autoscalingRows(autoscaling: JSONValue?, expected: [String: String]) throws {
        var fields: [String: JSONValue] = ["container": ["image": "nginx"]]
        fields["autoscaling"] = autoscaling
        let deployment = try AppSpecReader.read(Self.spec(fields))
        #expect(KServiceBuilder.autoscalingAnnotations(deployment.spec) == expected)
        let service = KServiceBuilder(config: AppsConfig()).build(app: Self.app(Self.spec(fields)), deployment: deployment)
        let written = service.value(atPath: "spec.template.metadata.annotations")?.objectValue?.mapValues { $0.stringValue ?? "" } ?? [:]
        #expect(written == expected)
    }

    @Test("the Service's name is lower-cased name-project-domain; past 63 characters its first 54, '-' and 8 hex digits of sha256(project/domain/name)")
    func serviceName() {
        #expect(KServiceBuilder.serviceName(AppIdentifier(project: "Flytesnacks", domain: "development", name: "Web")) == "web-flytesnacks-development")
        let long = KServiceBuilder.serviceName(AppIdentifier(project: "flytesnacks-project-with-a-rather-long-name", domain: "development", name: "my-very-long-application-name"))
        // Computed independently: python3 -c "import hashlib; print(hashlib.sha256(b'flytesnacks-project-with-a-rather-long-name/development/my-very-long-application-name').hexdigest()[:8])"
        #expect(long == "my-very-long-application-name-flytesnacks-project-with-e10650e5")
        #expect(long.count == 63)
    }

    @Test("metadata, owner, container, env order, timeout, service account and service links are §9.2's")
    func serviceShape() throws {
        var config = AppsConfig()
        config.defaultEnvVars = ["Z_LAST": "z", "A_FIRST": "a"]
        config.defaultServiceAccount = "apps-default"
        config.maxRequestTimeoutSeconds = 600
        let fields: [String: JSONValue] = [
            "container": ["image": "ghcr.io/example/app:2", "command": ["python"], "args": ["-m", "app"], "env": [["key": "USER_VAR", "value": "1"]],
                          "ports": [["containerPort": 8000]],
                          "resources": ["requests": [["name": "CPU", "value": "500m"], ["name": "MEMORY", "value": "1Gi"]], "limits": [["name": "EPHEMERAL_STORAGE", "value": "2Gi"], ["name": "STORAGE", "value": "1Gi"]]]],
            "timeouts": ["requestTimeout": "900s"],
        ]
        let spec = Self.spec(fields)
        let deployment = try AppSpecReader.read(spec)
        let service = KServiceBuilder(config: config).build(app: Self.app(spec), deployment: deployment)
        #expect(service["apiVersion"] == "serving.knative.dev/v1" && service["kind"] == "Service")
        #expect(service.value(atPath: "metadata.name") == "web-flytesnacks-development")
        #expect(service.value(atPath: "metadata.namespace") == "apps")
        #expect(service.value(atPath: "metadata.labels") == ["flyte.org/app-managed": "true", "flyte.org/project": "flytesnacks", "flyte.org/domain": "development", "flyte.org/app-name": "web"])
        #expect(service.value(atPath: "metadata.annotations")?["flyte.org/app-id"] == "flytesnacks/development/web")
        #expect(service.value(atPath: "metadata.annotations")?["flyte.org/app-org"] == "acme")
        #expect(service.value(atPath: "metadata.ownerReferences") == [["apiVersion": "flyte.org/v1", "kind": "App", "name": "web", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true]])
        let pod = service.value(atPath: "spec.template.spec")
        #expect(pod?["timeoutSeconds"] == 600, "900s capped at the configured 600")
        #expect(pod?["enableServiceLinks"] == false)
        #expect(pod?["serviceAccountName"] == "apps-default")
        #expect(service.value(atPath: "spec.template.metadata") == nil, "no autoscaling, no secrets: no template metadata")
        let container = pod?["containers"]?.arrayValue?.first
        #expect(container?["name"] == "app")
        #expect(container?["image"] == "ghcr.io/example/app:2")
        #expect(container?["command"] == ["python"])
        #expect(container?["args"] == ["-m", "app"])
        #expect(container?["ports"] == [["containerPort": 8000]])
        #expect(container?["resources"] == ["requests": ["cpu": "500m", "memory": "1Gi"], "limits": ["ephemeral-storage": "2Gi", "storage": "1Gi"]])
        let env = container?["env"]?.arrayValue?.compactMap { e -> String? in
            guard let name = e["name"]?.stringValue, let value = e["value"]?.stringValue else { return nil }
            return "\(name)=\(value)"
        }
        #expect(env == ["A_FIRST=a", "Z_LAST=z", "USER_VAR=1", "INTERNAL_APP_ENDPOINT_PATTERN=http://{app_fqdn}-flytesnacks-development.apps.svc.cluster.local",
                        "FLYTE_INTERNAL_EXECUTION_PROJECT=flytesnacks", "FLYTE_INTERNAL_EXECUTION_DOMAIN=development"])
    }

    @Test("the run-as ServiceAccount wins over the default; no request timeout gives the default; secrets add the injection labels and Flyte's annotations")
    func serviceAccountTimeoutSecrets() throws {
        var config = AppsConfig()
        config.defaultServiceAccount = "apps-default"
        let fields: [String: JSONValue] = [
            "container": ["image": "nginx"],
            "securityContext": ["runAs": ["k8sServiceAccount": "model-server"], "secrets": [["group": "hf-token", "key": "token"]]],
        ]
        let deployment = try AppSpecReader.read(Self.spec(fields))
        let service = KServiceBuilder(config: config).build(app: Self.app(Self.spec(fields)), deployment: deployment)
        #expect(service.value(atPath: "spec.template.spec.serviceAccountName") == "model-server")
        #expect(service.value(atPath: "spec.template.spec.timeoutSeconds") == 300)
        #expect(service.value(atPath: "spec.template.metadata.labels") == ["organization": "flyte", "project": "flytesnacks", "domain": "development", "inject-flyte-secrets": "true"])
        // base32 of `group: "hf-token"\nkey: "token"\n` in Flyte's alphabet (SecretAnnotationsTests says how it was computed).
        #expect(service.value(atPath: "spec.template.metadata.annotations") == ["flyte.secrets/s0": "m4zg54lqhiqce1dgfv1g512fnyrau12fpe4caitun4vwk2rcbi"])
    }

    @Test("a pod payload is used as it is, with its labels and annotations on the template")
    func podPayload() throws {
        let fields: [String: JSONValue] = ["pod": [
            "metadata": ["labels": ["team": "ml"], "annotations": ["note": "x"]],
            "podSpec": ["containers": [["name": "server", "image": "vllm/vllm-openai:v0.6", "env": [["name": "MODEL", "value": "llama"]]], ["name": "sidecar", "image": "busybox"]], "enableServiceLinks": true],
            "primaryContainerName": "server",
        ]]
        let deployment = try AppSpecReader.read(Self.spec(fields))
        let service = KServiceBuilder(config: AppsConfig()).build(app: Self.app(Self.spec(fields)), deployment: deployment)
        let pod = service.value(atPath: "spec.template.spec")
        #expect(pod?["containers"]?.arrayValue?.map { $0["name"] } == ["server", "sidecar"])
        #expect(pod?["enableServiceLinks"] == true, "the pod's own choice is kept")
        #expect(pod?["containers"]?[0]?["env"]?.arrayValue?.first == ["name": "MODEL", "value": "llama"])
        #expect(service.value(atPath: "spec.template.metadata.labels") == ["team": "ml"])
        #expect(service.value(atPath: "spec.template.metadata.annotations") == ["note": "x"])
    }

    @Test("specs the CRD schema cannot refuse fail with the field named", arguments: [
        (["autoscaling": ["scalingMetric": ["concurrency": ["targetValue": 0]]], "container": ["image": "nginx"]], "spec.autoscaling.scalingMetric.concurrency.targetValue: must be greater than 0"),
        (["container": ["image": "nginx"], "timeouts": ["requestTimeout": "3601s"]], "spec.timeouts.requestTimeout: must be 0s to 3600s, not 1h0m1s"),
        (["autoscaling": [:]], "spec: exactly one of container or pod must be set"),
        (["container": ["image": "nginx", "bogus": 1]], "spec: is not a flyteidl2.app.Spec in proto3 JSON: unknown field \"bogus\""),
        (["container": ["image": ""]], "spec.container.image: is required"),
        (["container": ["image": "nginx"], "autoscaling": ["scalingMetric": [:]]], "spec.autoscaling.scalingMetric: exactly one of requestRate or concurrency must be set"),
        (["container": ["image": "nginx"], "inputs": ["items": [["name": "a", "stringValue": "x"], ["name": "a", "stringValue": "y"]]]], "spec.inputs.items[1].name: \"a\" is not unique"),
        (["container": ["image": "nginx"], "securityContext": ["secrets": [["key": "k", "mountRequirement": 7]]]], "spec.securityContext.secrets: invalid mount requirement [7]"),
    ] as [([String: JSONValue], String)])
    func invalidSpecs(fields: [String: JSONValue], message: String) {
        #expect(throws: AppSpecError.self) { try AppSpecReader.read(Self.spec(fields)) }
        do {
            _ = try AppSpecReader.read(Self.spec(fields))
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("names outside 1-30 letters, digits and inner dashes are refused")
    func names() {
        for bad in ["-web", "web-", "we_b", "wéb", "web\n", "w b", String(repeating: "a", count: 31), ""] {
            #expect(throws: AppSpecError.self, "\(bad)") { try AppSpecReader.read(Self.spec(["container": ["image": "nginx"]], name: bad)) }
        }
        for good in ["Web-2", "w", "9", "a--b", String(repeating: "a", count: 30)] {
            #expect(throws: Never.self, "\(good)") { try AppSpecReader.read(Self.spec(["container": ["image": "nginx"]], name: good)) }
        }
    }
}
