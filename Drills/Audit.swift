import ExecutorAPI
import Foundation
import KubeClient
import KubeSandbox
import TaskPlugins

/// The state of the world after a drill, checked object by object: not what the logs say.
struct Audit {
    /// Not terminal.
    var lost: [String] = []
    /// Pods created beyond one per attempt.
    var duplicates = 0
    /// Everything else wrong, one line each.
    var problems: [String] = []
    /// What the lost and duplicated ones look like, for the investigation (`DRILL_DEBUG=1`).
    var details: [String] = []

    /// For every named TaskAction: terminal with consistent conditions; `phaseHistory` in time
    /// order with no phase twice in a row; `attempts` equal to the Pods ever created for it
    /// (the sandbox counts creates per name) and each attempt's Pod made once; no finalizer on
    /// one being deleted; and no Pod without an owner.
    static func run(_ world: DrillWorld, names: [String]) async throws -> Audit {
        var audit = Audit()
        let items = try await world.client.listAll(TaskAction.resourceType, namespace: "default").items
        let byName = Dictionary(try items.map { try JSONValueDecoder().decode(TaskAction.self, from: $0) }.map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let creates = await world.sandbox.createCounts(Pod.resourceType)
        for name in names {
            guard let taskAction = byName[name] else {
                audit.problems.append("\(name): gone")
                continue
            }
            let status = taskAction.status ?? TaskActionStatus()
            if !taskAction.isTerminal {
                audit.lost.append(name)
                let last = status.phaseHistory?.last.map { "\($0.phase) at \($0.occurredAt)" } ?? "no phase"
                let podName = ChildNames.generated(taskAction: name, attempt: status.attempt)
                let pod = try? await world.client.get(Pod.self, name: podName, namespace: "default")
                audit.details.append("\(name): \(last), attempt \(status.attempt), systemFailures \(status.systemFailures ?? 0), pluginPhase \(status.pluginPhase ?? "-"), finalizers \(taskAction.metadata.finalizers ?? []), pod \(podName) \(pod.map { "\($0.status?.phase ?? "?") rv \($0.metadata.resourceVersion ?? "")" } ?? "absent") made \(creates["default/\(podName)"] ?? 0)×, rv \(taskAction.metadata.resourceVersion ?? "")")
            }
            let conditions = status.conditions ?? []
            let succeeded = conditions.contains { $0.type == "Succeeded" && $0.status == "True" }
            let failed = conditions.contains { $0.type == "Failed" && $0.status == "True" }
            if succeeded && failed { audit.problems.append("\(name): both Succeeded and Failed") }
            if taskAction.isTerminal, conditions.contains(where: { $0.type == "Progressing" && $0.status == "True" }) { audit.problems.append("\(name): terminal yet Progressing") }
            let history = status.phaseHistory ?? []
            for (a, b) in zip(history, history.dropFirst()) {
                // A Queued `restarting task` starts an attempt, even right after another Queued
                // (an attempt whose Pod failed before any of its phases was seen).
                let startsAttempt = b.phase == "Queued" && b.message == "restarting task"
                if a.phase == b.phase, !startsAttempt { audit.problems.append("\(name): \(a.phase) recorded twice in a row") }
                if let ta = KubeTime.parse(a.occurredAt), let tb = KubeTime.parse(b.occurredAt), tb < ta { audit.problems.append("\(name): phaseHistory runs backwards at \(b.phase)") }
            }
            // One restart entry per attempt after the first: none lost, none twice.
            let restarts = history.filter { $0.phase == "Queued" && $0.message == "restarting task" }.count
            if taskAction.isTerminal, restarts != status.attempt - 1 {
                audit.problems.append("\(name): \(restarts) restart(s) in phaseHistory for \(status.attempt) attempt(s)")
            }
            if taskAction.isTerminal, let first = history.first?.phase, first != "Queued" {
                audit.problems.append("\(name): history starts with \(first), not Queued")
                audit.details.append("\(name): history \(history.map { "\($0.phase)@\($0.occurredAt) \($0.message ?? "")" }), attempts \(status.attempt), systemFailures \(status.systemFailures ?? 0), created \(taskAction.metadata.creationTimestamp ?? "")")
            }
            if taskAction.isTerminal, let last = history.last?.phase, !["Completed", "PermanentFailure"].contains(last) {
                audit.problems.append("\(name): terminal with last phase \(last)")
            }
            // The outcome the drill's task asked for (DrillWorld.taskAction): every tenth fails
            // twice, the rest succeed at once.
            if taskAction.isTerminal, let index = name.split(separator: "-").last.flatMap({ Int($0) }) {
                let fails = index % 10 == 9
                let expected = fails ? ("Failed", 2) : ("Succeeded", 1)
                if !conditions.contains(where: { $0.type == expected.0 && $0.status == "True" }) || status.attempt != expected.1 {
                    audit.problems.append("\(name): ended \(succeeded ? "Succeeded" : failed ? "Failed" : "?") after \(status.attempt) attempt(s); expected \(expected.0) after \(expected.1)")
                }
            }
            // Each attempt's Pod made exactly once, and none for an attempt that never was.
            let attempts = status.attempt
            for attempt in 1...(attempts + 1) {
                let count = creates["default/\(ChildNames.generated(taskAction: name, attempt: attempt))"] ?? 0
                if attempt > attempts {
                    if count > 0 { audit.problems.append("\(name): a Pod for attempt \(attempt) of \(attempts)") }
                } else if count > 1 {
                    audit.duplicates += count - 1
                    audit.details.append("\(name): attempt \(attempt)'s Pod made \(count)×; history \((status.phaseHistory ?? []).map { "\($0.phase)@\($0.occurredAt)" }), systemFailures \(status.systemFailures ?? 0)")
                } else if count == 0, taskAction.isTerminal {
                    audit.problems.append("\(name): attempt \(attempt) has no Pod")
                }
            }
            if taskAction.metadata.deletionTimestamp != nil, !(taskAction.metadata.finalizers ?? []).isEmpty {
                audit.problems.append("\(name): stuck deleting with finalizers \(taskAction.metadata.finalizers ?? [])")
            }
        }
        let pods = try await world.client.listAll(Pod.resourceType, namespace: "default").items
        for pod in pods where (pod["metadata"]?["ownerReferences"]?.arrayValue ?? []).isEmpty {
            audit.problems.append("pod \(pod["metadata"]?["name"]?.stringValue ?? "?"): no owner")
        }
        return audit
    }

    var passed: Bool { lost.isEmpty && duplicates == 0 && problems.isEmpty }
}
