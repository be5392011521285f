import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient
import KubeSandbox
import Testing

@Suite("Install manifests")
struct InstallManifestTests {
    static var installYAML: String { Fixtures.repositoryRoot + "/dist/install.yaml" }

    static func documents() throws -> [JSONValue] {
        try JSONValue.documents(yaml: try String(contentsOfFile: installYAML, encoding: .utf8))
    }

    static func renderer() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            for tool in ["kustomize", "kubectl"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(tool)") { return tool }
        }
        return nil
    }

    @Test("dist/install.yaml is what make build-installer renders from config/default")
    func current() async throws {
        guard Self.renderer() != nil else {
            print("skipped: neither kustomize nor kubectl is installed to render config/default")
            return
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("install-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let built = try await ChildProcess.run("/bin/bash", [Fixtures.repositoryRoot + "/hack/build-installer.sh", "executor:0.1.0"], environment: ProcessInfo.processInfo.environment.merging(["OUT": out]) { $1 })
        #expect(built.status == 0, "\(String(decoding: built.stderr, as: UTF8.self))")
        let rendered = try String(contentsOfFile: out, encoding: .utf8)
        #expect(rendered == (try String(contentsOfFile: Self.installYAML, encoding: .utf8)), "dist/install.yaml is stale: run `make build-installer`")
    }

    @Test("the installer carries the generated CRD, least-privilege RBAC and a restricted-profile Deployment")
    func contents() throws {
        let docs = try Self.documents()
        let byKind = Dictionary(grouping: docs) { $0["kind"]?.stringValue ?? "" }
        #expect(byKind["CustomResourceDefinition"] == [AppSchema.crd, TaskActionSchema.crd] || byKind["CustomResourceDefinition"] == [TaskActionSchema.crd, AppSchema.crd])
        #expect(byKind["Namespace"]?.first?.value(atPath: "metadata.name")?.stringValue == "executor-system")

        let manager = try #require(byKind["ClusterRole"]?.first { $0.value(atPath: "metadata.name")?.stringValue == "executor-manager-role" })
        var grants: [String: Set<String>] = [:]
        for rule in manager["rules"]?.arrayValue ?? [] {
            for group in rule["apiGroups"]?.arrayValue ?? [] {
                for resource in rule["resources"]?.arrayValue ?? [] {
                    grants["\(group.stringValue ?? "")/\(resource.stringValue ?? "")", default: []].formUnion((rule["verbs"]?.arrayValue ?? []).compactMap(\.stringValue))
                }
            }
        }
        #expect(grants == [
            "/pods": ["create", "delete", "get", "list", "patch", "watch"],
            "/podtemplates": ["get"],
            "events.k8s.io/events": ["create", "patch"],
            "flyte.org/taskactions": ["delete", "list", "patch", "watch"],
            "flyte.org/taskactions/status": ["patch"],
            "flyte.org/taskactions/finalizers": ["update"],
            "sparkoperator.k8s.io/sparkapplications": ["create", "delete", "get", "list", "patch", "watch"],
            "ray.io/rayjobs": ["create", "delete", "get", "list", "patch", "watch"],
            "kubeflow.org/pytorchjobs": ["create", "delete", "get", "list", "patch", "watch"],
            "kubeflow.org/tfjobs": ["create", "delete", "get", "list", "patch", "watch"],
            "kubeflow.org/mpijobs": ["create", "delete", "get", "list", "patch", "watch"],
            "kubernetes.dask.org/daskjobs": ["create", "delete", "get", "list", "patch", "watch"],
            "jobset.x-k8s.io/jobsets": ["create", "delete", "get", "list", "patch", "watch"],
            "apiextensions.k8s.io/customresourcedefinitions": ["get", "list", "watch"],
            "flyte.org/apps": ["list", "watch"],
            "flyte.org/apps/status": ["update"],
            "flyte.org/apps/finalizers": ["update"],
            "serving.knative.dev/services": ["create", "list", "patch", "update", "watch"],
            "serving.knative.dev/revisions": ["delete", "list", "watch"],
        ])
        // Reading CRDs is limited by name: the SparkApplication CRD (read), and the kinds the
        // executor may wait for (listed and watched by name while missing).
        let crdRules = manager["rules"]?.arrayValue?.filter { $0["resources"] == ["customresourcedefinitions"] } ?? []
        #expect(crdRules.first { $0["verbs"] == ["get"] }?["resourceNames"] == ["sparkapplications.sparkoperator.k8s.io"])
        #expect(crdRules.first { $0["verbs"] == ["list", "watch"] }?["resourceNames"] == ["apps.flyte.org", "daskjobs.kubernetes.dask.org", "jobsets.jobset.x-k8s.io", "mpijobs.kubeflow.org", "pytorchjobs.kubeflow.org", "rayjobs.ray.io", "services.serving.knative.dev", "sparkapplications.sparkoperator.k8s.io", "tfjobs.kubeflow.org"])
        #expect(crdRules.allSatisfy { $0["resourceNames"] != nil })
        #expect(!grants.values.contains { $0.contains("*") } && !grants.keys.contains { $0.contains("*") || $0.hasSuffix("/secrets") })
        let aggregated = (byKind["ClusterRole"] ?? []).compactMap { $0.value(atPath: "metadata.labels")?.objectValue?.keys.first { $0.hasPrefix("rbac.authorization.k8s.io/aggregate-to-") } }
        #expect(Set(aggregated) == ["rbac.authorization.k8s.io/aggregate-to-admin", "rbac.authorization.k8s.io/aggregate-to-edit", "rbac.authorization.k8s.io/aggregate-to-view"])

        let deployment = try #require(byKind["Deployment"]?.first)
        let pod = try #require(deployment.value(atPath: "spec.template.spec"))
        let container = try #require(pod["containers"]?.arrayValue?.first)
        #expect(container["args"] == ["run", "--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080", "--config=/etc/executor/config.yaml"])
        #expect(container["volumeMounts"] == [["name": "config", "mountPath": "/etc/executor", "readOnly": true]])
        #expect(pod["volumes"] == [["name": "config", "configMap": ["name": "executor-config"]]])

        // The secrets webhook: on in the config file, under the names of its Service, its
        // Secret and the configuration the ClusterRole lets it read by name; Secrets readable
        // in its own namespace only.
        let file = try #require(byKind["ConfigMap"]?.first { $0.value(atPath: "metadata.name") == "executor-config" }?.value(atPath: "data")?["config.yaml"]?.stringValue)
        let config = try ExecutorConfig.parse(yaml: file, path: "config.yaml")
        #expect(config.webhook.enabled)
        let service = try #require(byKind["Service"]?.first { $0.value(atPath: "metadata.name")?.stringValue == config.webhook.serviceName })
        #expect(service.value(atPath: "spec.ports") == [["name": "webhook", "port": JSONValue.int(Int64(config.webhook.servicePort)), "protocol": "TCP", "targetPort": "webhook"]])
        #expect(container["ports"]?.arrayValue?.contains(["containerPort": JSONValue.int(Int64(config.webhook.listenPort)), "name": "webhook", "protocol": "TCP"]) == true)
        let webhookRole = try #require(byKind["ClusterRole"]?.first { $0.value(atPath: "metadata.name") == "executor-webhook-role" })
        #expect(webhookRole["rules"] == [
            ["apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"], "verbs": ["create"]],
            ["apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"], "resourceNames": [.string(config.webhook.serviceName)], "verbs": ["get", "update"]],
        ])
        let secretsRole = try #require(byKind["Role"]?.first { $0.value(atPath: "metadata.name") == "executor-webhook-secrets-role" })
        #expect(secretsRole.value(atPath: "metadata.namespace") == "executor-system")
        #expect(secretsRole["rules"] == [["apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "delete", "get"]]])
        #expect(!(byKind["ClusterRole"] ?? []).contains { ($0["rules"]?.arrayValue ?? []).contains { $0["resources"]?.arrayValue?.contains("secrets") == true } })
        #expect(pod.value(atPath: "securityContext.runAsNonRoot") == true)
        #expect(pod.value(atPath: "securityContext.seccompProfile.type") == "RuntimeDefault")
        #expect(container.value(atPath: "securityContext.readOnlyRootFilesystem") == true)
        #expect(container.value(atPath: "securityContext.allowPrivilegeEscalation") == false)
        #expect(container.value(atPath: "securityContext.capabilities.drop") == ["ALL"])
        #expect(container.value(atPath: "livenessProbe.httpGet.path") == "/healthz")
        #expect(container.value(atPath: "readinessProbe.httpGet.path") == "/readyz")
        #expect(container.value(atPath: "resources.limits") != nil && container.value(atPath: "resources.requests") != nil)
        #expect(pod["serviceAccountName"] == "executor-controller-manager")
    }
}

@Suite("Installer against the sandbox")
struct InstallerApplyTests {
    @Test("kubectl apply -f dist/install.yaml creates every object with no error or warning, and again changes nothing")
    func apply() async throws {
        let kubectl = ["/usr/bin/kubectl", Fixtures.repositoryRoot + "/.tools/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let kubectl else {
            print("skipped: kubectl is not installed")
            return
        }
        try await KubeSandbox.with { sandbox, _ in
            let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("install-\(UUID().uuidString).kubeconfig").path
            try sandbox.writeKubeconfig(to: kubeconfig)
            defer { try? FileManager.default.removeItem(atPath: kubeconfig) }
            func apply() async throws -> (Int32, String, String) {
                let result = try await ChildProcess.run(kubectl, ["--kubeconfig", kubeconfig, "apply", "-f", Fixtures.repositoryRoot + "/dist/install.yaml"])
                return (result.status, String(decoding: result.stdout, as: UTF8.self), String(decoding: result.stderr, as: UTF8.self))
            }
            let (status, out, err) = try await apply()
            #expect(status == 0)
            #expect(err.isEmpty, "stderr: \(err)")
            let created = out.split(separator: "\n")
            #expect(created.count == 23 && created.allSatisfy { $0.hasSuffix(" created") }, "\(out)")
            let (again, out2, err2) = try await apply()
            #expect(again == 0 && err2.isEmpty)
            #expect(out2.split(separator: "\n").allSatisfy { $0.hasSuffix(" unchanged") }, "\(out2)")
        }
    }
}
