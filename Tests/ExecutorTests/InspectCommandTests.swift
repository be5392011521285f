import ExecutorAPI
@testable import ExecutorCLI
import ExecutorControllers
import Foundation
import KubeClient
import KubeRuntime
import KubeSandbox
import Testing

/// `executor get`, `describe` and `watch` against the sandbox: whole outputs compared with
/// golden texts (fixtures whose times are set relative to their creation, read through the
/// real client, at a fixed "now"), and the binary's exit codes and one-line errors.
@Suite("executor get, describe and watch", TestCluster.sandboxOnly)
struct InspectCommandTests {
    /// Fixture TaskActions with times relative to each one's creationTimestamp `T`:
    /// golden-a0 succeeded, golden-a1 failed after three attempts, golden-a2 not looked at yet.
    /// Returns T of golden-a1 (they are made within the same second or two; each status uses its own T).
    static func fixtures(_ client: KubernetesClient) async throws -> [String: Date] {
        var created: [String: Date] = [:]
        for name in ["golden-a0", "golden-a1", "golden-a2"] {
            let made = try await client.create(Fixtures.taskAction(name, template: Fixtures.template(retries: 2)))
            created[name] = made.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? Date()
        }
        func at(_ name: String, _ seconds: Double) -> String { KubeTime.format(created[name]!.addingTimeInterval(seconds)) }
        func history(_ name: String, _ entries: [(String, Double, String?)]) -> JSONValue {
            .array(entries.map { phase, offset, message in
                var entry: [String: JSONValue] = ["phase": .string(phase), "occurredAt": .string(at(name, offset))]
                if let message { entry["message"] = .string(message) }
                return .object(entry)
            })
        }
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String, _ time: String) -> JSONValue {
            ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message), "lastTransitionTime": .string(time)]
        }
        var started = PluginState()
        started.started = true
        let pluginState = started.base64
        _ = try await client.patch(TaskAction.resourceType, name: "golden-a0", namespace: "default", .merge(["status": [
            "attempts": 1, "pluginState": .string(pluginState),
            "phaseHistory": history("golden-a0", [("Queued", 1, "task submitted to K8s"), ("Initializing", 1, "ContainerCreating"), ("Executing", 2, nil), ("Completed", 5, "TaskAction completed successfully")]),
            "conditions": [condition("Progressing", "False", "Completed", "TaskAction has completed", at("golden-a0", 5)), condition("Succeeded", "True", "Completed", "TaskAction completed successfully", at("golden-a0", 5))],
        ]]), subresource: "status")
        let failure = "[golden-a1-2] terminated with exit code (1). Reason [Error]. Message: \nboom\n."
        _ = try await client.patch(TaskAction.resourceType, name: "golden-a1", namespace: "default", .merge(["status": [
            "attempts": 3, "pluginState": .string(pluginState),
            "phaseHistory": history("golden-a1", [("Queued", 1, "task submitted to K8s"), ("Initializing", 2, nil), ("Executing", 4, nil),
                                                  ("Queued", 10, "restarting task"), ("Initializing", 11, nil), ("Executing", 12, nil),
                                                  ("Queued", 20, "restarting task"), ("Executing", 22, nil), ("PermanentFailure", 30, failure)]),
            "conditions": [condition("Progressing", "False", "PermanentFailure", failure, at("golden-a1", 30)), condition("Failed", "True", "PermanentFailure", failure, at("golden-a1", 30))],
            "errorState": ["code": "Error", "kind": "USER", "message": .string(failure)],
        ]]), subresource: "status")

        var pod = Pod(metadata: ObjectMeta(name: "golden-a1-2", namespace: "default"), spec: PodSpec(containers: [Container(name: "golden-a1-2", image: "busybox")]))
        pod.metadata.labels = ["flyte.org/managed": "true"]
        _ = try await client.create(pod)
        _ = try await client.patch(Pod.resourceType, name: "golden-a1-2", namespace: "default", .merge(["status": [
            "phase": "Failed", "startTime": .string(at("golden-a1", 20)),
            "containerStatuses": [["name": "golden-a1-2", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
                                   "state": ["terminated": ["exitCode": 1, "reason": "Error", "startedAt": .string(at("golden-a1", 21)), "finishedAt": .string(at("golden-a1", 29))]]]],
        ]]), subresource: "status")

        func event(_ name: String, regarding: ObjectReference, offset: Double, type: String, reason: String, note: String) async throws {
            let time = KubeTime.formatMicro(created["golden-a1"]!.addingTimeInterval(offset))
            _ = try await client.create(Event(metadata: ObjectMeta(name: name, namespace: "default"), eventTime: time, reportingController: "taskaction-controller",
                                              reportingInstance: "executor-0", action: "HandlingPlugin", reason: reason, regarding: regarding, note: note, type: type))
        }
        try await event("golden-a1.1", regarding: ObjectReference(apiVersion: "flyte.org/v1", kind: "TaskAction", namespace: "default", name: "golden-a1"), offset: 15,
                        type: "Warning", reason: "FailedPluginHandle", note: "Plugin \"pod\" system error: the node went away")
        try await event("golden-a1-2.1", regarding: ObjectReference(apiVersion: "v1", kind: "Pod", namespace: "default", name: "golden-a1-2"), offset: 21,
                        type: "Normal", reason: "Started", note: "Started container golden-a1-2")
        return created
    }

    static func inspector(_ client: KubernetesClient, now: Date) -> Inspector {
        Inspector(client: client, style: .plain, plugins: ExecutorCLI.registry(), now: { now })
    }

    @Test("get taskactions: the table, -o wide with -A, --phase and --run, and -o json, compared with golden output")
    func getGolden() async throws {
        try await ExecutorHarness.with(kubelet: false, start: false) { h in
            let created = try await Self.fixtures(h.client)
            let now = created["golden-a0"]!.addingTimeInterval(60)
            let inspector = Self.inspector(h.client, now: now)
            // Made within a second or two of each other: each one's age as the table shows it.
            let age = ["golden-a0", "golden-a1", "golden-a2"].map { HumanDuration.format(now.timeIntervalSince(created[$0]!)) }
            let all = try await inspector.taskActions(Inspector.Query(namespace: "default"))
            #expect(try inspector.renderTaskActions(all, format: .table, allNamespaces: false) == """
            NAME        RUN   ACTION      TYPE     PHASE       ATTEMPT   AGE   DURATION
            golden-a0   r1    golden-a0   python   Succeeded   1         \(age[0])   4s
            golden-a1   r1    golden-a1   python   Failed      3         \(age[1])   29s
            golden-a2   r1    golden-a2   python   Pending     1         \(age[2])   -

            """)
            let everywhere = try await inspector.taskActions(Inspector.Query(namespace: nil))
            #expect(try inspector.renderTaskActions(everywhere, format: .wide, allNamespaces: true) == """
            NAMESPACE   NAME        RUN   ACTION      TYPE     PHASE       ATTEMPT   AGE   DURATION   PROJECT       DOMAIN        CHILD         MESSAGE
            default     golden-a0   r1    golden-a0   python   Succeeded   1         \(age[0])   4s         flytesnacks   development   golden-a0-0   TaskAction has completed
            default     golden-a1   r1    golden-a1   python   Failed      3         \(age[1])   29s        flytesnacks   development   golden-a1-2   [golden-a1-2] terminated with exit code (1). Reason [Error]. Message: boom .
            default     golden-a2   r1    golden-a2   python   Pending     1         \(age[2])   -          flytesnacks   development   golden-a2-0

            """)
            let failed = try await inspector.taskActions(Inspector.Query(namespace: "default", phase: "failed"))
            #expect(failed.map(\.metadata.name) == ["golden-a1"])
            #expect(try await inspector.taskActions(Inspector.Query(namespace: "default", run: "r2")).isEmpty)
            #expect(try await inspector.taskActions(Inspector.Query(namespace: "default", run: "r1")).count == 3)
            let json = try JSONValue.parse(try inspector.renderTaskActions(failed, format: .json, allNamespaces: false))
            #expect(json["kind"] == "List" && json["items"]?[0]?["status"]?["attempts"] == 3)
        }
    }

    @Test("describe taskaction: spec, a timeline with offsets and durations, three attempts with their Pods, the error and the Events in time order, compared with golden output")
    func describeGolden() async throws {
        try await ExecutorHarness.with(kubelet: false, start: false) { h in
            let created = try await Self.fixtures(h.client)
            let base = created["golden-a1"]!
            func t(_ offset: Double) -> String { KubeTime.format(base.addingTimeInterval(offset)) }
            let text = try await Self.inspector(h.client, now: base.addingTimeInterval(60)).describe("golden-a1", namespace: "default")
            #expect(text == """
            Name:          golden-a1
            Namespace:     default
            Run:           r1
            Action:        golden-a1
            Project:       flytesnacks
            Domain:        development
            Task type:     python
            Task:          wf.say_hello (version v1)
            Image:         cr.flyte.org/flyteorg/flytekit:py3.11
            Resources:     requests cpu=500m memory=256Mi; limits cpu=500m memory=256Mi
            Retries:       2 (3 attempts allowed)
            Phase:         Failed (attempt 3)
            Created:       \(t(0)) (60s ago)
            Duration:      29s

            Timeline:
              ATTEMPT   PHASE          AT                     OFFSET   FOR   MESSAGE
              1         Queued         \(t(1))   +1s      1s    task submitted to K8s
              1         Initializing   \(t(2))   +2s      2s
              1         Running        \(t(4))   +4s      6s
              2         Queued         \(t(10))   +10s     1s    restarting task
              2         Initializing   \(t(11))   +11s     1s
              2         Running        \(t(12))   +12s     8s
              3         Queued         \(t(20))   +20s     2s    restarting task
              3         Running        \(t(22))   +22s     8s
              3         Failed         \(t(30))   +30s     -     [golden-a1-2] terminated with exit code (1). Reason [Error]. Message: boom .

            Attempts:
              #1  \(t(1))  9s  ended Failed
                  phases: Queued 1s → Initializing 2s → Running 6s
                  Pod golden-a1-0: deleted (a failed attempt's child goes when the next attempt starts)
              #2  \(t(10))  10s  ended Failed
                  phases: Queued 1s → Initializing 1s → Running 8s
                  Pod golden-a1-1: deleted (a failed attempt's child goes when the next attempt starts)
              #3  \(t(20))  10s  ended Failed
                  phases: Queued 2s → Running 8s → Failed
                  Pod golden-a1-2: Failed (Error, exit 1), ran 9s

            Error:
              Code:     Error
              Kind:     USER
              Message:  [golden-a1-2] terminated with exit code (1). Reason [Error]. Message: boom .

            Events:
              AT                     OFFSET   TYPE      REASON               OBJECT                 MESSAGE
              \(t(15))   +15s     Warning   FailedPluginHandle   TaskAction/golden-a1   Plugin "pod" system error: the node went away
              \(t(21))   +21s     Normal    Started              Pod/golden-a1-2        Started container golden-a1-2

            """)
            // Colour for a terminal: the phase and the error in theirs.
            let colored = Inspector(client: h.client, style: TerminalStyle(colored: true), plugins: ExecutorCLI.registry(), now: { base.addingTimeInterval(60) })
            let painted = try await colored.describe("golden-a1", namespace: "default")
            #expect(painted.contains("\u{1B}[31mFailed\u{1B}[0m (attempt 3)"))
            #expect(TerminalStyle.detect(environment: ["NO_COLOR": "1", "TERM": "xterm"]).colored == false)
        }
    }

    static var binary: String { RunCommandTests.binary }

    /// Runs the executor binary with `arguments`; its exit code, standard output and error.
    static func execute(_ arguments: [String], seconds: Double = 60) async throws -> (code: Int32, out: String, err: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        let process = try ChildProcess.start(binary, arguments, environment: environment, stdout: .capture, stderr: .capture)
        let status = await process.exit(terminatingAfter: .seconds(seconds))
        return (status, String(decoding: process.output, as: UTF8.self), String(decoding: process.errorOutput, as: UTF8.self))
    }

    static func withKubeconfig(_ sandbox: KubeSandbox, authentication: KubeSandbox.Authentication = .clientCertificate, _ body: (String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inspect-\(UUID().uuidString).kubeconfig").path
        try sandbox.writeKubeconfig(to: path, authentication: authentication)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await body(path)
    }

    @Test("the binary: describe of a TaskAction that retried twice shows three attempts with their Pods and the final error; watch exits 0 on success and 1 on failure")
    func binaryEndToEnd() async throws {
        try await ExecutorHarness.with { h in
            try await Self.withKubeconfig(h.sandbox) { kubeconfig in
                try await h.create(Fixtures.taskAction("retried", template: Fixtures.template(outcome: "fail", duration: 0.05, startup: 0.05, retries: 2)))
                try await h.create(Fixtures.taskAction("stepped", template: Fixtures.template(manual: true)))
                // watch starts before the Pod moves: it sees the phases live and ends on its own.
                async let watched = Self.execute(["watch", "taskaction", "stepped", "--kubeconfig", kubeconfig])
                try await h.reaches("stepped", "Initializing")
                try await h.advance("stepped-0")
                try await h.reaches("stepped", "Executing")
                try await h.advance("stepped-0")
                let (code, out, err) = try await watched
                #expect(code == 0, "stderr: \(err)")
                let lines = out.split(separator: "\n").map(String.init)
                #expect(lines.contains { $0.contains("stepped  attempt 1  Running") })
                #expect(lines.last?.hasPrefix("stepped succeeded in ") == true, "\(lines)")

                _ = try await h.terminal("retried")
                let failed = try await Self.execute(["watch", "ta", "retried", "--kubeconfig", kubeconfig])
                #expect(failed.code == 1)
                #expect(failed.out.split(separator: "\n").last?.hasPrefix("retried failed in ") == true, "\(failed.out)")
                #expect(failed.out.contains("retried  attempt 3  Queued") && failed.out.contains("(3 attempts)"))

                let described = try await Self.execute(["describe", "taskaction", "retried", "--kubeconfig", kubeconfig])
                #expect(described.code == 0, "\(described.err)")
                let text = described.out
                for attempt in 1...3 {
                    #expect(text.contains("  #\(attempt)  "), "attempt \(attempt) listed")
                    #expect(text.contains("Pod retried-\(attempt - 1): "), "attempt \(attempt)'s Pod named")
                }
                #expect(text.contains("Pod retried-2: Failed (Error, exit 1)"))
                #expect(text.contains("Phase:         Failed (attempt 3)"))
                #expect(text.contains("Error:\n  Code:     Error\n  Kind:     USER"))
                #expect(!text.contains("\u{1B}["), "no colour when piped")
            }
        }
    }

    @Test("one-line errors with exit code 2: an unknown name suggests close ones, a missing CRD says so, and an RBAC denial names the rule")
    func errors() async throws {
        try await ExecutorHarness.with(kubelet: false, start: false) { h in
            try await Self.withKubeconfig(h.sandbox) { kubeconfig in
                _ = try await Self.fixtures(h.client)
                let unknown = try await Self.execute(["describe", "ta", "golden-a9", "--kubeconfig", kubeconfig])
                #expect(unknown.code == 2)
                #expect(unknown.err == "executor: taskaction \"golden-a9\" not found in namespace \"default\"; did you mean golden-a0, golden-a1, golden-a2?\n")
                let watch = try await Self.execute(["watch", "ta", "golden-x", "--kubeconfig", kubeconfig])
                #expect(watch.code == 2 && watch.err.contains("not found in namespace \"default\""))
                let apps = try await Self.execute(["get", "apps", "--kubeconfig", kubeconfig])
                #expect(apps.code == 2)
                #expect(apps.err == "executor: the App CRD (apps.flyte.org) is not installed in this cluster; install the executor (kubectl apply -f dist/install.yaml) or its CRD (executor manifests)\n")
                let bad = try await Self.execute(["get", "ta", "-o", "table2", "--kubeconfig", kubeconfig])
                #expect(bad.code != 0 && bad.err.contains("--output must be one of table, wide, json, yaml"))
            }
        }
        var options = KubeSandbox.Options()
        options.authorization = .rbac
        try await KubeSandbox.with(options) { sandbox, client in
            try await ExecutorHarness.installCRD(client)
            let token = sandbox.serviceAccountToken(namespace: "default", name: "nobody")
            try await Self.withKubeconfig(sandbox, authentication: .bearerToken(token)) { kubeconfig in
                let denied = try await Self.execute(["get", "taskactions", "--kubeconfig", kubeconfig])
                #expect(denied.code == 2)
                #expect(denied.err.hasPrefix("executor: RBAC denied: "), "\(denied.err)")
                #expect(denied.err.contains("cannot list resource \"taskactions\" in API group \"flyte.org\""), "\(denied.err)")
            }
            // A reader of TaskActions and Pods who may not list Events: describe works, and says why the Events are missing.
            let roles = ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true)
            let bindings = ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings", namespaced: true)
            _ = try await client.create(roles, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "ta-reader", "namespace": "default"],
                                                "rules": [["apiGroups": ["flyte.org"], "resources": ["taskactions"], "verbs": ["get", "list", "watch"]],
                                                          ["apiGroups": [""], "resources": ["pods"], "verbs": ["get"]]]])
            _ = try await client.create(bindings, ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "reader", "namespace": "default"],
                                                   "subjects": [["kind": "ServiceAccount", "name": "reader", "namespace": "default"]],
                                                   "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ta-reader"]])
            _ = try await Self.fixtures(client)
            try await Self.withKubeconfig(sandbox, authentication: .bearerToken(sandbox.serviceAccountToken(namespace: "default", name: "reader"))) { kubeconfig in
                let described = try await Self.execute(["describe", "ta", "golden-a1", "--kubeconfig", kubeconfig])
                #expect(described.code == 0, "\(described.err)")
                #expect(described.out.contains("Pod golden-a1-2: Failed (Error, exit 1)"))
                #expect(described.out.contains("Events:\n  (cannot read them: RBAC denied: events.events.k8s.io is forbidden: "), "\(described.out)")
            }
        }
    }
}
