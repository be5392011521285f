import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Testing

/// Runs kubectl, the reference client, against the sandbox.
enum Kubectl {
    static let path: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(dir)/kubectl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static var available: Bool {
        if path == nil { print("kubectl compatibility tests skipped: kubectl is not on PATH") }
        return path != nil
    }

    /// Runs kubectl and returns its exit status and combined output; kills it after `timeout`.
    static func run(_ args: [String], kubeconfig: String, stdin: String? = nil, timeout: Double = 30) async throws -> (status: Int32, output: String) {
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = NSTemporaryDirectory()  // no cache from other runs
        let process = try ChildProcess.start(path ?? "/usr/bin/kubectl", ["--kubeconfig", kubeconfig] + args, environment: env,
                                             stdin: .pipe, stdout: .capture, stderr: .stdout)
        if let stdin { try process.write(Data(stdin.utf8)) }
        process.closeInput()
        let status = await process.exit(terminatingAfter: .seconds(timeout))
        return (status, String(decoding: process.output, as: UTF8.self))
    }
}

@Suite("kubectl against KubeSandbox", .enabled(if: Kubectl.available, "kubectl is not on PATH"))
struct KubectlCompatibilityTests {
    /// A sandbox, a client, and a kubeconfig file for kubectl in a scratch directory.
    func withKubeconfig(_ authentication: KubeSandbox.Authentication = .clientCertificate, options: KubeSandbox.Options = KubeSandbox.Options(), _ body: (KubernetesClient, String) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "kubectl-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await KubeSandbox.with(options) { sandbox, client in
            let kubeconfig = dir + "/config"
            try sandbox.writeKubeconfig(to: kubeconfig, authentication: authentication)
            try await body(client, kubeconfig)
        }
    }

    @Test("kubectl gets namespaces, applies a CRD and a resource, lists printer columns, watches and deletes")
    func fullFlow() async throws {
        try await withKubeconfig { client, kubeconfig in

            let ns = try await Kubectl.run(["get", "ns"], kubeconfig: kubeconfig)
            #expect(ns.status == 0, "\(ns.output)")
            #expect(ns.output.contains("default") && ns.output.contains("Active"))

            let crd = try await Kubectl.run(["apply", "-f", Fixtures.directory + "/flyte.org_taskactions.yaml"], kubeconfig: kubeconfig)
            #expect(crd.status == 0, "\(crd.output)")
            #expect(crd.output.contains("customresourcedefinition.apiextensions.k8s.io/taskactions.flyte.org created"))
            #expect(!crd.output.lowercased().contains("warning"), "\(crd.output)")

            let manifest = """
                apiVersion: flyte.org/v1
                kind: TaskAction
                metadata:
                  name: hello
                spec:
                  runName: run-1
                  actionName: a0
                  project: flytesnacks
                  domain: development
                  taskType: container
                """
            let applied = try await Kubectl.run(["apply", "-f", "-"], kubeconfig: kubeconfig, stdin: manifest)
            #expect(applied.status == 0, "\(applied.output)")
            #expect(applied.output.contains("taskaction.flyte.org/hello created"))
            let again = try await Kubectl.run(["apply", "-f", "-"], kubeconfig: kubeconfig, stdin: manifest)
            #expect(again.output.contains("taskaction.flyte.org/hello unchanged"), "\(again.output)")

            let bad = try await Kubectl.run(["apply", "-f", "-"], kubeconfig: kubeconfig, stdin: manifest.replacingOccurrences(of: "run-1", with: String(repeating: "r", count: 40)).replacingOccurrences(of: "hello", with: "bad"))
            #expect(bad.status != 0)
            #expect(bad.output.contains("spec.runName: Too long: may not be more than 30 bytes"), "\(bad.output)")

            let listed = try await Kubectl.run(["get", "taskactions"], kubeconfig: kubeconfig)
            #expect(listed.status == 0, "\(listed.output)")
            let header = listed.output.split(separator: "\n").first.map(String.init) ?? ""
            #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["NAME", "RUN", "ACTION", "TASKTYPE", "STATUS", "AGE"], "\(listed.output)")
            #expect(listed.output.contains("hello") && listed.output.contains("run-1") && listed.output.contains("container"))

            // Watch pods while the test creates one.
            // Whether kubectl's first list or its watch shows the Pod, it must show it.
            async let watched = Kubectl.run(["get", "pods", "--watch", "--request-timeout=0"], kubeconfig: kubeconfig, timeout: 8)
            try await Task.sleep(for: .seconds(2))
            _ = try await client.create(Pod(metadata: ObjectMeta(name: "watched-pod", namespace: "default"), spec: PodSpec(containers: [Container(name: "c", image: "busybox")])))
            let watch = try await watched
            #expect(watch.output.contains("watched-pod"), "\(watch.output)")
            #expect(watch.output.contains("Pending"), "\(watch.output)")

            let deleted = try await Kubectl.run(["delete", "taskaction", "hello"], kubeconfig: kubeconfig)
            #expect(deleted.status == 0, "\(deleted.output)")
            #expect(deleted.output.contains("\"hello\" deleted"))
            let gone = try await Kubectl.run(["get", "taskaction", "hello"], kubeconfig: kubeconfig)
            #expect(gone.status != 0)
            #expect(gone.output.contains("NotFound") || gone.output.contains("not found"), "\(gone.output)")
        }
    }

    @Test("kubectl works with a token kubeconfig and server-side apply")
    func tokenAndServerSideApply() async throws {
        try await withKubeconfig(.token) { _, kubeconfig in
            let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: \"1\"\n"
            let first = try await Kubectl.run(["apply", "--server-side", "-f", "-"], kubeconfig: kubeconfig, stdin: cm)
            #expect(first.status == 0, "\(first.output)")
            #expect(first.output.contains("configmap/ssa serverside-applied"), "\(first.output)")
            let read = try await Kubectl.run(["get", "configmap", "ssa", "-o", "jsonpath={.data.a}"], kubeconfig: kubeconfig)
            #expect(read.output == "1", "\(read.output)")
        }
    }

    @Test("kubectl create sends built-in kinds as protobuf: namespace, configmap, secret, serviceaccount, role, rolebinding and token work, and auth can-i answers under RBAC")
    func protobufCreates() async throws {
        var options = KubeSandbox.Options()
        options.authorization = .rbac
        try await withKubeconfig(options: options) { client, kubeconfig in
            let commands: [[String]] = [
                ["create", "namespace", "team"],
                ["create", "configmap", "settings", "-n", "team", "--from-literal=mode=fast"],
                ["create", "secret", "generic", "creds", "-n", "team", "--from-literal=key=s3cr3t"],
                ["create", "serviceaccount", "bot", "-n", "team"],
                ["create", "role", "reader", "-n", "team", "--verb=get,list", "--resource=configmaps"],
                ["create", "rolebinding", "bot-reads", "-n", "team", "--role=reader", "--serviceaccount=team:bot"],
            ]
            for command in commands {
                let result = try await Kubectl.run(command, kubeconfig: kubeconfig)
                #expect(result.status == 0, "kubectl \(command.joined(separator: " ")): \(result.output)")
            }
            #expect(try await client.get(ConfigMap.self, name: "settings", namespace: "team").data == ["mode": "fast"])
            let token = try await Kubectl.run(["create", "token", "bot", "-n", "team"], kubeconfig: kubeconfig)
            #expect(token.status == 0, "\(token.output)")
            let bearer = token.output.trimmingCharacters(in: .whitespacesAndNewlines)
            let canList = try await Kubectl.run(["--token", bearer, "auth", "can-i", "list", "configmaps", "-n", "team"], kubeconfig: kubeconfig)
            #expect(canList.output.trimmingCharacters(in: .whitespacesAndNewlines) == "yes", "\(canList.output)")
            let canDelete = try await Kubectl.run(["--token", bearer, "auth", "can-i", "delete", "configmaps", "-n", "team"], kubeconfig: kubeconfig)
            #expect(canDelete.output.trimmingCharacters(in: .whitespacesAndNewlines) == "no", "\(canDelete.output)")
            let refused = try await Kubectl.run(["--token", bearer, "get", "secrets", "-n", "team"], kubeconfig: kubeconfig)
            #expect(refused.status != 0 && refused.output.contains(#"User "system:serviceaccount:team:bot" cannot list resource "secrets""#), "\(refused.output)")
        }
    }

    @Test("kubectl get events shows an Event recorded through events.k8s.io, and kubectl get pods -o wide shows the Pod's IP and NODE")
    func eventsAndWidePods() async throws {
        var options = KubeSandbox.Options()
        options.kubelet = true
        try await withKubeconfig(options: options) { client, kubeconfig in
            _ = try await client.create(ResourceType(group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true), [
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "ta.1", "namespace": "default"],
                "eventTime": "2026-11-29T10:00:00.000000Z", "reportingController": "flyte.org/executor", "reportingInstance": "executor-0",
                "action": "Reconcile", "reason": "PodCreated", "type": "Normal", "note": "created pod ta-0",
                "regarding": ["apiVersion": "flyte.org/v1", "kind": "TaskAction", "name": "ta", "namespace": "default"],
            ])
            let events = try await Kubectl.run(["get", "events"], kubeconfig: kubeconfig)
            #expect(events.status == 0 && events.output.contains("PodCreated") && events.output.contains("created pod ta-0"), "\(events.output)")

            _ = try await client.create(Pod(metadata: ObjectMeta(name: "wide", namespace: "default", annotations: [SimulatedKubelet.outcomeAnnotation: "hang"]), spec: PodSpec(containers: [Container(name: "main", image: "busybox:1.36")])))
            try await eventually("an IP") { (try? await client.get(Pod.self, name: "wide", namespace: "default"))?.status?.podIP != nil }
            let wide = try await Kubectl.run(["get", "pods", "-o", "wide"], kubeconfig: kubeconfig)
            let lines = wide.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(lines.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"], "\(wide.output)")
            #expect(lines.dropFirst().first?.contains(SimulatedKubelet.nodeName) == true, "\(wide.output)")
        }
    }
}
