import ExecutorAPI
@testable import ExecutorControllers
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Logging
import TaskPlugins
import Testing

/// Keeps the installed RBAC equal to the API calls the executor makes: scenarios that exercise
/// every path run with a recording client, and the recorded (group, resource, verb) set must
/// equal what the ClusterRole and the leader-election Role grant.
@Suite("RBAC")
struct RBACTests {
    /// `(group/resource[/subresource], verb)` of a request, as the API server's authorizer sees it.
    static func attributes(_ record: RequestRecord) -> (String, String)? {
        var segments = record.path.split(separator: "/").map(String.init)
        let group: String
        if segments.first == "api" {
            group = ""
            segments.removeFirst(2)
        } else if segments.first == "apis", segments.count >= 3 {
            group = segments[1]
            segments.removeFirst(3)
        } else {
            return nil
        }
        if segments.first == "namespaces", segments.count >= 3 { segments.removeFirst(2) }
        guard let resource = segments.first else { return nil }
        let named = segments.count >= 2
        let sub = segments.count >= 3 ? "/" + segments[2] : ""
        let verb: String
        switch record.method {
        case "GET": verb = record.isWatch ? "watch" : (named ? "get" : "list")
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = named ? "delete" : "deletecollection"
        default: verb = record.method.lowercased()
        }
        return ("\(group)/\(resource)\(sub)", verb)
    }

    static func granted() throws -> Set<String> {
        let docs = try JSONValue.documents(yaml: try String(contentsOfFile: Fixtures.repositoryRoot + "/dist/install.yaml", encoding: .utf8))
        var out = Set<String>()
        for doc in docs where ["executor-manager-role", "executor-leader-election-role", "executor-webhook-role", "executor-webhook-secrets-role"].contains(doc.value(atPath: "metadata.name")?.stringValue ?? "") {
            for rule in doc["rules"]?.arrayValue ?? [] {
                for group in rule["apiGroups"]?.arrayValue ?? [] {
                    for resource in rule["resources"]?.arrayValue ?? [] {
                        for verb in rule["verbs"]?.arrayValue ?? [] {
                            out.insert("\(group.stringValue ?? "")/\(resource.stringValue ?? ""):\(verb.stringValue ?? "")")
                        }
                    }
                }
            }
        }
        return out
    }

    /// The config file dist/install.yaml mounts, with the webhook on a free port.
    static func installedConfig() throws -> ExecutorConfig {
        let docs = try JSONValue.documents(yaml: try String(contentsOfFile: Fixtures.repositoryRoot + "/dist/install.yaml", encoding: .utf8))
        let file = docs.first { $0["kind"] == "ConfigMap" && $0.value(atPath: "metadata.name") == "executor-config" }?.value(atPath: "data")?["config.yaml"]?.stringValue ?? ""
        var config = try ExecutorConfig.parse(yaml: file, path: "install.yaml")
        config.webhook.listenPort = 0
        return config
    }

    @Test("the ClusterRole and leader-election Role grant exactly the calls the executor makes")
    func exact() async throws {
        var options = KubeSandbox.Options()
        options.kubelet = true
        options.operators = [.spark, .ray, .knative, .pytorch, .tensorflow, .mpi, .dask, .jobset]
        try await KubeSandbox.with(options) { sandbox, client in
            try await ExecutorHarness.installCRD(client)
            let used = LockedBox(Set<String>())
            let recording = try KubernetesClient(configuration: sandbox.clientConfiguration(), observer: { record in
                if let (resource, verb) = Self.attributes(record) { _ = used.withLock { $0.insert("\(resource):\(verb)") } }
            })
            // The secrets webhook as installed: its certificates Secret is there but does not
            // serve (replaced: get, delete, create), its configuration is there (create refused,
            // get, update), and a task's secret is read.
            var config = try Self.installedConfig()
            _ = try await client.create(SecretsWebhookScenarioTests.secrets, ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(config.webhook.secretName)], "data": ["tls.crt": "eA=="]], namespace: "default")
            _ = try await client.create(MutatingWebhookRegistration.resource, MutatingWebhookRegistration.configuration(config.webhook, namespace: "default", caPEM: "stale"))
            _ = try await client.create(SecretsWebhookScenarioTests.secrets, SecretsWebhookScenarioTests.flyteSecret("api_token", value: "v", namespace: "default"), namespace: "default")
            config.gc.intervalSeconds = 1
            config.gc.maxTTLSeconds = 0
            config.maxSystemFailures = 1
            config.requeueSeconds = 1
            // Looked for at every launch (none exists): the PodTemplate read.
            config.plugins.defaultPodTemplateName = "base"
            // Children patched: inject-finalizer's finalizer taken off.
            config.plugins.injectFinalizer = true
            var election = LeaderElectionConfig(leaseName: "abf369a8.flyte.org", namespace: "default", identity: "rbac-test")
            election.retryPeriod = .milliseconds(200)
            let manager = Manager(client: recording, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", leaderElection: election, gracefulShutdownTimeout: .seconds(5)))
            let executor = Executor(manager: manager, config: config, sink: RecordingSink())
            let run = Task { try await manager.run() }
            let h = ExecutorHarness(sandbox: sandbox, client: client, sink: RecordingSink())
            try await eventually("the webhook serves") { executor.webhook?.port != nil }
            sandbox.routeService(namespace: "default", name: config.webhook.serviceName, toLoopbackPort: executor.webhook?.port ?? 0)
            try await h.create(SecretsWebhookScenarioTests.action("r-secret", secrets: [SecretsWebhookTests.secret(key: "api_token", mount: .envVar)]))
            // The App CRD comes after the executor: it waits on a watch of that definition.
            try await eventually("the App controller watching for its CRD") { used.value.contains("apiextensions.k8s.io/customresourcedefinitions:watch") }
            _ = try await client.create(Fixtures.crdType, AppSchema.crd)

            // Success and GC; retries; abort; a Pod deleted behind the executor's back; repeated
            // system errors (an Event series).
            try await h.create(Fixtures.taskAction("r-ok", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            try await h.create(Fixtures.taskAction("r-retry", template: Fixtures.template(outcome: "fail", duration: 0.05, startup: 0.05, retries: 1)))
            try await h.create(Fixtures.taskAction("r-abort", template: Fixtures.template(outcome: "hang", startup: 0.05)))
            try await h.create(Fixtures.taskAction("r-gone", template: Fixtures.template(outcome: "hang", startup: 0.05)))
            // Spark and Ray children, and the driver and head Pods they wake their TaskActions by.
            try await h.create(Fixtures.taskAction("r-spark", taskType: "spark", template: Fixtures.sparkTemplate()))
            try await h.create(Fixtures.taskAction("r-ray", taskType: "ray", template: Fixtures.rayTemplate()))
            try await h.create(Fixtures.taskAction("r-spark-gone", taskType: "spark", template: Fixtures.sparkTemplate(env: ["SANDBOX_OUTCOME": "hang"])))
            try await h.create(Fixtures.taskAction("r-ray-gone", taskType: "ray", template: Fixtures.rayTemplate(env: ["SANDBOX_DURATION": "3600"])))
            // A PyTorchJob that runs to the end, and one deleted behind the executor's back.
            try await h.create(Fixtures.taskAction("r-pt", taskType: "pytorch", template: Fixtures.pluginTemplate(type: "pytorch", env: [:], retries: 0, custom: #"{"workers": 1}"#)))
            try await h.create(Fixtures.taskAction("r-pt-gone", taskType: "pytorch", template: Fixtures.pluginTemplate(type: "pytorch", env: ["SANDBOX_OUTCOME": "hang"], retries: 0, custom: #"{"workers": 1}"#)))
            // The same for a TFJob, an MPIJob, a DaskJob and a JobSet.
            try await h.create(Fixtures.taskAction("r-tf", taskType: "tensorflow", template: Fixtures.pluginTemplate(type: "tensorflow", env: [:], retries: 0, custom: #"{"workers": 1}"#)))
            try await h.create(Fixtures.taskAction("r-tf-gone", taskType: "tensorflow", template: Fixtures.pluginTemplate(type: "tensorflow", env: ["SANDBOX_OUTCOME": "hang"], retries: 0, custom: #"{"workers": 1}"#)))
            try await h.create(Fixtures.taskAction("r-mpi", taskType: "mpi", template: Fixtures.pluginTemplate(type: "mpi", env: [:], retries: 0, custom: #"{"numWorkers": 1}"#)))
            try await h.create(Fixtures.taskAction("r-mpi-gone", taskType: "mpi", template: Fixtures.pluginTemplate(type: "mpi", env: ["SANDBOX_OUTCOME": "hang"], retries: 0, custom: #"{"numWorkers": 1}"#)))
            try await h.create(Fixtures.taskAction("r-dask", taskType: "dask", template: Fixtures.pluginTemplate(type: "dask", env: [:], retries: 0, custom: #"{"workers": {"numberOfWorkers": 1}}"#)))
            try await h.create(Fixtures.taskAction("r-dask-gone", taskType: "dask", template: Fixtures.pluginTemplate(type: "dask", env: ["SANDBOX_OUTCOME": "hang"], retries: 0, custom: #"{"workers": {"numberOfWorkers": 1}}"#)))
            try await h.create(Fixtures.taskAction("r-cl", taskType: "clustered-task", template: Fixtures.pluginTemplate(type: "clustered-task", env: [:], retries: 0, custom: #"{"replicas": 2, "nprocPerNode": 1}"#)))
            try await h.create(Fixtures.taskAction("r-cl-gone", taskType: "clustered-task", template: Fixtures.pluginTemplate(type: "clustered-task", env: ["SANDBOX_OUTCOME": "hang"], retries: 0, custom: #"{"replicas": 2, "nprocPerNode": 1}"#)))
            // Apps: deployed, given a new spec, stopped (a patch and a Revision delete).
            _ = try await client.create(AppScenarioTests.app("rbac-new", fields: ["container": AppScenarioTests.container()]))
            _ = try await client.create(AppScenarioTests.app("rbac-stop", fields: ["container": AppScenarioTests.container()]))
            try await AppScenarioTests.until(h, "ACTIVE", name: "rbac-new") { $0.status?.phase == "ACTIVE" }
            try await AppScenarioTests.until(h, "ACTIVE", name: "rbac-stop") { $0.status?.phase == "ACTIVE" && $0.status?.currentReplicas == 1 }
            try await AppScenarioTests.patchSpec(h, ["container": AppScenarioTests.container(image: "ghcr.io/example/app:2")], name: "rbac-new")
            try await AppScenarioTests.patchSpec(h, ["desiredState": "DESIRED_STATE_STOPPED"], name: "rbac-stop")
            try await AppScenarioTests.until(h, "STOPPED", name: "rbac-stop") { $0.status?.phase == "STOPPED" }
            try await eventually("running") {
                let abort = try? await h.get("r-abort")
                let gone = try? await h.get("r-gone")
                let sparkGone = try? await h.get("r-spark-gone")
                let rayGone = try? await h.get("r-ray-gone")
                let ptGone = try? await h.get("r-pt-gone")
                let tfGone = try? await h.get("r-tf-gone")
                let mpiGone = try? await h.get("r-mpi-gone")
                let daskGone = try? await h.get("r-dask-gone")
                let clGone = try? await h.get("r-cl-gone")
                return [abort, gone, sparkGone, rayGone, ptGone, tfGone, mpiGone, daskGone, clGone].allSatisfy { $0?.status?.phaseHistory?.last?.phase == "Executing" }
            }
            // Children deleted behind the executor's back: it reads them (get) to be sure.
            try await client.delete(SparkApplication.self, name: "r-spark-gone-0", namespace: "default")
            try await client.delete(RayJob.self, name: "r-ray-gone-0", namespace: "default")
            try await client.delete(PyTorchJob.self, name: "r-pt-gone-0", namespace: "default")
            try await client.delete(TFJob.self, name: "r-tf-gone-0", namespace: "default")
            try await client.delete(MPIJob.self, name: "r-mpi-gone-0", namespace: "default")
            try await client.delete(DaskJob.self, name: "r-dask-gone-0", namespace: "default")
            try await client.delete(JobSet.self, name: "r-cl-gone-0", namespace: "default")
            try await client.delete(TaskAction.self, name: "r-abort", namespace: "default")
            try await client.delete(Pod.self, name: "r-gone-0", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: "sys")))
            await sandbox.faults.failNext(100, code: 500, method: "POST", pathContains: "/namespaces/sys/pods")
            try await h.create(Fixtures.taskAction("r-sys", namespace: "sys"))
            try await eventually("GC and aborts done") {
                let names = Set(((try? await client.list(TaskAction.self, namespace: "default").items) ?? []).compactMap(\.metadata.name))
                return !names.contains("r-ok") && !names.contains("r-retry") && !names.contains("r-abort") && !names.contains("r-spark") && !names.contains("r-ray") && !names.contains("r-secret") && !names.contains("r-pt")
                    && !names.contains("r-tf") && !names.contains("r-mpi") && !names.contains("r-dask") && !names.contains("r-cl")
            }
            do {
                try await eventually("event series") {
                    ["events.k8s.io/events:patch", "/pods:get", "sparkoperator.k8s.io/sparkapplications:get", "ray.io/rayjobs:get", "kubeflow.org/pytorchjobs:get",
                     "/pods:patch", "sparkoperator.k8s.io/sparkapplications:patch", "ray.io/rayjobs:patch", "kubeflow.org/pytorchjobs:patch", "kubeflow.org/pytorchjobs:delete",
                     "kubeflow.org/tfjobs:get", "kubeflow.org/tfjobs:patch", "kubeflow.org/tfjobs:delete", "kubeflow.org/mpijobs:get", "kubeflow.org/mpijobs:patch", "kubeflow.org/mpijobs:delete",
                     "kubernetes.dask.org/daskjobs:get", "kubernetes.dask.org/daskjobs:patch", "kubernetes.dask.org/daskjobs:delete",
                     "jobset.x-k8s.io/jobsets:get", "jobset.x-k8s.io/jobsets:patch", "jobset.x-k8s.io/jobsets:delete",
                     "serving.knative.dev/services:update", "serving.knative.dev/revisions:delete",
                     "/secrets:delete", "/secrets:create", "admissionregistration.k8s.io/mutatingwebhookconfigurations:update"].allSatisfy(used.value.contains)
                }
            } catch {
                Issue.record("used: \(used.value.sorted())")
                throw error
            }
            run.cancel()
            _ = try? await run.value
            try await recording.shutdown()

            // The API server asks for this when a Pod's owner reference blocks owner deletion;
            // it is not a call the executor makes itself.
            let admissionOnly: Set<String> = ["flyte.org/taskactions/finalizers:update", "flyte.org/apps/finalizers:update"]
            let granted = try Self.granted()
            #expect(used.value.subtracting(granted).isEmpty, "used but not granted: \(used.value.subtracting(granted).sorted())")
            #expect(granted.subtracting(used.value).subtracting(admissionOnly).isEmpty, "granted but never used: \(granted.subtracting(used.value).subtracting(admissionOnly).sorted())")
        }
    }

    @Test("in a sandbox that enforces RBAC, the executor runs TaskActions and Apps as its ServiceAccount with the installed roles; without the Pod create rule its Pod create is refused with 403")
    func enforced() async throws {
        var options = KubeSandbox.Options()
        options.kubelet = true
        options.authorization = .rbac
        options.operators = [.knative]
        try await KubeSandbox.with(options) { sandbox, admin in
            try await ExecutorHarness.installCRD(admin)
            _ = try await admin.create(Fixtures.crdType, AppSchema.crd)
            // What `kubectl apply -f dist/install.yaml` creates for the executor's identity.
            let docs = try JSONValue.documents(yaml: try String(contentsOfFile: Fixtures.repositoryRoot + "/dist/install.yaml", encoding: .utf8))
            let wanted: Set<String> = ["Namespace", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]
            for doc in docs where wanted.contains(doc["kind"]?.stringValue ?? "") {
                let kind = doc["kind"]?.stringValue ?? ""
                let rbac = kind.hasPrefix("Role") || kind.hasPrefix("Cluster")
                let plural = ["Namespace": "namespaces", "ServiceAccount": "serviceaccounts", "Role": "roles", "ClusterRole": "clusterroles", "RoleBinding": "rolebindings", "ClusterRoleBinding": "clusterrolebindings"][kind] ?? ""
                let type = ResourceType(group: rbac ? "rbac.authorization.k8s.io" : "", version: "v1", kind: kind, plural: plural, namespaced: !kind.hasPrefix("Cluster") && kind != "Namespace")
                if kind == "ServiceAccount", (try? await admin.get(type, name: doc.value(atPath: "metadata.name")?.stringValue ?? "", namespace: "executor-system")) != nil { continue }
                _ = try await admin.create(type, doc)
            }
            let token = sandbox.serviceAccountToken(namespace: "executor-system", name: "executor-controller-manager")
            let refused = LockedBox(0)
            let definitionsRefused = LockedBox(0)
            let definitionsWatched = LockedBox(0)
            let client = try KubernetesClient(configuration: sandbox.clientConfiguration(authentication: .bearerToken(token)), observer: { record in
                if record.code == 403, record.method == "POST", record.path.hasSuffix("/pods") { refused.withLock { $0 += 1 } }
                if record.path.contains("/customresourcedefinitions") {
                    if record.code == 403 { definitionsRefused.withLock { $0 += 1 } }
                    if record.isWatch { definitionsWatched.withLock { $0 += 1 } }
                }
            })
            var election = LeaderElectionConfig(leaseName: "abf369a8.flyte.org", namespace: "executor-system", identity: "rbac-enforced")
            election.retryPeriod = .milliseconds(200)
            let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", leaderElection: election, gracefulShutdownTimeout: .seconds(5)))
            // The config file as installed: the secrets webhook on, in the executor's namespace.
            let config = try Self.installedConfig()
            _ = try await admin.create(SecretsWebhookScenarioTests.secrets, SecretsWebhookScenarioTests.flyteSecret("api_token", value: "s3cret", namespace: "executor-system"), namespace: "executor-system")
            let executor = Executor(manager: manager, config: config, sink: RecordingSink(), podNamespace: "executor-system")
            let run = Task { try await manager.run() }
            defer { run.cancel() }
            let h = ExecutorHarness(sandbox: sandbox, client: admin, sink: RecordingSink())
            try await h.create(Fixtures.taskAction("allowed", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            #expect(try await h.terminal("allowed").status?.phaseHistory?.last?.phase == "Completed")
            // The webhook made its Secret and configuration, and reads a task's secret, as the ServiceAccount.
            try await eventually("the webhook serves") { executor.webhook?.port != nil }
            sandbox.routeService(namespace: "executor-system", name: config.webhook.serviceName, toLoopbackPort: executor.webhook?.port ?? 0)
            try await h.create(SecretsWebhookScenarioTests.action("with-secret", secrets: [SecretsWebhookTests.secret(key: "api_token", mount: .envVar)]))
            #expect(try await h.terminal("with-secret").status?.phaseHistory?.last?.phase == "Completed")
            let injected = try await admin.get(SecretsWebhookScenarioTests.pods, name: "with-secret-0", namespace: "default")
            #expect(injected.value(atPath: "spec")?["containers"]?[0]?["env"]?.arrayValue?.contains(["name": "_UNION_API_TOKEN", "value": "s3cret"]) == true)
            #expect(refused.value == 0)
            // Spark and Ray are not installed here: their CRDs are watched by name, as the role allows.
            try await eventually("the missing kinds' definitions watched") { definitionsWatched.value >= 2 }
            #expect(definitionsRefused.value == 0)
            // An App: its Knative Service (owned, blockOwnerDeletion) and its status, as the ServiceAccount.
            _ = try await admin.create(AppScenarioTests.app(fields: ["container": AppScenarioTests.container()]))
            try await AppScenarioTests.until(h, "ACTIVE as the ServiceAccount") { $0.status?.phase == "ACTIVE" }

            // Take away the Pod create rule: the next TaskAction's Pod is refused by the API server.
            var role = try await admin.get(ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", namespaced: false), name: "executor-manager-role")
            role["rules"] = .array((role["rules"]?.arrayValue ?? []).map { rule in
                guard rule["resources"]?.arrayValue?.contains("pods") == true else { return rule }
                var rule = rule
                rule["verbs"] = .array((rule["verbs"]?.arrayValue ?? []).filter { $0 != "create" })
                return rule
            })
            _ = try await admin.update(ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", namespaced: false), role)
            try await h.create(Fixtures.taskAction("refused", template: Fixtures.template(duration: 0.05, startup: 0.05)))
            try await eventually("a 403 on the Pod create") { refused.value > 0 }
            #expect(try await admin.list(Pod.self, namespace: "default").items.allSatisfy { $0.metadata.name != "refused-0" })
            run.cancel()
            _ = try? await run.value
            try await client.shutdown()
        }
    }

    @Test("config/rbac/role.yaml is what `executor manifests` generates from the built-in plugins")
    func generatedRole() throws {
        let registry = PluginRegistration.registry(PluginRegistration.builtIn, config: ExecutorConfig(), logger: Logger(label: "rbac"))
        let expected = RBACManifest.clusterRoleYAML(plugins: Array(registry.plugins.values))
        let committed = try String(contentsOfFile: Fixtures.repositoryRoot + "/config/rbac/role.yaml", encoding: .utf8)
        #expect(committed == expected, "run `make manifests` and commit config/rbac/role.yaml")
    }

    @Test("a registered plugin's rules join the role, and a rule two plugins declare alike is written once")
    func pluginRules() {
        let rules = RBACManifest.rules(plugins: [WidgetPlugin(), PodPlugin(), WidgetPlugin()])
        let widgets = rules.filter { $0.resources == ["widgets"] }
        #expect(widgets.count == 1)
        #expect(widgets.first?.apiGroups == ["widgets.example.com"])
        #expect(widgets.first?.verbs == ["create", "delete", "get", "list", "patch", "watch"])
        #expect(rules.contains { $0.resources == ["pods"] })
        #expect(rules.suffix(RBACManifest.executorRules.count) == RBACManifest.executorRules[...])
    }
}
