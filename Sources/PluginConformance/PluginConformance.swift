import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeSandbox
import Logging
import TaskPlugins

/// The conformance kit: checks a ``KubernetesTaskPlugin`` against the contract and says which
/// rule it breaks. Use it in a plugin's tests:
///
/// ```swift
/// @Test func conforms() async throws {
///     let violations = try await PluginConformance.check(JobPlugin(), JobPlugin.fixtures)
///     #expect(violations.isEmpty, "\(violations)")
/// }
/// ```
public enum PluginConformance {
    /// Every rule: the offline ones, then those that need an API server (a KubeSandbox the kit
    /// starts and stops).
    public static func check<Plugin: KubernetesTaskPlugin>(_ plugin: Plugin, _ fixtures: ConformanceFixtures<Plugin.Child>) async throws -> [Violation] {
        var violations = checkOffline(plugin, fixtures)
        violations += try await checkAgainstSandbox(plugin, fixtures)
        return violations
    }

    /// A context for a TaskAction named `name` running `fixtures.template`.
    public static func context<Plugin: KubernetesTaskPlugin>(_ plugin: Plugin, _ fixtures: ConformanceFixtures<Plugin.Child>, name: String = "conformance-a0", uid: String = "uid-conformance") throws -> TaskExecutionContext {
        var spec = TaskActionSpec(runName: "conformance", project: "flytesnacks", domain: "development", actionName: name, taskType: fixtures.taskType, taskTemplate: try fixtures.template.serializedBytes(),
                                  inputUri: "s3://bucket/metadata/conformance/\(name)", runOutputBase: "s3://bucket/data/conformance")
        spec.envVars = ["CONFORMANCE": "1"]
        let action = TaskAction(metadata: ObjectMeta(name: name, namespace: "default", labels: ["flyte.org/run": "conformance"], annotations: ["example.com/note": "from the TaskAction"]), spec: spec)
        var withUID = action
        withUID.metadata.uid = uid
        return TaskExecutionContext(taskAction: withUID, template: fixtures.template, properties: plugin.properties, config: PluginConfig(), now: Date(timeIntervalSince1970: 1_764_000_000))
    }

    // MARK: Offline rules

    /// The rules that need no API server.
    public static func checkOffline<Plugin: KubernetesTaskPlugin>(_ plugin: Plugin, _ fixtures: ConformanceFixtures<Plugin.Child>) -> [Violation] {
        var violations: [Violation] = []
        let encoder = JSONValueEncoder()
        let context: TaskExecutionContext
        let built: Plugin.Child
        do {
            context = try Self.context(plugin, fixtures)
            built = try plugin.build(context)
            let again = try plugin.build(context)
            if (try? encoder.encode(built)) != (try? encoder.encode(again)) {
                violations.append(Violation(.deterministicBuild, "two builds from the same context differ"))
            }
        } catch {
            return [Violation(.deterministicBuild, "build threw for the fixture template: \(error)")]
        }
        if built.metadata.name != nil || built.metadata.generateName != nil || built.metadata.namespace != nil || !(built.metadata.ownerReferences ?? []).isEmpty {
            violations.append(Violation(.noIdentityInBuild, "build set name \(built.metadata.name ?? "nil"), namespace \(built.metadata.namespace ?? "nil") or owner references; the executor sets those"))
        }

        let longName = String(repeating: "long-name-", count: 8)
        if let long = try? Self.context(plugin, fixtures, name: longName) {
            // Without a maximum the name is the TaskAction's, which fits any object's name.
            let limit = plugin.properties.generatedNameMaxLength ?? 253
            if long.generatedName.count > limit || long.generatedName.count > 63 && plugin.properties.generatedNameMaxLength != nil {
                violations.append(Violation(.nameLength, "the generated name \(long.generatedName) (\(long.generatedName.count) characters) does not fit generatedNameMaxLength \(limit), or a maximum above 63 lets names outgrow what Services and labels take"))
            }
        }

        var child = built
        ChildMetadata.apply(to: &child, context: context, properties: plugin.properties)
        for (k, v) in context.labels where child.metadata.labels?[k] != v {
            violations.append(Violation(.executorMetadata, "label \(k)=\(v) is missing from the child"))
        }
        for (k, v) in child.metadata.labels ?? [:] where !Self.isLabelValue(v) {
            violations.append(Violation(.executorMetadata, "label \(k) has the value \"\(v)\", which the API server refuses (at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends)"))
        }
        for k in context.annotations.keys where child.metadata.annotations?[k] == nil {
            violations.append(Violation(.executorMetadata, "annotation \(k) is missing from the child"))
        }
        if !plugin.properties.disableInjectOwnerReferences, child.metadata.ownerReferences?.contains(where: { $0.uid == context.ownerReference.uid && $0.controller == true }) != true {
            violations.append(Violation(.executorMetadata, "the controller owner reference to the TaskAction is missing"))
        }

        var states = fixtures.states
        var empty = built
        if let cleared = try? Self.withoutStatus(empty) { empty = cleared }
        states["(empty status)"] = empty
        var judged: [String: PhaseInfo] = [:]
        for (name, state) in states.sorted(by: { $0.key < $1.key }) {
            let info = plugin.phase(of: state, relatedPod: nil, context: context)
            judged[name] = info
            let terminal = plugin.isTerminal(state)
            if info.phase.isFailure && info.error == nil {
                violations.append(Violation(.totalPhase, "state \(name): phase \(info.phase.name) carries no error"))
            }
            if info.phase == .undefined {
                violations.append(Violation(.totalPhase, "state \(name): phase is undefined"))
            }
            if info.phase == .success && !terminal {
                violations.append(Violation(.noEarlySuccess, "state \(name): phase is success but isTerminal is false"))
            }
            if terminal {
                if plugin.completionTime(state) == nil {
                    violations.append(Violation(.terminalAgreement, "state \(name): terminal without a completion time"))
                }
                if !(info.phase.isTerminal || info.phase.isFailure) {
                    violations.append(Violation(.terminalAgreement, "state \(name): terminal but its phase is \(info.phase.name)"))
                }
            }
            if let transform = plugin.cacheTransform {
                var cached = state
                cached.metadata.managedFields = nil
                transform(&cached)
                if plugin.phase(of: cached, relatedPod: nil, context: context) != info || plugin.isTerminal(cached) != terminal || plugin.completionTime(cached) != plugin.completionTime(state)
                    || plugin.relatedPod?.name(cached) != plugin.relatedPod?.name(state)
                {
                    violations.append(Violation(.cacheTransform, "state \(name): the cached child is judged differently from the child"))
                }
            }
            if terminal, let finished = plugin.finishedCacheTransform {
                var cached = state
                cached.metadata.managedFields = nil
                plugin.cacheTransform?(&cached)
                var kept = cached
                finished(&kept)
                if kept.metadata != cached.metadata || !plugin.isTerminal(kept) {
                    violations.append(Violation(.finishedView, "state \(name): the finished view changes the child's metadata or leaves it not terminal"))
                }
            }
        }
        // A change that wakes no round must be one the round would have judged the same.
        let ordered = states.sorted(by: { $0.key < $1.key })
        for (from, old) in ordered {
            for (to, new) in ordered where from != to && !plugin.changeNeedsRound(from: old, to: new) {
                // The log context rides on the next event, built from the Pod of that round: a
                // change to it alone needs no round of its own.
                var (before, after) = (judged[from]!, judged[to]!)
                before.logContext = nil
                after.logContext = nil
                if before != after || plugin.isTerminal(old) != plugin.isTerminal(new) {
                    violations.append(Violation(.needlessChange, "from state \(from) to \(to): changeNeedsRound says no round is needed, yet the phase goes from \(before.phase.name) (\(before.reason)) to \(after.phase.name) (\(after.reason))"))
                }
            }
        }
        return violations
    }

    static func isLabelValue(_ value: String) -> Bool {
        if value.isEmpty { return true }
        guard value.count <= 63, let first = value.unicodeScalars.first, let last = value.unicodeScalars.last else { return false }
        func alphanumeric(_ c: Unicode.Scalar) -> Bool { c.properties.isASCIIHexDigit || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) }
        return alphanumeric(first) && alphanumeric(last) && value.unicodeScalars.allSatisfy { alphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    static func withoutStatus<Child: KubernetesObject>(_ child: Child) throws -> Child {
        var json = try JSONValueEncoder().encode(child)
        json["status"] = nil
        return try JSONValueDecoder().decode(Child.self, from: json)
    }

    // MARK: Rules against KubeSandbox

    /// The rules that need an API server: abort, and a TaskAction run end to end by the
    /// executor while the kit plays the child's operator with ``ConformanceFixtures/sequence``.
    public static func checkAgainstSandbox<Plugin: KubernetesTaskPlugin>(_ plugin: Plugin, _ fixtures: ConformanceFixtures<Plugin.Child>, timeout: Duration = .seconds(60)) async throws -> [Violation] {
        try await KubeSandbox.with { _, client in
            let crds = ResourceType.customResourceDefinitions
            for crd in fixtures.crds { _ = try await client.create(crds, crd) }
            _ = try await client.create(crds, TaskActionSchema.crd)
            var violations = try await checkAbort(plugin, fixtures, client: client)
            violations += try await checkEndToEnd(plugin, fixtures, client: client, timeout: timeout)
            return violations
        }
    }

    static func checkAbort<Plugin: KubernetesTaskPlugin>(_ plugin: Plugin, _ fixtures: ConformanceFixtures<Plugin.Child>, client: KubernetesClient) async throws -> [Violation] {
        let context = try Self.context(plugin, fixtures, name: "conformance-abort")
        var child = try plugin.build(context)
        ChildMetadata.apply(to: &child, context: context, properties: plugin.properties)
        child.metadata.ownerReferences = nil  // no TaskAction exists here to own it
        let created: Plugin.Child
        do {
            created = try await client.create(child)
        } catch {
            return [Violation(.abortAccepted, "the API server refused the built child: \(error)")]
        }
        do {
            switch plugin.abortBehavior(for: created, context: context) {
            case .delete:
                try await client.delete(Plugin.Child.self, name: created.metadata.name ?? "", namespace: created.metadata.namespace)
            case .patch(let patch):
                _ = try await client.patch(Plugin.Child.resourceType, name: created.metadata.name ?? "", namespace: created.metadata.namespace, .merge(patch))
            }
        } catch {
            return [Violation(.abortAccepted, "the abort was refused: \(error)")]
        }
        return []
    }

    static func checkEndToEnd<Plugin: KubernetesTaskPlugin>(_ plugin: Plugin, _ fixtures: ConformanceFixtures<Plugin.Child>, client: KubernetesClient, timeout: Duration) async throws -> [Violation] {
        var logger = Logger(label: "conformance")
        logger.logLevel = .warning
        let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "0", healthProbeBindAddress: "0", gracefulShutdownTimeout: .seconds(5)), logger: logger)
        _ = Executor(manager: manager, config: ExecutorConfig(), plugins: [.plugin(plugin)], logger: logger)
        let run = Task { try await manager.run() }
        defer { run.cancel() }
        let context = try Self.context(plugin, fixtures, name: "conformance-e2e")
        var action = context.taskAction
        action.metadata.uid = nil
        _ = try await client.create(action)
        let deadline = ContinuousClock.now + timeout
        let type = Plugin.Child.resourceType
        let hasStatus = (try? await client.serverResources(groupVersion: type.apiVersion))??.resources.contains { $0.name == "\(type.plural)/status" } ?? false
        // Wait for the child, then play its operator.
        while (try? await client.get(Plugin.Child.self, name: context.generatedName, namespace: "default")) == nil {
            if ContinuousClock.now > deadline { return [Violation(.endToEnd, "the executor did not create \(type.kind) default/\(context.generatedName)")] }
            try await Task.sleep(for: .milliseconds(50))
        }
        for patch in fixtures.sequence {
            _ = try await client.patch(type, name: context.generatedName, namespace: "default", .merge(["status": patch]), subresource: hasStatus ? "status" : nil)
        }
        var last: TaskAction?
        while ContinuousClock.now < deadline {
            last = try? await client.get(TaskAction.self, name: "conformance-e2e", namespace: "default")
            if last?.status?.phaseHistory?.last?.phase == fixtures.expectedFinalPhase { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let history = last?.status?.phaseHistory?.map(\.phase) ?? []
        guard history.last == fixtures.expectedFinalPhase else {
            return [Violation(.endToEnd, "the TaskAction's phaseHistory is \(history), not ending in \(fixtures.expectedFinalPhase)")]
        }
        let expectedCondition = fixtures.expectedFinalPhase == "Completed" ? "Succeeded" : "Failed"
        if last?.status?.conditions?.contains(where: { $0.type == expectedCondition && $0.status == "True" }) != true {
            return [Violation(.endToEnd, "the TaskAction ended \(fixtures.expectedFinalPhase) without the condition \(expectedCondition)=True")]
        }
        return []
    }
}
