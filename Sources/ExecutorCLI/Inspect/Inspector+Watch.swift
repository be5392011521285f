import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient

extension Inspector {
    /// How a watch ended.
    enum WatchOutcome: Equatable {
        /// Every watched TaskAction succeeded.
        case succeeded
        /// At least one failed, timed out, was aborted or was deleted.
        case failed
    }

    /// Prints the phase changes of the TaskAction `name`, or of those `query` selects, as they
    /// happen: what is already recorded first, then from a watch (resumed after the server
    /// ends it, re-listed after a 410). Ends once every one of them is terminal (a selection
    /// that matches nothing yet waits for its first TaskAction).
    func watch(name: String?, query: Query, emit: @Sendable (String) -> Void) async throws -> WatchOutcome {
        var query = query
        var fieldSelector: String?
        if let name, let namespace = query.namespace {
            _ = try await taskAction(name, namespace: namespace)  // not there: an error naming close names
            fieldSelector = "metadata.name=\(name)"
        }
        var seen: [String: Int] = [:]
        var terminal: [String: Bool] = [:]  // key → succeeded
        var last: [String: TaskAction] = [:]

        func selected(_ taskAction: TaskAction) -> Bool {
            (name == nil || taskAction.metadata.name == name) && (query.run.map { $0 == taskAction.spec.runName } ?? true)
        }
        func show(_ taskAction: TaskAction) {
            guard selected(taskAction) else { return }
            let key = taskAction.key
            last[key] = taskAction
            let view = TaskActionView(taskAction)
            let steps = view.steps(now: now())
            let from = seen[key] ?? 0
            if steps.count > from {
                for step in steps[from...] { emit(line(taskAction, step: step)) }
                seen[key] = steps.count
            } else if steps.isEmpty, view.isTerminal, terminal[key] == nil, let failed = view.terminalCondition {
                emit("\(KubeTime.format(KubeTime.parse(failed.lastTransitionTime) ?? now()))  \(taskAction.metadata.name ?? "")  \(style.phase("Failed"))  \(failed.reason): \(oneLine(failed.message))")
            }
            if view.isTerminal, terminal[key] == nil {
                terminal[key] = view.phase == "Succeeded"
                emit(summary(view))
            }
        }
        func done() -> Bool {
            !last.isEmpty && last.keys.allSatisfy { terminal[$0] != nil }
        }
        func outcome() -> WatchOutcome { terminal.values.allSatisfy { $0 } ? .succeeded : .failed }

        query.phase = nil
        var version: String
        (version) = try await relist(query: query, fieldSelector: fieldSelector, show: show)
        if done() { return outcome() }
        while true {
            try Task.checkCancellation()
            let stream: WatchStream<TaskAction>
            do {
                stream = try await client.watch(TaskAction.self, namespace: query.namespace, options: WatchOptions(labelSelector: query.labelSelector, fieldSelector: fieldSelector, resourceVersion: version))
            } catch let error as KubeAPIError where error.isGone {
                version = try await relist(query: query, fieldSelector: fieldSelector, show: show)
                if done() { return outcome() }
                continue
            } catch {
                throw InspectError.explain(error, resource: TaskAction.resourceType, namespace: query.namespace)
            }
            do {
                for try await event in stream {
                    switch event {
                    case .added(let taskAction), .modified(let taskAction):
                        version = taskAction.metadata.resourceVersion ?? version
                        show(taskAction)
                    case .deleted(let taskAction):
                        version = taskAction.metadata.resourceVersion ?? version
                        guard selected(taskAction), terminal[taskAction.key] == nil else { continue }
                        show(taskAction)
                        if terminal[taskAction.key] == nil {
                            terminal[taskAction.key] = false
                            emit("\(KubeTime.format(now()))  \(taskAction.metadata.name ?? "")  \(style.paint("deleted", .red)) before it ended")
                        }
                    case .bookmark(let resourceVersion):
                        version = resourceVersion
                    }
                    if done() { return outcome() }
                }
            } catch let error as KubeAPIError where error.isGone {
                version = try await relist(query: query, fieldSelector: fieldSelector, show: show)
                if done() { return outcome() }
            }
            // The server ended the watch (its timeout): resume from the last version seen.
        }
    }

    private func relist(query: Query, fieldSelector: String?, show: (TaskAction) -> Void) async throws -> String {
        do {
            let list = try await client.listAll(TaskAction.resourceType, namespace: query.namespace, options: ListOptions(labelSelector: query.labelSelector, fieldSelector: fieldSelector))
            let items = try list.items.map { try JSONValueDecoder().decode(TaskAction.self, from: $0) }
            for taskAction in items.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) { show(taskAction) }
            return list.resourceVersion
        } catch {
            throw InspectError.explain(error, resource: TaskAction.resourceType, namespace: query.namespace)
        }
    }

    private func line(_ taskAction: TaskAction, step: TaskActionView.Step) -> String {
        let phase = style.phase(step.phase) + String(repeating: " ", count: max(1, 13 - step.phase.count))
        let message = step.message.map { "  \($0)" } ?? ""
        return "\(KubeTime.format(step.at))  \(taskAction.metadata.name ?? "")  attempt \(step.attempt)  \(phase)\(message)".trimmingCharacters(in: .whitespaces)
    }

    private func summary(_ view: TaskActionView) -> String {
        let name = view.taskAction.metadata.name ?? ""
        let took = view.duration(now: now()).map { " in \(HumanDuration.format($0))" } ?? ""
        let attempts = view.attempt == 1 ? "1 attempt" : "\(view.attempt) attempts"
        if view.phase == "Succeeded" { return "\(name) \(style.paint("succeeded", .green))\(took) (\(attempts))" }
        let error = view.status.errorState.map { " [\($0.code ?? "")] \(oneLine($0.message ?? ""))" } ?? view.terminalCondition.map { " \($0.reason): \(oneLine($0.message))" } ?? ""
        return "\(name) \(style.paint(view.phase.lowercased(), .red))\(took) (\(attempts)):\(error)"
    }
}
