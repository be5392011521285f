import Foundation
import KubeClient
import Testing

/// The Helm chart against the kustomize install. Needs helm (and kustomize or kubectl for
/// the regeneration check): `.ci/run` installs them with hack/install-tools.sh; without them the
/// tests say they skipped.
@Suite("Helm chart")
struct HelmChartTests {
    static func tool(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + [Fixtures.repositoryRoot + "/.tools/bin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The status, and stdout followed by stderr.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"] ?? "") + ":" + Fixtures.repositoryRoot + "/.tools/bin"
        let result = try await ChildProcess.run(executable, arguments, environment: environment, directory: Fixtures.repositoryRoot)
        return (result.status, String(decoding: result.stdout + result.stderr, as: UTF8.self))
    }

    /// Objects keyed by kind/name without Helm's own labels and annotation.
    static func normalized(_ docs: [JSONValue]) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for var doc in docs where doc["kind"]?.stringValue != "Namespace" {
            for label in ["helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"] {
                doc["metadata"]?["labels"]?[label] = nil
            }
            doc["metadata"]?["annotations"]?["helm.sh/resource-policy"] = nil
            for key in ["labels", "annotations"] where doc["metadata"]?[key]?.objectValue?.isEmpty == true {
                doc["metadata"]?[key] = nil
            }
            out["\(doc["kind"]?.stringValue ?? "")/\(doc.value(atPath: "metadata.name")?.stringValue ?? "")"] = doc
        }
        return out
    }

    static func template(_ helm: String, _ extra: [String] = []) async throws -> [String: JSONValue] {
        let (status, text) = try await run(helm, ["template", "executor", "charts/executor", "--namespace", "executor-system"] + extra)
        #expect(status == 0, "\(text)")
        return normalized(try JSONValue.documents(yaml: text))
    }

    @Test("the chart's templates are what hack/generate-chart.py writes from config/")
    func current() async throws {
        guard Self.tool("kustomize") != nil || Self.tool("kubectl") != nil else {
            print("skipped: neither kustomize nor kubectl is installed")
            return
        }
        let (status, text) = try await Self.run("/usr/bin/env", ["python3", "hack/generate-chart.py", "--check"])
        #expect(status == 0, "\(text)")
    }

    @Test("helm lint is clean and helm template with default values renders dist/install.yaml apart from Helm's labels")
    func matchesInstaller() async throws {
        guard let helm = Self.tool("helm") else {
            print("skipped: helm is not installed (hack/install-tools.sh installs it)")
            return
        }
        let (status, text) = try await Self.run(helm, ["lint", "charts/executor"])
        #expect(status == 0, "\(text)")
        let installer = Self.normalized(try JSONValue.documents(yaml: try String(contentsOfFile: Fixtures.repositoryRoot + "/dist/install.yaml", encoding: .utf8)))
        let chart = try await Self.template(helm)
        #expect(Set(chart.keys) == Set(installer.keys))
        for (key, object) in installer {
            #expect(chart[key] == object, "\(key) differs")
        }
    }

    @Test("values switch the chart's parts: config file, watched namespaces, RBAC, CRD, ServiceMonitor")
    func values() async throws {
        guard let helm = Self.tool("helm") else {
            print("skipped: helm is not installed (hack/install-tools.sh installs it)")
            return
        }
        let configured = try await Self.template(helm, ["--set", "config.max-system-failures=5", "--set", "watchNamespaces={team-a,team-b}", "--set", "serviceMonitor.enabled=true"])
        let deployment = try #require(configured["Deployment/executor-controller-manager"])
        let container = try #require(deployment.value(atPath: "spec.template.spec.containers")?.arrayValue?.first)
        let args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(args.contains("--config=/etc/executor/config.yaml"))
        #expect(args.contains("--namespace=team-a") && args.contains("--namespace=team-b"))
        #expect(container.value(atPath: "volumeMounts")?.arrayValue?.first?["mountPath"] == "/etc/executor")
        #expect(configured["ConfigMap/executor-config"]?.value(atPath: "data")?["config.yaml"]?.stringValue?.contains("max-system-failures: 5") == true)
        #expect(configured["ServiceMonitor/executor-controller-manager-metrics-monitor"] != nil)
        // Secrets for the data plane: environment and files from the values.
        let dataPlane = try await Self.template(helm, ["--set", "config.storage.type=s3", "--set", "extraEnv[0].name=AWS_ACCESS_KEY_ID", "--set", "extraEnv[0].valueFrom.secretKeyRef.name=flyte-s3", "--set", "extraEnv[0].valueFrom.secretKeyRef.key=id",
                                                  "--set", "extraVolumes[0].name=token", "--set", "extraVolumes[0].secret.secretName=flyte-token", "--set", "extraVolumeMounts[0].name=token", "--set", "extraVolumeMounts[0].mountPath=/var/run/secrets/flyte"])
        let pod = try #require(dataPlane["Deployment/executor-controller-manager"]?.value(atPath: "spec.template.spec"))
        let manager = try #require(pod["containers"]?.arrayValue?.first)
        #expect(manager["env"]?.arrayValue?.last?.value(atPath: "valueFrom.secretKeyRef.name") == "flyte-s3")
        #expect(manager["volumeMounts"]?.arrayValue?.compactMap { $0["mountPath"]?.stringValue } == ["/etc/executor", "/var/run/secrets/flyte"])
        #expect(pod["volumes"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["config", "token"])
        let bare = try await Self.template(helm, ["--set", "rbac.enable=false", "--set", "crd.enable=false", "--set", "metrics.enable=false", "--set", "webhook.enable=false"])
        #expect(!bare.keys.contains { $0.hasPrefix("ClusterRole") || $0.hasPrefix("CustomResourceDefinition") || $0.hasPrefix("Service/") })
    }
}
